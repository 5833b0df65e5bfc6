"""SDK v3: HyperparameterTuner over a ModelTrainer of the built-in XGBoost image: tune() and wait,
best_training_job(), analytics().dataframe(), and the tuning job's resources (HyperParameterTuningJob
get_all / get_all_training_jobs, TrainingJob.get of the best). argv: tuning-job-name train-s3-uri.

Prints one JSON line with what the SDK reported, for the test to check.
"""

import json
import sys

from sagemaker.core import image_uris
from sagemaker.core.parameter import ContinuousParameter, IntegerParameter
from sagemaker.core.resources import HyperParameterTuningJob, TrainingJob
from sagemaker.train import ModelTrainer
from sagemaker.train.configs import Compute, InputData
from sagemaker.train.tuner import HyperparameterTuner

job_name, train_uri = sys.argv[1:3]
trainer = ModelTrainer(
    training_image=image_uris.retrieve("xgboost", "us-east-1", "1.7-1"),
    hyperparameters={"objective": "binary:logistic", "num_round": "5", "eval_metric": "auc"},
    compute=Compute(instance_type="ml.m5.large", instance_count=1),
)
tuner = HyperparameterTuner(
    model_trainer=trainer,
    objective_metric_name="train:auc",  # one of the built-in algorithm's metrics: no metric_definitions
    hyperparameter_ranges={"eta": ContinuousParameter(0.05, 0.5), "max_depth": IntegerParameter(1, 4)},
    strategy="Random",
    max_jobs=3,
    max_parallel_jobs=2,
)
tuner.tune(
    inputs=[InputData(channel_name="train", data_source=train_uri, content_type="text/csv")],
    job_name=job_name,
    wait=True,
)
tuning_job = tuner.describe()  # a refreshed HyperParameterTuningJob resource
best = tuner.best_training_job()
best_job = TrainingJob.get(best)
frame = tuner.analytics().dataframe()
ranked = list(tuning_job.get_all_training_jobs(sort_by="FinalObjectiveMetricValue", sort_order="Descending"))
definition = tuning_job.training_job_definition
best_summary = tuning_job.best_training_job
print(
    json.dumps(
        {
            "status": tuning_job.hyper_parameter_tuning_job_status,
            "completed": tuning_job.training_job_status_counters.completed,
            "succeeded": tuning_job.objective_status_counters.succeeded,
            "best": best,
            "best_status": best_job.training_job_status,
            "best_model_data": best_job.model_artifacts.s3_model_artifacts,
            "best_hyperparameters": best_job.hyper_parameters,
            "static_hyperparameters": definition.static_hyper_parameters,
            "instance_type": definition.resource_config.instance_type,
            "best_objective": best_summary.final_hyper_parameter_tuning_job_objective_metric.value,
            "ranked": [s.training_job_name for s in ranked],
            "ranked_objectives": [s.final_hyper_parameter_tuning_job_objective_metric.value for s in ranked],
            "listed": [j.hyper_parameter_tuning_job_name for j in HyperParameterTuningJob.get_all()],
            "frame_jobs": sorted(frame["TrainingJobName"]),
            "frame_objectives": [float(v) for v in frame["FinalObjectiveValue"]],
            "frame_columns": sorted(frame.columns),
        }
    )
)
