"""``trainplane server``: the SageMaker-compatible API (and optionally an S3 endpoint) on one port.

Start-up order matters: the S3 endpoint first (the control plane's artifact store points at it), then
the platform (store, reconciler), then the HTTP server; shutdown runs the other way. A state file under
the home directory records where everything listens, for ``trainplane env``.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import socket
import sys
from typing import TYPE_CHECKING

from trainplane.api.state import DEFAULT_PORT

if TYPE_CHECKING:
    from trainplane.api.state import ServerState
    from trainplane.settings import Settings

LOOPBACK_NAMES = {"localhost", "ip6-localhost"}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    server = commands.add_parser("server", help="serve the SageMaker-compatible API (AWS JSON 1.1, SigV4)")
    server.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    server.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    server.add_argument(
        "--auth", choices=["sigv4", "none"], default="sigv4", help="'none' is allowed on loopback binds only"
    )
    s3 = server.add_mutually_exclusive_group()
    s3.add_argument("--s3", choices=["local"], help="'local': run a SeaweedFS S3 endpoint beside the API")
    s3.add_argument("--s3-endpoint", metavar="URL", help="use this existing S3-compatible endpoint")
    server.add_argument(
        "--s3-port",
        type=int,
        metavar="PORT",
        help="S3 port for --s3 local (default: the one this home used last, if free); gRPC on PORT+10000",
    )
    # SUPPRESS: given after ``server`` they win; otherwise the global --executor/--ray-address stand.
    server.add_argument("--executor", choices=["local", "ray"], default=argparse.SUPPRESS)
    server.add_argument("--ray-address", default=argparse.SUPPRESS, help="Ray cluster for --executor ray")
    server.add_argument(
        "--no-executor", action="store_true", help="accept and store jobs but never run them (benchmarks)"
    )


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    # Imported here: the rest of the CLI should not pay for uvicorn and the HTTP stack.
    import uvicorn

    from trainplane.api import build_api
    from trainplane.api.credentials import load_credentials, load_job_pair
    from trainplane.api.seaweedfs import KMS_KEY_ID, SeaweedS3
    from trainplane.api.state import ServerState, clear_state, read_state, write_state
    from trainplane.cli.env import default_bucket
    from trainplane.platform import build_platform
    from trainplane.settings import load_settings

    if args.auth == "none" and not is_loopback(args.host):
        print(f"trainplane: --auth none is allowed only on a loopback bind, not {args.host}", file=sys.stderr)
        return 2
    if args.s3_port is not None and (args.s3 != "local" or not 0 < args.s3_port < 55536):
        print("trainplane: --s3-port needs --s3 local and a port from 1 to 55535", file=sys.stderr)
        return 2
    settings = load_settings(home=args.home).with_overrides(
        oversubscription=args.oversubscription,
        executor=getattr(args, "executor", None),
        ray_address=getattr(args, "ray_address", None),
    )
    running = read_state(settings.home)
    if running is not None and running.pid != os.getpid() and _is_server(running.pid):
        print(
            f"trainplane: a server (pid {running.pid}, {running.url}) already serves home {settings.home}; "
            "stop it first, or give this one its own --home",
            file=sys.stderr,
        )
        return 1
    try:
        # Bound before anything else starts: a taken port fails here, before SeaweedFS, the banner and
        # server.json (which `trainplane env` reads) claim a server that will never answer.
        listener = _bind(args.host, args.port)
    except OSError as exc:
        print(f"trainplane: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    credentials = load_credentials(settings.home, os.environ)
    seaweed = None
    if args.s3 == "local":
        weed_dir = settings.home / "seaweedfs"
        jobs_pair = load_job_pair(weed_dir / "job-credentials")
        seaweed = SeaweedS3(weed_dir, credentials.primary, job_credentials=jobs_pair, s3_port=args.s3_port)
    platform = None
    try:
        endpoint = seaweed.start() if seaweed else args.s3_endpoint or settings.s3_endpoint_url
        if seaweed is not None:
            # Jobs (and the finishing step) reach SeaweedFS with the environment's AWS credentials: the
            # jobs' own pair, which the API refuses, as a SageMaker job holds its role, not its owner's keys.
            os.environ["AWS_ACCESS_KEY_ID"] = jobs_pair.access_key_id
            os.environ["AWS_SECRET_ACCESS_KEY"] = jobs_pair.secret_access_key
        settings = settings.with_overrides(s3_endpoint_url=endpoint)
        if seaweed is not None:
            _create_bucket(settings, default_bucket(settings))
        platform = build_platform(settings, control=not args.no_executor)
        if platform.reconciler is not None:
            platform.reconciler.start()
        api = build_api(platform, None if args.auth == "none" else credentials)
        kms_key = KMS_KEY_ID if seaweed else None
        state = ServerState(args.host, args.port, settings.s3_endpoint_url, args.auth, os.getpid(), kms_key)
        _announce(state, settings, credentials.primary.access_key_id, args.no_executor)
        write_state(settings.home, state)
        config = uvicorn.Config(
            api.app, host=args.host, port=args.port, log_level="warning", access_log=False, lifespan="off"
        )
        # uvicorn re-raises SIGTERM after its graceful shutdown; turned into SystemExit it unwinds through
        # the finally below instead of killing the process with SeaweedFS still running.
        previous = signal.signal(signal.SIGTERM, _exit_on_signal)
        try:
            uvicorn.Server(config).run(sockets=[listener])
        finally:
            signal.signal(signal.SIGTERM, previous)  # in-process callers (tests) keep their own
        return 0
    finally:
        listener.close()
        clear_state(settings.home, os.getpid())
        if platform is not None:
            platform.close()
        if seaweed is not None:
            seaweed.stop()


def _bind(host: str, port: int) -> socket.socket:
    """The API's listening socket (connections queue on it until uvicorn serves them)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(2048)
    except OSError:
        listener.close()
        raise
    listener.set_inheritable(True)
    return listener


def _is_server(pid: int) -> bool:
    """Whether ``pid`` is a live ``trainplane ... server`` process (a state file left by a killed
    server may name a pid the system has since given to something else)."""
    from trainplane.liveness import pid_alive, process_arguments

    if not pid_alive(pid):
        return False
    arguments = process_arguments(pid)
    if arguments is None:
        return True  # alive, but its command line is unreadable: refusing is the safe side
    return b"server" in arguments and any(b"trainplane" in argument for argument in arguments)


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _create_bucket(settings: Settings, bucket: str) -> None:
    """The SDKs' default bucket, so that the first upload from a client does not have to create it."""
    from trainplane.storage.router import open_storage

    open_storage(settings.local_s3_root, settings.s3_endpoint_url).ensure_bucket(bucket)


def _announce(state: ServerState, settings: Settings, key: str, no_executor: bool) -> None:
    print(f"trainplane API on {state.url}  (home {settings.home})", flush=True)
    if state.auth == "none":
        print("Authentication is OFF (--auth none): any local process can use this API.", flush=True)
    else:
        print(f"SigV4 authentication; access key {key} (secrets in {settings.home / 'credentials'})")
    fallback = f"none (s3:// URIs resolve under {settings.local_s3_root})"
    print(f"S3 endpoint: {settings.s3_endpoint_url or fallback}")
    if no_executor:
        print("--no-executor: jobs are stored and stay InProgress/Starting; nothing runs them.")
    print('Point clients here with: eval "$(trainplane env)"', flush=True)
