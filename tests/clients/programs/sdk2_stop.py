"""SDK v2: start a script-mode job without waiting, stop() it while it runs, wait for the end.
argv: job-name source-dir. Prints one JSON line for the test to check."""

import json
import sys
import time

import sagemaker
from sagemaker.sklearn import SKLearn

job_name, source_dir = sys.argv[1:3]
session = sagemaker.Session()
estimator = SKLearn(
    entry_point="sleep.py",
    source_dir=source_dir,
    framework_version="1.2-1",
    py_version="py3",
    instance_type="ml.m5.large",
    instance_count=1,
    sagemaker_session=session,
)
estimator.fit(job_name=job_name, wait=False)
deadline = time.time() + 60
while session.describe_training_job(job_name)["SecondaryStatus"] != "Training" and time.time() < deadline:
    time.sleep(0.5)
status_before = session.describe_training_job(job_name)["TrainingJobStatus"]
estimator.latest_training_job.stop()
deadline = time.time() + 60
# Not latest_training_job.wait(): v2 treats "Stopping" as finished and raises on it (on AWS too).
while session.describe_training_job(job_name)["TrainingJobStatus"] == "Stopping" and time.time() < deadline:
    time.sleep(1)
description = session.describe_training_job(job_name)
print(
    json.dumps(
        {
            "status_before": status_before,
            "status": description["TrainingJobStatus"],
            "secondary": description["SecondaryStatus"],
        }
    )
)
