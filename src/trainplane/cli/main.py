"""The ``trainplane`` command.

Errors print one line on stderr and exit non-zero: 1 for a failed or stopped job or an API error,
2 for bad usage.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from trainplane.cli import env as env_command
from trainplane.cli import lr_find as lr_find_command
from trainplane.cli import output
from trainplane.cli import server as server_command
from trainplane.cli import spot as spot_command
from trainplane.cli import tuning as tuning_command
from trainplane.cli.specs import load_spec
from trainplane.client import TrainPlane
from trainplane.control.plans import host_names
from trainplane.errors import TrainplaneError
from trainplane.settings import load_settings
from trainplane.states import JobStatus

PROGRESS_INTERVAL = 0.25


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trainplane", description="SageMaker-compatible training on your machine."
    )
    parser.add_argument("--home", help="data directory (default: $TRAINPLANE_HOME or ~/.trainplane)")
    parser.add_argument(
        "--oversubscription", type=float, help="let jobs use this many times the machine's CPUs/memory"
    )
    parser.add_argument(
        "--executor", choices=["local", "ray"], help="run jobs here (local, default) or on a Ray cluster"
    )
    parser.add_argument(
        "--ray-address", help="the Ray cluster for --executor ray (host:port, ray://..., auto)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser(
        "train", help="run a CreateTrainingJob request (JSON or YAML) in the foreground"
    )
    train.add_argument("spec", type=Path)
    train.add_argument("--name", help="override TrainingJobName")
    train.add_argument("--logs", action="store_true", help="also print the job's log lines")
    train.add_argument("--stop-grace-seconds", type=float, help="SIGTERM-to-SIGKILL grace (default 120)")

    quick = commands.add_parser("quickstart", help="train built-in XGBoost on a bundled dataset and score it")
    quick.add_argument("--rounds", type=int, default=100)

    jobs = commands.add_parser("jobs", help="inspect and manage training jobs").add_subparsers(
        dest="action", required=True
    )
    listing = jobs.add_parser("list")
    listing.add_argument("--status", choices=[s.value for s in JobStatus if s != JobStatus.DELETING])
    listing.add_argument("--name-contains")
    listing.add_argument("--max-results", type=output.positive_int, default=50)
    listing.add_argument("--output", choices=["table", "json"], default="table")
    describe = jobs.add_parser("describe")
    describe.add_argument("name")
    describe.add_argument("--output", choices=["text", "json"], default="text")
    logs = jobs.add_parser("logs")
    logs.add_argument("name")
    logs.add_argument("--follow", "-f", action="store_true")
    logs.add_argument("--host", help="only this host's lines, e.g. algo-2")
    stop = jobs.add_parser("stop")
    stop.add_argument("name")
    stop.add_argument("--no-wait", action="store_true", help="return once the stop is recorded")
    delete = jobs.add_parser("delete")
    delete.add_argument("name")
    tuning_command.add_parsers(commands)
    spot_command.add_parsers(commands, jobs)
    server_command.add_parser(commands)
    env_command.add_parser(commands)
    lr_find_command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except TrainplaneError as exc:
        print(f"trainplane: {output.one_line(str(exc))}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"trainplane: {exc.strerror}: {exc.filename}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("trainplane: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`trainplane jobs logs X | head`): not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def make_console() -> Console:
    """Rich output; wide when piped, so names and ARNs are never cut."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else 250)


def _client(args: argparse.Namespace, *, run_jobs: bool, **overrides: Any) -> TrainPlane:
    settings = load_settings(home=args.home).with_overrides(
        oversubscription=args.oversubscription,
        executor=args.executor,
        ray_address=args.ray_address,
        **overrides,
    )
    return TrainPlane(settings=settings, run_jobs=run_jobs)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "server":
        return server_command.run(args)
    if args.command == "env":
        return env_command.run(args)
    if args.command == "train":
        request = load_spec(args.spec)
        if args.name:
            request["TrainingJobName"] = args.name
        with _client(args, run_jobs=True, stop_grace_seconds=args.stop_grace_seconds) as client:
            return run_in_foreground(client, request, show_logs=args.logs)
    if args.command == "tune":
        request = load_spec(args.spec, "CreateHyperParameterTuningJob")
        if args.name:
            request["HyperParameterTuningJobName"] = args.name
        with _client(args, run_jobs=True) as client:
            return tuning_command.run_tune(client, request, make_console(), args.top)
    if args.command == "tuning":
        with _client(args, run_jobs=args.action == "stop" and not args.no_wait) as client:
            if args.action == "stop":
                return tuning_command.stop_tuning(args, client, make_console())
            return tuning_command.run_tuning(args, client, make_console())
    if args.command == "spot-test":
        with _client(args, run_jobs=True, spot_notice_seconds=args.notice_seconds) as client:
            return spot_command.run_spot_test(args, load_spec(args.spec), client, make_console())
    if args.command == "lr-find":
        return lr_find_command.run(args, make_console())
    if args.command == "quickstart":
        from trainplane.cli.quickstart import run_quickstart

        with _client(args, run_jobs=True) as client:
            return run_quickstart(client, rounds=args.rounds)
    return _jobs(args)


def run_in_foreground(client: TrainPlane, request: dict[str, Any], *, show_logs: bool = False) -> int:
    """Create the job, show its progress until it ends; 0 only if it Completed."""
    from trainplane.cli.progress import JobProgress

    console = make_console()
    name = request.get("TrainingJobName", "")
    arn = client.create_training_job(**request)["TrainingJobArn"]
    console.print(f"Created {arn}")
    progress = JobProgress(client, name, console, show_logs=show_logs)
    interrupted = False
    while True:
        try:
            description = progress.update()
            status = JobStatus(description["TrainingJobStatus"])
            if status.is_terminal():
                break
            time.sleep(PROGRESS_INTERVAL)
        except KeyboardInterrupt:
            if interrupted:
                raise
            interrupted = True
            console.print("Stopping the job (Ctrl-C again to stop waiting for it)...")
            with contextlib.suppress(TrainplaneError):  # it may have ended meanwhile
                client.stop_training_job(TrainingJobName=name)
    return _report_end(description, console)


def _report_end(description: dict[str, Any], console: Console) -> int:
    status = description["TrainingJobStatus"]
    if "TrainingTimeInSeconds" in description:
        console.print(
            f"Training seconds: {description['TrainingTimeInSeconds']}  "
            f"Billable seconds: {description['BillableTimeInSeconds']}"
        )
    if status == JobStatus.COMPLETED:
        console.print(f"Completed. Model: {description['ModelArtifacts']['S3ModelArtifacts']}")
        return 0
    reason = description.get("FailureReason") or description["SecondaryStatus"]
    print(
        f"trainplane: training job {description['TrainingJobName']} {status}"
        + (f": {output.one_line(reason)}" if reason != status else ""),
        file=sys.stderr,
    )
    return 1


def _jobs(args: argparse.Namespace) -> int:
    console = make_console()
    if args.action == "stop":
        with _client(args, run_jobs=not args.no_wait) as client:
            client.stop_training_job(TrainingJobName=args.name)
            if args.no_wait:
                return 0
            description = client.wait_for_training_job(args.name)
            console.print(
                f"{args.name}: {description['TrainingJobStatus']} ({description['SecondaryStatus']})"
            )
        return 0
    with _client(args, run_jobs=False) as client:
        if args.action == "list":
            summaries = output.list_up_to(
                client.list_training_jobs, "TrainingJobSummaries", output.list_request(args), args.max_results
            )
            if args.output == "json":
                output.print_json({"TrainingJobSummaries": summaries})
            else:
                console.print(output.jobs_table(summaries))
            return 0
        if args.action == "describe":
            description = client.describe_training_job(TrainingJobName=args.name)
            if args.output == "json":
                output.print_json(description)
            else:
                output.describe_text(description, console)
                spot_command.print_cost_line(client, args.name, console)
            return 0
        if args.action == "cost":
            return spot_command.run_cost(client, args, console)
        if args.action == "logs":
            return _logs(client, args.name, follow=args.follow, host=args.host)
        client.delete_training_job(TrainingJobName=args.name)
        console.print(f"Deleted {args.name}")
        return 0


def _logs(client: TrainPlane, name: str, *, follow: bool, host: str | None) -> int:
    description = client.describe_training_job(TrainingJobName=name)  # unknown job -> the API's error
    hosts = host_names(int(description["ResourceConfig"]["InstanceCount"]))
    if host is not None and host not in hosts:
        # Else nothing is printed, and --follow waits for the job's end, as if the host were silent.
        print(
            f"trainplane: training job {name} has no host {host}; its hosts: {', '.join(hosts)}",
            file=sys.stderr,
        )
        return 1
    after = 0
    several_hosts = len(hosts) > 1 or host is not None
    if follow and not JobStatus(description["TrainingJobStatus"]).is_terminal() and not _driven(client, name):
        print(
            f"trainplane: no control plane is running {name} (start `trainplane server`, or `train`/`tune`): "
            "its log and status are not updated until one does",
            file=sys.stderr,
        )
    while True:
        for event in client.iter_log_events(name, after_id=after, host=host):
            after = event.id
            prefix = "[" + event.stream.split("/", 1)[1].rsplit("-", 1)[0] + "] " if several_hosts else ""
            print(prefix + event.message, flush=True)
        if not follow:
            return 0
        status = JobStatus(client.describe_training_job(TrainingJobName=name)["TrainingJobStatus"])
        if status.is_terminal() and not client.log_events(name, after_id=after, host=host):
            return 0
        time.sleep(0.5)


def _driven(client: TrainPlane, name: str) -> bool:
    """Whether a live control plane owns the job, or one runs that will pick it up."""
    from trainplane.control.reconciler import live_controllers

    store = client.platform.store
    live = live_controllers(store, time.time())
    job = store.get_training_job(name)
    return job is not None and (job.owner in live if job.owner else bool(live))


if __name__ == "__main__":
    sys.exit(main())
