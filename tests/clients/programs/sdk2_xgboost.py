"""SDK v2: built-in XGBoost Estimator.fit() with logs, Estimator.attach, TrainingJobAnalytics (CloudWatch).
argv: job-name train-s3-uri.

Prints one JSON line with what the SDK reported, for the test to check.
"""

import json
import sys

import sagemaker
from sagemaker import image_uris
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput

job_name, train_uri = sys.argv[1], sys.argv[2]
session = sagemaker.Session()
region = session.boto_region_name
image = image_uris.retrieve("xgboost", region, "1.7-1")
estimator = Estimator(
    image_uri=image,
    instance_count=1,
    instance_type="ml.m5.large",
    hyperparameters={"objective": "binary:logistic", "num_round": "10", "eval_metric": "auc"},
    sagemaker_session=session,
)  # no role: SageMaker.TrainingJob.RoleArn in the config file supplies it
estimator.fit({"train": TrainingInput(train_uri, content_type="text/csv")}, job_name=job_name, logs="All")
attached = Estimator.attach(job_name, sagemaker_session=session)
frame = sagemaker.TrainingJobAnalytics(
    job_name, metric_names=["train:auc"], sagemaker_session=session
).dataframe()
print(
    json.dumps(
        {
            "image": image,
            "model_data": estimator.model_data,
            "attached_job": attached.latest_training_job.name,
            "attached_image": attached.image_uri,
            "attached_hyperparameters": attached.hyperparameters(),
            "status": session.describe_training_job(job_name)["TrainingJobStatus"],
            "analytics_columns": sorted(frame.columns),
            "analytics_metrics": sorted(set(frame["metric_name"])),
            "analytics_values": [float(v) for v in frame["value"]],
        }
    )
)
