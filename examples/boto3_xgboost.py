"""Plain boto3 against trainplane: upload data, train built-in XGBoost, wait, read the logs.

Unmodified AWS code: endpoints, credentials and region come from the environment that
`eval "$(trainplane env)"` sets up.
"""

import io

import boto3
import numpy as np
from sklearn.datasets import load_breast_cancer

BUCKET = "trainplane-examples"
NAME = "boto3-xgboost-example"

features, labels = load_breast_cancer(return_X_y=True)
buffer = io.StringIO()
np.savetxt(buffer, np.column_stack([labels, features]), delimiter=",", fmt="%.8g")

s3 = boto3.client("s3")
if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
    s3.create_bucket(Bucket=BUCKET)
s3.put_object(Bucket=BUCKET, Key="train/data.csv", Body=buffer.getvalue().encode())

sagemaker = boto3.client("sagemaker")
sagemaker.create_training_job(
    TrainingJobName=NAME,
    RoleArn="arn:aws:iam::123456789012:role/SageMakerRole",
    AlgorithmSpecification={
        "TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        "TrainingInputMode": "File",
    },
    HyperParameters={"objective": "binary:logistic", "num_round": "20", "eval_metric": "auc"},
    InputDataConfig=[
        {
            "ChannelName": "train",
            "ContentType": "text/csv",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/train/"}},
        }
    ],
    OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/output"},
    ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
    StoppingCondition={"MaxRuntimeInSeconds": 3600},
)
sagemaker.get_waiter("training_job_completed_or_stopped").wait(
    TrainingJobName=NAME, WaiterConfig={"Delay": 2, "MaxAttempts": 300}
)
description = sagemaker.describe_training_job(TrainingJobName=NAME)
print(description["TrainingJobStatus"], description["ModelArtifacts"]["S3ModelArtifacts"])
print({m["MetricName"]: m["Value"] for m in description["FinalMetricDataList"]})

logs = boto3.client("logs")
streams = logs.describe_log_streams(
    logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=f"{NAME}/"
)
stream = streams["logStreams"][0]["logStreamName"]
events = logs.get_log_events(
    logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=stream, startFromHead=True
)
print(f"{stream}: {len(events['events'])} log events, last: {events['events'][-1]['message']}")
