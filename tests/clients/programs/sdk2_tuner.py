"""SDK v2: HyperparameterTuner over the built-in XGBoost Estimator: fit() and wait, best_training_job(),
best_estimator(), HyperparameterTuner.attach, analytics().dataframe(). argv: tuning-job-name train-s3-uri.

Prints one JSON line with what the SDK reported, for the test to check.
"""

import json
import sys

import sagemaker
from sagemaker import image_uris
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.tuner import ContinuousParameter, HyperparameterTuner, IntegerParameter

job_name, train_uri = sys.argv[1], sys.argv[2]
session = sagemaker.Session()
image = image_uris.retrieve("xgboost", session.boto_region_name, "1.7-1")
estimator = Estimator(
    image_uri=image,
    instance_count=1,
    instance_type="ml.m5.large",
    hyperparameters={"objective": "binary:logistic", "num_round": "5", "eval_metric": "auc"},
    sagemaker_session=session,
)
tuner = HyperparameterTuner(
    estimator,
    objective_metric_name="train:auc",  # one of the built-in algorithm's metrics: no metric_definitions
    hyperparameter_ranges={"eta": ContinuousParameter(0.05, 0.5), "max_depth": IntegerParameter(1, 4)},
    strategy="Bayesian",
    max_jobs=3,
    max_parallel_jobs=2,
)
tuner.fit({"train": TrainingInput(train_uri, content_type="text/csv")}, job_name=job_name)  # waits
best = tuner.best_training_job()
best_estimator = tuner.best_estimator()  # Estimator.attach of the best child
attached = HyperparameterTuner.attach(job_name, sagemaker_session=session)
frame = tuner.analytics().dataframe()
description = session.sagemaker_client.describe_hyper_parameter_tuning_job(
    HyperParameterTuningJobName=job_name
)
# A tuning job created by plain boto3 (no TrainingJobEarlyStoppingType, one kind of range) attaches too:
# attach reads the defaults Describe fills in.
client, plain_name = session.sagemaker_client, f"{job_name}-boto3"
client.create_hyper_parameter_tuning_job(
    HyperParameterTuningJobName=plain_name,
    HyperParameterTuningJobConfig={
        "Strategy": "Random",
        "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "train:auc"},
        "ResourceLimits": {"MaxNumberOfTrainingJobs": 1, "MaxParallelTrainingJobs": 1},
        "ParameterRanges": {
            "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.1", "MaxValue": "0.3"}]
        },
    },
    TrainingJobDefinition={
        "StaticHyperParameters": {"objective": "binary:logistic", "num_round": "2"},
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "ContentType": "text/csv",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": train_uri}},
            }
        ],
        "OutputDataConfig": description["TrainingJobDefinition"]["OutputDataConfig"],
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    },
)
plain = HyperparameterTuner.attach(plain_name, sagemaker_session=session)  # its one short child may run on
print(
    json.dumps(
        {
            "status": description["HyperParameterTuningJobStatus"],
            "completed": description["TrainingJobStatusCounters"]["Completed"],
            "best": best,
            "best_model_data": best_estimator.model_data,
            "attached_objective": attached.objective_metric_name,
            "attached_strategy": attached.strategy,
            "attached_max_jobs": attached.max_jobs,
            "attached_max_parallel_jobs": attached.max_parallel_jobs,
            "attached_ranges": sorted(
                attached.hyperparameter_ranges()["ContinuousParameterRanges"][0].items()
            ),
            "attached_image": attached.estimator.image_uri,
            "attached_instance_type": attached.estimator.instance_type,
            "attached_hyperparameters": attached.estimator.hyperparameters(),
            "plain_early_stopping": plain.early_stopping_type,
            "plain_ranges": {k: [r["Name"] for r in v] for k, v in plain.hyperparameter_ranges().items()},
            "frame_columns": sorted(frame.columns),
            "frame_jobs": sorted(frame["TrainingJobName"]),
            "frame_statuses": sorted(set(frame["TrainingJobStatus"])),
            "frame_objectives": [float(v) for v in frame["FinalObjectiveValue"]],
            "frame_best_objective": float(
                frame.loc[frame["TrainingJobName"] == best, "FinalObjectiveValue"].iloc[0]
            ),
            "frame_max_depth": sorted(float(v) for v in frame["max_depth"]),
        }
    )
)
