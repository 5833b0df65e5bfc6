"""Distributed built-in XGBoost (InstanceCount > 1) over XGBoost's collective, as the container does.

SageMaker's container (§8.4) brings the hosts together twice. A first ring of *all* hosts, whose tracker
runs on the master (algo-1, at MASTER_ADDR:MASTER_PORT), only agrees on which hosts have data: a host
without train data (or without validation data when that channel exists; files, or in Pipe mode bytes in
the FIFO) is excluded, logs why and exits successfully; when no host has data, every host fails with a
ClientError, as one host without data does. The second ring is made of the hosts with data; its tracker
runs on the first of them, on a free port it announces over the first ring. When every host has data
(the usual case), the first ring already is that ring and trains as it is, which saves a second
rendezvous. Each host trains on its own channel data (ShardedByS3Key gives each about 1/N of the
objects); histograms and metrics are all-reduced, so every host builds the same trees and prints the
same (global) metrics.
Only the training ring's rank 0 (the first host with data) writes the model and checkpoints: the
training loop sees the included hosts as ``contract.hosts``, so its ``is_master`` is exactly that host.

Leaving: a host's goodbye (finalize) tells the tracker it is done, and the tracker's host waits for
every goodbye before it exits, or the others' goodbyes would find no tracker. A host that died or
failed its goodbye after training would hold that wait for ever (XGBoost's default), so the tracker's
host waits ``LEAVE_TIMEOUT_SECONDS`` at most; the hosts train in lockstep up to the last round, so the
others' goodbyes follow at once. A failed goodbye after a finished training is logged, not fatal: the
model is trained and saved (only the master saves, before its own goodbye).

Joining: XGBoost's own connect retries back off 2 s, then 4 s, ... A host that asks before the
master's tracker listens (they start together, so about half the time) would lose seconds; instead
each attempt is a single try and a refused connection is retried here every few milliseconds.

Device: with GPUs given to the host (SM_NUM_GPUS > 0 and CUDA_VISIBLE_DEVICES not empty) and an
XGBoost built with CUDA, training runs with ``device="cuda"``; otherwise on the CPU.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import xgboost as xgb
from xgboost import collective
from xgboost.tracker import RabitTracker

from trainplane.algorithms.formats import DataFormatError
from trainplane.algorithms.formats.pipe import channel_has_data
from trainplane.algorithms.network import route_address
from trainplane.algorithms.xgboost.contract import JobContract
from trainplane.algorithms.xgboost.data import TRAIN, VALIDATION
from trainplane.algorithms.xgboost.errors import UserError

TrainFunction = Callable[..., None]


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def device_params(environ: Mapping[str, str], cuda_build: bool | None = None) -> dict[str, Any]:
    """``{"device": "cuda"}`` when this host has GPUs and XGBoost can use them, else nothing."""
    gpus = int(environ.get("SM_NUM_GPUS") or 0)
    visible = environ.get("CUDA_VISIBLE_DEVICES")
    if gpus <= 0 or visible == "" or (visible is not None and visible.strip() in ("-1", "none")):
        return {}
    if cuda_build is None:
        cuda_build = bool(xgb.build_info().get("USE_CUDA"))
    return {"device": "cuda"} if cuda_build else {}


def missing_data(contract: JobContract) -> str | None:
    """SageMaker's inclusion rule, as what this host lacks: None when it has train data, and validation
    data when that channel exists."""
    configs = contract.input_data_config
    try:
        if not channel_has_data(contract.paths.channel(TRAIN), configs.get(TRAIN, {})):
            return "no training data"
        validation = contract.paths.channel(VALIDATION)
        exists = VALIDATION in configs or validation.is_dir()
        if exists and not channel_has_data(validation, configs.get(VALIDATION, {})):
            return "training data but no validation data"
    except DataFormatError as exc:
        raise UserError(str(exc)) from exc
    return None


def run(contract: JobContract, environ: Mapping[str, str], train: TrainFunction) -> None:
    """Train on one host or, with several hosts, as one member of the collective."""
    extra = device_params(environ)
    if len(contract.hosts) <= 1:
        train(contract, extra_params=extra)
        return
    hosts = sorted(contract.hosts)
    master_addr = environ.get("MASTER_ADDR") or "127.0.0.1"
    master_port = int(environ.get("MASTER_PORT") or 9099)
    leader = contract.current_host == hosts[0]
    first = _tracker(master_addr, master_port, len(hosts)) if leader else None
    with _member(master_addr, master_port, contract.current_host):
        missing = missing_data(contract)  # in the ring: a host that fails here must not hang the others
        included, second = _agree(contract, hosts, master_addr, missing is None)
        if included == hosts:
            _train_together(contract, included, train, extra)
    if first is not None:
        _wait_for_goodbyes(first, contract.current_host)
    if included == hosts:
        return
    if not included:
        raise UserError(
            f"None of the {len(hosts)} hosts has data to train on (train data, and validation data when "
            "that channel exists)."
        )
    if contract.current_host not in included:
        _log(f"Host {contract.current_host} has {missing}; it is excluded from distributed training.")
        return
    if len(included) == 1:
        train(dataclasses.replace(contract, hosts=included), extra_params=extra)
        return
    tracker, (addr, port) = second
    with _member(addr, port, contract.current_host):
        _train_together(contract, included, train, extra)
    if tracker is not None:
        _wait_for_goodbyes(tracker, contract.current_host)


def _train_together(
    contract: JobContract, included: list[str], train: TrainFunction, extra: dict[str, Any]
) -> None:
    _log(f"Distributed training on {len(included)} hosts: {', '.join(included)}.")
    train(dataclasses.replace(contract, hosts=included), extra_params=extra)


def _agree(
    contract: JobContract, hosts: list[str], master_addr: str, with_data: bool
) -> tuple[list[str], tuple[RabitTracker | None, tuple[str, int]]]:
    """Inside the first ring: which hosts have data and, when some have none, where the second ring's
    tracker listens (started by the first host with data)."""
    flags = np.zeros(len(hosts), dtype=np.float64)
    flags[hosts.index(contract.current_host)] = 1.0 if with_data else 0.0
    flags = collective.allreduce(flags, collective.Op.SUM)
    included = [host for host, flag in zip(hosts, flags, strict=True) if flag > 0]
    tracker = None
    address: tuple[str, int] = ("", 0)
    if 1 < len(included) < len(hosts):
        leader = included[0]
        if contract.current_host == leader:
            ip = route_address(master_addr)
            tracker = _tracker(ip, 0, len(included))
            address = (ip, int(tracker.worker_args()["dmlc_tracker_port"]))
        address = collective.broadcast(address, hosts.index(leader))
    return included, (tracker, address)


def _tracker(host_ip: str, port: int, workers: int) -> RabitTracker:
    tracker = RabitTracker(n_workers=workers, host_ip=host_ip, port=port, sortby="task")
    tracker.start()
    return tracker


@contextlib.contextmanager
def _member(addr: str, port: int, task_id: str) -> Iterator[None]:
    context = collective.CommunicatorContext(
        dmlc_tracker_uri=addr, dmlc_tracker_port=port, dmlc_task_id=task_id, dmlc_retry=1
    )
    _join(context, JOIN_TIMEOUT_SECONDS)
    try:
        yield
    except BaseException:
        with contextlib.suppress(xgb.core.XGBoostError):  # the body's error is the one to report
            context.__exit__(None, None, None)
        raise
    try:
        context.__exit__(None, None, None)
    except xgb.core.XGBoostError as exc:
        _log(f"Host {task_id} could not leave the collective cleanly (its work is done): {_first_line(exc)}")


def _wait_for_goodbyes(tracker: RabitTracker, host: str) -> None:
    try:
        tracker.wait_for(timeout=LEAVE_TIMEOUT_SECONDS)
    except (xgb.core.XGBoostError, ValueError) as exc:
        _log(
            f"Host {host}: not every host left the collective within {LEAVE_TIMEOUT_SECONDS} s of this "
            f"one; ending anyway: {_first_line(exc)}"
        )
        # Freed now, its error expected: left to its destructor, the tracker reports the same missing
        # goodbye again, as an "Exception ignored" traceback in the job's log.
        with contextlib.suppress(xgb.core.XGBoostError):
            tracker.free()


def _first_line(exc: BaseException) -> str:
    lines = [line.strip(" -") for line in str(exc).splitlines() if line.strip(" -")]
    return next((line for line in lines if "Timeout" in line or "Fail" in line), lines[0] if lines else "")


JOIN_TIMEOUT_SECONDS = 600.0  # how long a host waits for the tracker (the master may be slow to start)
LEAVE_TIMEOUT_SECONDS = 5  # how long the tracker's host waits for the others' goodbyes (whole seconds)
_JOIN_POLL_SECONDS = 0.02


def _join(context: collective.CommunicatorContext, timeout: float) -> None:
    """Enter ``context`` (made with one connection attempt per try), retrying at once while the
    tracker is not listening yet; any other failure (or the deadline) raises."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # XGBoost warns once per refused attempt
                context.__enter__()
            return
        except xgb.core.XGBoostError as exc:
            if "Failed to connect to the tracker" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(_JOIN_POLL_SECONDS)
