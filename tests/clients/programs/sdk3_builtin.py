"""SDK v3: ModelTrainer.train() of the built-in XGBoost image with logs, then TrainingJob.get_all().
argv: base-job-name train-s3-uri. Prints one JSON line for the test to check."""

import json
import logging
import sys

from sagemaker.core import image_uris
from sagemaker.core.resources import TrainingJob
from sagemaker.train import ModelTrainer
from sagemaker.train.configs import Compute, InputData

# sagemaker-core leaves logging to the application: without a handler at INFO, train(logs=True) prints
# the job's log lines nowhere.
logging.basicConfig(level=logging.INFO, stream=sys.stdout)
base_name, train_uri = sys.argv[1:3]
trainer = ModelTrainer(
    training_image=image_uris.retrieve("xgboost", "us-east-1", "1.7-1"),
    hyperparameters={"objective": "binary:logistic", "num_round": "10", "eval_metric": "auc"},
    compute=Compute(instance_type="ml.m5.large", instance_count=1),
    base_job_name=base_name,
)
trainer.train(
    input_data_config=[InputData(channel_name="train", data_source=train_uri, content_type="text/csv")],
    wait=True,
    logs=True,
)
job = trainer._latest_training_job
print(
    json.dumps(
        {
            "job": job.training_job_name,
            "status": job.training_job_status,
            "model_data": job.model_artifacts.s3_model_artifacts,
            "all_jobs": [j.training_job_name for j in TrainingJob.get_all()],
        }
    )
)
