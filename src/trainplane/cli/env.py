"""``trainplane env``: the shell exports (and SageMaker SDK config file) that point clients at the server.

    eval "$(trainplane env)"

Every AWS service the SDKs call gets the server's URL (``AWS_ENDPOINT_URL_<SERVICE>``), S3 the
endpoint the server uses for artifacts, and ``SAGEMAKER_USER_CONFIG_OVERRIDE`` a YAML file naming a
default bucket and execution role and opting out of telemetry, so that unmodified SDK code makes no
call outside this machine.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

import yaml

from trainplane.api.credentials import load_credentials
from trainplane.api.state import DEFAULT_PORT, ServerState, read_state
from trainplane.liveness import pid_alive
from trainplane.settings import Settings, load_settings

# botocore derives the variable from the service ID: CloudWatch Logs reads ..._CLOUDWATCH_LOGS; the
# shorter ..._LOGS is exported too, as other tools (and our docs) use that name.
API_SERVICES = ("SAGEMAKER", "CLOUDWATCH_LOGS", "LOGS", "CLOUDWATCH", "STS", "IAM")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    env = commands.add_parser("env", help="print shell exports that point AWS clients and SDKs at the server")
    env.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait up to SECONDS for this home's server to be listening (one just started with '&')",
    )


def default_bucket(settings: Settings) -> str:
    return f"sagemaker-{settings.region}-{settings.account_id}"  # the SDKs' own default-bucket pattern


def role_arn(settings: Settings) -> str:
    return f"arn:aws:iam::{settings.account_id}:role/trainplane-execution"


def sdk_config_path(home: Path) -> Path:
    return home / "sagemaker-config.yaml"


def write_sdk_config(settings: Settings, kms_key_id: str | None = None) -> Path:
    training_job: dict[str, object] = {"RoleArn": role_arn(settings)}
    if kms_key_id:
        # SDK v2 then sends this key id with its SSE-KMS source uploads (SeaweedFS needs one).
        training_job["OutputDataConfig"] = {"KmsKeyId": kms_key_id}
    config = {
        "SchemaVersion": "1.0",
        "SageMaker": {
            "PythonSDK": {
                "Modules": {
                    "Session": {"DefaultS3Bucket": default_bucket(settings)},
                    "TelemetryOptOut": True,
                }
            },
            "TrainingJob": training_job,
        },
    }
    path = sdk_config_path(settings.home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def client_url(state: ServerState) -> str:
    """The URL clients use: a wildcard bind is reached through loopback."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(state.host, state.host)
    return ServerState(host, state.port, state.s3_endpoint_url, state.auth, state.pid).url


def exports(settings: Settings, state: ServerState) -> list[tuple[str, str]]:
    credentials = load_credentials(settings.home, os.environ)
    url = client_url(state)
    pairs = [(f"AWS_ENDPOINT_URL_{service}", url) for service in API_SERVICES]
    if state.s3_endpoint_url:
        pairs.append(("AWS_ENDPOINT_URL_S3", state.s3_endpoint_url))
    return [
        *pairs,
        ("AWS_DEFAULT_REGION", settings.region),
        ("AWS_ACCESS_KEY_ID", credentials.primary.access_key_id),
        ("AWS_SECRET_ACCESS_KEY", credentials.primary.secret_access_key),
        ("SAGEMAKER_USER_CONFIG_OVERRIDE", str(write_sdk_config(settings, state.s3_kms_key_id))),
    ]


def _running_state(home: Path, wait: float) -> ServerState | None:
    """The state of this home's live server, waiting up to ``wait`` seconds for one to appear (it
    writes the state once its port is bound)."""
    deadline = time.monotonic() + wait
    while True:
        state = read_state(home)
        if state is not None and pid_alive(state.pid):
            return state
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.2)


def run(args: argparse.Namespace) -> int:
    settings = load_settings(home=args.home)
    state = _running_state(settings.home, max(0.0, getattr(args, "wait", 0.0)))
    if state is None:
        print(
            f"# trainplane: no server is running for {settings.home}; these point at the default "
            f"address (start one with: trainplane server)",
            file=sys.stderr,
        )
        state = ServerState("127.0.0.1", DEFAULT_PORT, settings.s3_endpoint_url, "sigv4", 0)
    if not state.s3_endpoint_url:
        print("# trainplane: the server has no S3 endpoint (use --s3 local) ", file=sys.stderr)
    for name, value in exports(settings, state):
        print(f"export {name}={shlex.quote(value)}")
    return 0
