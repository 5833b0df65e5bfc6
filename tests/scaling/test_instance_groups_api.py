"""InstanceGroups (heterogeneous clusters) stay refused, as a SageMaker ValidationException over the API."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import boto3
import botocore.exceptions
import pytest
import uvicorn

from trainplane.api import build_api
from trainplane.api.credentials import load_credentials
from trainplane.cli.quickstart import quickstart_request
from trainplane.platform import build_platform
from trainplane.settings import load_settings


def test_create_training_job_with_instance_groups_is_a_validation_exception(tmp_path: Path) -> None:
    platform = build_platform(load_settings(environ={}, home=tmp_path), control=False)
    credentials = load_credentials(tmp_path, environ={})
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = build_api(platform, credentials).app
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.02)
        client = boto3.client(
            "sagemaker",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id=credentials.primary.access_key_id,
            aws_secret_access_key=credentials.primary.secret_access_key,
        )
        request = quickstart_request("groups", "prefix", rounds=5)
        request["ResourceConfig"] = {
            "InstanceGroups": [
                {"InstanceType": "ml.m5.large", "InstanceCount": 1, "InstanceGroupName": "a"},
                {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "InstanceGroupName": "b"},
            ],
            "VolumeSizeInGB": 1,
        }
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            client.create_training_job(**request)
        error = caught.value.response["Error"]
        assert error["Code"] == "ValidationException"
        assert "InstanceGroups" in error["Message"]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        platform.close()
