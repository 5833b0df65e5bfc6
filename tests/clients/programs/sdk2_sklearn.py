"""SDK v2: an SKLearn script-mode estimator with source_dir, fit() with logs. argv: job-name train-s3-uri
source-dir. Prints one JSON line for the test to check."""

import json
import sys

import sagemaker
from sagemaker.inputs import TrainingInput
from sagemaker.sklearn import SKLearn

job_name, train_uri, source_dir = sys.argv[1:4]
session = sagemaker.Session()
estimator = SKLearn(
    entry_point="train.py",
    source_dir=source_dir,
    framework_version="1.2-1",
    py_version="py3",
    instance_type="ml.m5.large",
    instance_count=1,
    sagemaker_session=session,
)
estimator.fit({"train": TrainingInput(train_uri, content_type="text/csv")}, job_name=job_name, logs="All")
description = session.describe_training_job(job_name)
print(
    json.dumps(
        {
            "status": description["TrainingJobStatus"],
            "model_data": estimator.model_data,
            "program": description["HyperParameters"].get("sagemaker_program"),
            "submit_dir": description["HyperParameters"].get("sagemaker_submit_directory"),
        }
    )
)
