"""SDK v3: ModelTrainer.train() with source_code and logs, then TrainingJob.get_all().
argv: base-job-name train-s3-uri source-dir. Prints one JSON line for the test to check."""

import json
import logging
import sys

from sagemaker.core.resources import TrainingJob
from sagemaker.train import ModelTrainer
from sagemaker.train.configs import Compute, InputData, SourceCode

# sagemaker-core leaves logging to the application: without a handler at INFO, train(logs=True) prints
# the job's log lines nowhere.
logging.basicConfig(level=logging.INFO, stream=sys.stdout)
base_name, train_uri, source_dir = sys.argv[1:4]
trainer = ModelTrainer(
    training_image="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
    source_code=SourceCode(source_dir=source_dir, entry_script="train.py"),
    compute=Compute(instance_type="ml.m5.large", instance_count=1),
    base_job_name=base_name,
)
trainer.train(
    input_data_config=[InputData(channel_name="train", data_source=train_uri)], wait=True, logs=True
)
job = trainer._latest_training_job
names = [j.training_job_name for j in TrainingJob.get_all()]
print(
    json.dumps(
        {
            "job": job.training_job_name,
            "status": job.training_job_status,
            "model_data": job.model_artifacts.s3_model_artifacts,
            "all_jobs": names,
        }
    )
)
