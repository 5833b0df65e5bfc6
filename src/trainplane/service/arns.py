"""ARNs in SageMaker's form; names are echoed exactly as given."""

from __future__ import annotations


def training_job_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:sagemaker:{region}:{account_id}:training-job/{name}"


def tuning_job_arn(region: str, account_id: str, name: str) -> str:
    # SageMaker has returned lower-cased tuning-job names inside ARNs; names are case-insensitive there.
    return f"arn:aws:sagemaker:{region}:{account_id}:hyper-parameter-tuning-job/{name.lower()}"


def model_artifacts_uri(s3_output_path: str, job_name: str, compression: str = "GZIP") -> str:
    base = s3_output_path.rstrip("/")
    if compression.upper() == "NONE":
        return f"{base}/{job_name}/output/model/"
    return f"{base}/{job_name}/output/model.tar.gz"
