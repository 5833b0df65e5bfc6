"""Host names resolve inside a job, as on SageMaker's cluster network (§5.1): a script that meets its
peers at ``algo-1`` (the classic ``tcp://{hosts[0]}:port`` rendezvous) runs unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs_helpers import script_job
from trainplane import TrainPlane
from trainplane.runtime.contract import DistributedInfo, host_addresses
from trainplane.runtime.sandbox import write_hosts_file

pytestmark = pytest.mark.slow

MEET_AT_ALGO_1 = """
    import json, os, socket, time
    hosts = json.loads(os.environ["SM_HOSTS"])
    port = int(os.environ["MASTER_PORT"])
    print("resolved", {h: socket.gethostbyname(h) for h in hosts}, flush=True)
    if os.environ["SM_CURRENT_HOST"] == hosts[0]:
        server = socket.create_server((hosts[0], port))
        peer, _ = server.accept()
        print("algo-1 got", peer.recv(64).decode(), flush=True)
    else:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = socket.create_connection((hosts[0], port), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        connection.sendall(os.environ["SM_CURRENT_HOST"].encode())
"""


def test_a_script_meets_its_peer_at_algo_1(tmp_path: Path) -> None:
    request = script_job("meet", tmp_path, MEET_AT_ALGO_1)
    request["ResourceConfig"] = {"InstanceType": "ml.m5.large", "InstanceCount": 2, "VolumeSizeInGB": 1}
    environ = {"TRAINPLANE_HOME": str(tmp_path / "home"), "TRAINPLANE_OVERSUBSCRIPTION": "2"}
    with TrainPlane(environ=environ) as tp:
        tp.create_training_job(**request)
        description = tp.wait_for_training_job("meet", timeout=120)
        lines = [e.message for e in tp.log_events("meet")]
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    assert "algo-1 got algo-2" in lines
    assert lines.count("resolved {'algo-1': '127.0.0.1', 'algo-2': '127.0.0.1'}") == 2


def test_on_a_cluster_algo_1_resolves_to_the_master_address(tmp_path: Path) -> None:
    hosts = ["algo-2", "algo-1"]
    remote = DistributedInfo(29500, 2, 1, 1, 0, "10.0.0.7")
    assert host_addresses(hosts, remote) == {"algo-1": "10.0.0.7"}
    system = tmp_path / "system-hosts"
    system.write_text("127.0.0.1 localhost\n::1 localhost\n")
    written = write_hosts_file(tmp_path / "hosts", host_addresses(hosts, remote), system=system).read_text()
    assert written.startswith("127.0.0.1 localhost\n::1 localhost\n")
    assert written.splitlines()[-1] == "10.0.0.7\talgo-1"
