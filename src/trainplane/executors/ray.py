"""The Ray executor: each attempt is a placement group of InstanceCount bundles on a Ray cluster.

A bundle is sized from the instance type (its vCPUs, GPUs and memory, plus ``{"ml.m5.large": 1}``
when ``settings.ray_require_instance_resource`` is on, so that only nodes advertising that type run it).
Each host is a detached, named actor pinned to its bundle; the actor starts the same runtime agent the
local executor starts (``python -m trainplane.runtime.agent``) and answers status, output and signal
calls for it. The agents start only once the whole group is placed, with algo-1's node address as
MASTER_ADDR. When a host's agent has exited, its agent files, model and output data are copied back to
the control plane's paths (skipped when the node is this machine), the actor is killed, and the
placement group is removed after its last host.

A host whose actor died (its node was lost) or whose node is being drained (a preemption notice with a
deadline) is reported with ``HostStatus.preempted``; a lost host also gets its siblings a SIGTERM, so
the attempt ends instead of waiting for a peer that will not come back. Each host's node is remembered
once its group is placed: when the actor is gone and that node is dead, the host is lost whatever its
agent managed to write (with every node on one machine, the agent outlives its node for a moment and
records the exit 143 of the SIGTERM its parent's death sent it, which is no failure of the job).

Channels and checkpoints move through the object store: with ``s3_endpoint_url`` set every node
reaches it; the local-directory store (``home/s3``) works only on a single-node cluster. ``ray`` is
imported here only, when the executor is built: the base install never needs it.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil

from trainplane.catalog import capacity, instances
from trainplane.executors.base import HostLaunch, HostStatus
from trainplane.executors.local import LocalExecutor
from trainplane.settings import Settings

NAMESPACE = "trainplane"
STATUS_WAIT_SECONDS = 2.0
DRAIN_REFRESH_SECONDS = 1.0
_PR_SET_PDEATHSIG = 1


class HostActor:
    """Runs inside Ray, one per host: owns that host's agent process on its node."""

    def __init__(self, host: str, root: str, agent_dir: str, spec: dict[str, Any]) -> None:
        self.launch = HostLaunch(host=host, root=Path(root), agent_dir=Path(agent_dir), spec=spec)
        self.local = LocalExecutor(warm_spare=False)  # one launch per actor: a spare would never be used
        self.record: dict[str, Any] | None = None
        self.cancelled = False
        self._address: tuple[str, int] | None = None

    def address(self) -> tuple[str, int]:
        """This node's address and a free port on it (chosen once), for MASTER_ADDR/MASTER_PORT."""
        if self._address is None:
            import ray

            with socket.socket() as sock:
                sock.bind(("", 0))
                self._address = (ray.util.get_node_ip_address(), int(sock.getsockname()[1]))
        return self._address

    def start(self, master_addr: str, master_port: int) -> None:
        if self.record is not None or self.cancelled:
            return
        spec = dict(self.launch.spec)
        spec["distributed"] = {
            **spec.get("distributed", {}),
            "master_addr": master_addr,
            "master_port": master_port,
        }
        self.launch = replace(self.launch, spec=spec)
        self.record = _start_agent(self.launch)

    def status(self) -> dict[str, Any]:
        import ray

        node = ray.get_runtime_context().get_node_id()
        if self.record is None:
            return {"alive": not self.cancelled, "result": None, "events": [], "node": node}
        status = self.local.status(self.record)
        return {"alive": status.alive, "result": status.result, "events": status.events, "node": node}

    def read_output(self, offset: int, max_lines: int | None) -> tuple[list[tuple[float, str]], int]:
        return self.local.read_output({"agent_dir": str(self.launch.agent_dir)}, offset, max_lines)

    def terminate(self) -> None:
        if self.record is None:
            self.cancelled = True
        else:
            self.local.terminate(self.record)

    def kill(self) -> None:
        self.cancelled = True
        if self.record is not None:
            self.local.kill(self.record)

    def collect(self, requester: str) -> bytes | None:
        """The agent's files, model and output data as a tar.gz; None when ``requester`` is this machine."""
        if requester == socket.gethostname():
            return None
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            tar.add(self.launch.agent_dir, arcname="agent")
            for part in ("model", "output"):
                if (self.launch.root / part).exists():
                    tar.add(self.launch.root / part, arcname=f"root/{part}")
        return buffer.getvalue()


def _start_agent(launch: HostLaunch) -> dict[str, Any]:
    """Start the runtime agent; it gets SIGTERM (a stop notice) if this actor's process dies."""
    launch.agent_dir.mkdir(parents=True, exist_ok=True)
    (launch.agent_dir / "spec.json").write_text(json.dumps(launch.spec, default=str))

    def die_with_actor() -> None:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    with open(launch.agent_dir / "agent.log", "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "trainplane.runtime.agent", str(launch.agent_dir)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_actor if sys.platform == "linux" else None,
        )
    return {
        "host": launch.host,
        "pid": process.pid,
        "create_time": psutil.Process(process.pid).create_time(),
        "root": str(launch.root),
        "agent_dir": str(launch.agent_dir),
    }


def _file_status(record: dict[str, Any]) -> HostStatus:
    """An exited host as its copied files tell it (result.json, events.jsonl)."""
    agent_dir = Path(record["agent_dir"])
    try:
        result = json.loads((agent_dir / "result.json").read_text())
    except (OSError, ValueError):
        result = None
    try:
        lines = (agent_dir / "events.jsonl").read_text().splitlines()
    except OSError:
        lines = []
    events = []
    for line in lines:
        with contextlib.suppress(ValueError):
            events.append(json.loads(line))
    return HostStatus(alive=False, result=result, events=events)


# The object store's credentials, as the control plane has them: agents on other nodes reach the same
# endpoint (a server's own `--s3 local` sets them in its environment only, so no node could know them).
FORWARDED_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
                       "AWS_DEFAULT_REGION")  # fmt: skip


def forwarded_environment() -> dict[str, str]:
    """What each host's actor gets from the control plane's environment (``FORWARDED_VARIABLES`` set)."""
    return {name: os.environ[name] for name in FORWARDED_VARIABLES if os.environ.get(name)}


def bundle_for(instance_type: str, cpus: int, gpus: int, require_type_resource: bool) -> dict[str, float]:
    """One host's bundle: the type's vCPUs, GPUs and memory (bytes), and optionally the type itself."""
    instance = instances.lookup(instance_type)
    bundle: dict[str, float] = {"CPU": float(cpus)}
    if gpus:
        bundle["GPU"] = float(gpus)
    if instance is not None:
        bundle["memory"] = float(int(instance.memory_gib * 2**30))
    if require_type_resource:
        bundle[instance_type] = 1.0
    return bundle


class RayExecutor:
    name = "ray"

    def __init__(self, settings: Settings) -> None:
        import ray

        self._ray: Any = ray
        self.settings = settings
        if not ray.is_initialized():
            ray.init(
                address=settings.ray_address or "auto",
                namespace=NAMESPACE,
                log_to_driver=False,
                configure_logging=False,
            )
        self._actor_class: Any = self._ray.remote(max_restarts=0, max_concurrency=4)(HostActor)
        self._started: set[str] = set()  # placement groups whose agents were started
        self._finished: dict[str, HostStatus] = {}  # actor name -> final status
        self._nodes: dict[str, str] = {}  # actor name -> the node its bundle was placed on
        self._draining: dict[str, int] = {}
        self._draining_read = 0.0
        self._files = LocalExecutor()  # reads the copies made on this machine

    def cluster_resources(self) -> capacity.Resources:
        total = self._ray.cluster_resources()
        return capacity.Resources(
            float(total.get("CPU", 0)), float(total.get("memory", 0)) / 2**30, int(total.get("GPU", 0))
        )

    # ----------------------------------------------------------------- launching
    def launch(self, hosts: list[HostLaunch]) -> list[dict[str, Any]]:
        from ray.util.placement_group import placement_group
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        group_name = _group_name(hosts)
        bundles = [self._bundle(launch) for launch in hosts]
        group = placement_group(bundles, strategy="SPREAD", name=group_name, lifetime="detached")
        names = [f"{group_name}/{launch.host}" for launch in hosts]
        forwarded = forwarded_environment()
        for index, (launch, name, bundle) in enumerate(zip(hosts, names, bundles, strict=True)):
            strategy = PlacementGroupSchedulingStrategy(group, placement_group_bundle_index=index)
            extra = {k: v for k, v in bundle.items() if k not in ("CPU", "GPU", "memory")}
            self._actor_class.options(
                name=name,
                namespace=NAMESPACE,
                lifetime="detached",
                num_cpus=bundle["CPU"],
                num_gpus=bundle.get("GPU", 0),
                memory=bundle.get("memory"),
                resources=extra or None,
                scheduling_strategy=strategy,
                runtime_env={"env_vars": forwarded} if forwarded else None,
            ).remote(launch.host, str(launch.root), str(launch.agent_dir), launch.spec)
        return [
            {
                "host": launch.host,
                "actor": name,
                "group": group_name,
                "actors": names,
                "root": str(launch.root),
                "agent_dir": str(launch.agent_dir),
            }
            for launch, name in zip(hosts, names, strict=True)
        ]

    def kill_unrecorded(self, hosts: list[HostLaunch]) -> None:
        # Actors and placement groups are detached and named after the attempt's directory: an earlier
        # launch of this attempt left them under the names this one is about to take.
        if not hosts:
            return
        group_name = _group_name(hosts)
        for launch in hosts:
            actor = self._actor(f"{group_name}/{launch.host}")
            if actor is not None:
                self._ray.kill(actor)
        self._remove_group(group_name)

    def _bundle(self, launch: HostLaunch) -> dict[str, float]:
        context = launch.spec.get("context", {})
        return bundle_for(
            str(context.get("instance_type", "")),
            launch.cpus,
            int(context.get("num_gpus") or 0),
            self.settings.ray_require_instance_resource,
        )

    def _start_if_placed(self, record: dict[str, Any]) -> bool:
        """Start every agent of the attempt once its placement group is placed; True once started."""
        group_name = record["group"]
        if group_name in self._started:
            return True
        from ray.util import get_placement_group

        try:
            group = get_placement_group(group_name)
        except ValueError:
            return False
        ready, _ = self._ray.wait([group.ready()], timeout=0)
        if not ready:
            return False
        actors = [self._actor(name) for name in record["actors"]]
        if any(actor is None for actor in actors):
            return False
        self._remember_nodes(record["actors"], group)
        master_addr, master_port = self._ray.get(actors[0].address.remote())
        self._ray.get([actor.start.remote(master_addr, master_port) for actor in actors])
        self._started.add(group_name)
        return True

    def _remember_nodes(self, names: list[str], group: Any) -> None:
        placed = self._ray.util.placement_group_table(group).get("bundles_to_node_id", {})
        for index, name in enumerate(names):
            if placed.get(index):
                self._nodes[name] = str(placed[index])

    def _dead_node(self, record: dict[str, Any]) -> str | None:
        """The node the host ran on, when Ray knows that node is dead; None if alive or unknown."""
        node = self._nodes.get(record["actor"])
        if node is None:
            with contextlib.suppress(Exception):
                from ray.util import get_placement_group

                self._remember_nodes(record["actors"], get_placement_group(record["group"]))
                node = self._nodes.get(record["actor"])
        if node is None:
            return None
        alive = {str(n.get("NodeID")): bool(n.get("Alive")) for n in self._ray.nodes()}
        return None if alive.get(node, False) else node

    # ----------------------------------------------------------------- watching
    def probe(self, record: dict[str, Any]) -> None:
        return None  # a host's state is a remote call away: nothing cheaper than status itself

    def status(self, record: dict[str, Any]) -> HostStatus:
        name = record["actor"]
        if name in self._finished:
            return self._finished[name]
        actor = self._actor(name)
        if actor is None:
            if (node := self._dead_node(record)) is not None:
                return self._lost(record, f"its Ray node {node[:12]} died")
            local = _file_status(record)
            if local.result is not None:  # collected before a control-plane restart
                return self._finish(record, local)
            return self._lost(record, "its Ray actor no longer exists")
        if not self._start_if_placed(record):
            return HostStatus(alive=True, result=None, events=[])
        ready, _ = self._ray.wait([actor.status.remote()], timeout=STATUS_WAIT_SECONDS)
        if not ready:
            return HostStatus(alive=True, result=None, events=[])
        try:
            state = self._ray.get(ready[0])
        except self._ray.exceptions.RayActorError as exc:
            if (node := self._dead_node(record)) is not None:
                return self._lost(record, f"its Ray node {node[:12]} died")
            return self._lost(record, str(exc).splitlines()[0] if str(exc) else "its Ray actor died")
        self._nodes[name] = state["node"]
        if state["alive"]:
            draining = state["node"] in self._draining_nodes()
            return HostStatus(True, state["result"], state["events"], preempted=draining,
                              detail="its Ray node is being drained" if draining else None)  # fmt: skip
        self._collect(record, actor)
        return self._finish(record, HostStatus(False, state["result"], state["events"]))

    def _lost(self, record: dict[str, Any], why: str) -> HostStatus:
        status = HostStatus(False, None, [], preempted=True, detail=f"host {record['host']} was lost: {why}")
        for sibling in record["actors"]:
            actor = self._actor(sibling) if sibling not in self._finished else None
            if actor is not None:
                actor.terminate.remote()
        return self._finish(record, status)

    def _finish(self, record: dict[str, Any], status: HostStatus) -> HostStatus:
        self._finished[record["actor"]] = status
        self._nodes.pop(record["actor"], None)
        actor = self._actor(record["actor"])
        if actor is not None:
            self._ray.kill(actor)
        if all(name in self._finished for name in record["actors"]):
            self._remove_group(record["group"])
        return status

    def _collect(self, record: dict[str, Any], actor: Any) -> None:
        data = self._ray.get(actor.collect.remote(socket.gethostname()))
        if data is None:
            return
        agent_dir, root = Path(record["agent_dir"]), Path(record["root"])
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar.getmembers():
                top, _, rest = member.name.partition("/")
                if not rest:
                    continue
                member.name = rest
                tar.extract(member, agent_dir if top == "agent" else root, filter="data")

    def _remove_group(self, group_name: str) -> None:
        from ray.util import get_placement_group, remove_placement_group

        with contextlib.suppress(ValueError):
            remove_placement_group(get_placement_group(group_name))
        self._started.discard(group_name)

    def _draining_nodes(self) -> dict[str, int]:
        now = time.monotonic()
        if now - self._draining_read >= DRAIN_REFRESH_SECONDS:
            self._draining_read = now
            try:
                from ray._private.state import state

                self._draining = dict(state.get_draining_nodes())
            except Exception:  # a private API: without it, drains are seen only when the node dies
                self._draining = {}
        return self._draining

    def _actor(self, name: str) -> Any:
        try:
            return self._ray.get_actor(name, namespace=NAMESPACE)
        except ValueError:
            return None

    # ----------------------------------------------------------------- output and signals
    def read_output(
        self, record: dict[str, Any], offset: int, max_lines: int | None = None
    ) -> tuple[list[tuple[float, str]], int]:
        if record["actor"] in self._finished or record["group"] not in self._started:
            return self._files.read_output(record, offset, max_lines)
        actor = self._actor(record["actor"])
        if actor is None:
            return self._files.read_output(record, offset, max_lines)
        try:
            lines, new_offset = self._ray.get(actor.read_output.remote(offset, max_lines), timeout=30)
        except (self._ray.exceptions.RayActorError, self._ray.exceptions.GetTimeoutError):
            return [], offset
        return [(float(stamp), str(text)) for stamp, text in lines], int(new_offset)

    def terminate(self, record: dict[str, Any]) -> None:
        if record["actor"] in self._finished:
            return
        if self._unplaced(record):
            # No agent runs: a method call would queue behind the actor's creation (for as long as the
            # cluster lacks room), and there is nothing to give a grace period to.
            self._finish(record, _file_status(record))
            return
        actor = self._actor(record["actor"])
        if actor is not None:
            actor.terminate.remote()

    def _unplaced(self, record: dict[str, Any]) -> bool:
        """Whether the attempt's placement group is still waiting for room (or gone), so that its agents
        never started. Asked of Ray, not of ``_started``: a restarted control plane starts that empty."""
        if record["group"] in self._started:
            return False
        from ray.util import get_placement_group

        try:
            group = get_placement_group(record["group"])
        except ValueError:
            return True
        ready, _ = self._ray.wait([group.ready()], timeout=0)
        return not ready

    def kill(self, record: dict[str, Any]) -> None:
        if record["actor"] not in self._finished and self._unplaced(record):
            self._finish(record, _file_status(record))
            return
        actor = self._actor(record["actor"])
        if actor is not None:
            with contextlib.suppress(
                self._ray.exceptions.RayActorError, self._ray.exceptions.GetTimeoutError
            ):
                self._ray.get(actor.kill.remote(), timeout=30)
        if record["actor"] not in self._finished:
            self._finish(record, _file_status(record))


__all__ = ["HostActor", "RayExecutor", "bundle_for"]


def _group_name(hosts: list[HostLaunch]) -> str:
    """An attempt's placement group (its actors are ``<group>/<host>``): named after its directory."""
    return f"{NAMESPACE}:{hosts[0].agent_dir.parent}"
