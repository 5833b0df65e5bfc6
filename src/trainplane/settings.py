"""Configuration, read once from a mapping (normally ``os.environ``) into a frozen dataclass."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from trainplane.errors import ConfigurationError

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Settings:
    """Everything a control plane needs to know about where it lives.

    home: the data directory (database, object store, job roots, logs).
    database_url: SQLAlchemy URL; SQLite under ``home`` unless given.
    s3_endpoint_url: when set, ``s3://`` URIs go to this S3-compatible endpoint through boto3;
        otherwise they resolve to directories under ``home/s3``.
    oversubscription: factor applied to this machine's CPUs and memory when deciding whether an
        instance type fits; 1.0 means jobs never get more than the machine has.
    stop_grace_seconds: time between SIGTERM and SIGKILL when a job is stopped (SageMaker: 120 s).
    spot_interruptions: the interruption source of managed spot jobs, a ``trainplane.spot.parse_source``
        spec as a bare name (``none``) or JSON; a job may override it with the Environment entry
        ``TRAINPLANE_SPOT_INTERRUPTIONS``.
    spot_notice_seconds: time between a spot interruption notice (SIGTERM) and the kill (EC2: 120 s).
    pin_cpus: the local executor gives each host its own cores as CPU affinity, sized from the instance
        type's vCPUs (``trainplane.executors.cpus``); off (``TRAINPLANE_PIN_CPUS=0``), hosts run on any core.
    spot_on_demand_fallback: when spot capacity would return only after MaxWaitTimeInSeconds, continue
        on on-demand capacity (billed as such) instead of stopping with MaxWaitTimeExceeded.
    spare_agents: how many started agents the local executor keeps waiting for the next hosts
        (``TRAINPLANE_SPARE_AGENTS``, 0: every host starts a fresh interpreter). After a built-in job
        whose start-up is heavy (Linear Learner: torch), they also hold its imports (``runtime.preload``).
    """

    home: Path
    database_url: str
    s3_endpoint_url: str | None = None
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID
    executor: str = "local"
    oversubscription: float = 1.0
    stop_grace_seconds: float = 120.0
    poll_interval_seconds: float = 0.05
    machine_cpus: int | None = None
    machine_memory_gib: float | None = None
    ray_address: str | None = None
    ray_require_instance_resource: bool = False
    gpus: tuple[int, ...] | None = None
    spot_interruptions: str = "none"
    spot_notice_seconds: float = 120.0
    spot_on_demand_fallback: bool = False
    pin_cpus: bool = True
    spare_agents: int = 2

    @property
    def local_s3_root(self) -> Path:
        return self.home / "s3"

    @property
    def jobs_root(self) -> Path:
        return self.home / "jobs"

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]


def _float(environ: Mapping[str, str], key: str, default: float) -> float:
    raw = environ.get(key)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{key} must be a number, got {raw!r}") from exc


def _gpus(environ: Mapping[str, str]) -> tuple[int, ...] | None:
    raw = environ.get("TRAINPLANE_GPUS")
    if raw is None:
        return None
    try:
        return tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise ConfigurationError(f"TRAINPLANE_GPUS must be comma-separated GPU ids, got {raw!r}") from exc


def load_settings(environ: Mapping[str, str] | None = None, home: str | Path | None = None) -> Settings:
    """Build Settings from an environment mapping; ``home`` (the CLI's --home) wins over TRAINPLANE_HOME."""
    env = os.environ if environ is None else environ
    home_path = Path(home or env.get("TRAINPLANE_HOME") or Path.home() / ".trainplane").expanduser()
    home_path = home_path.resolve()
    database_url = env.get("TRAINPLANE_DATABASE_URL") or f"sqlite:///{home_path / 'trainplane.db'}"
    oversubscription = _float(env, "TRAINPLANE_OVERSUBSCRIPTION", 1.0)
    if oversubscription < 1.0:
        raise ConfigurationError("TRAINPLANE_OVERSUBSCRIPTION must be >= 1.0")
    return Settings(
        home=home_path,
        database_url=database_url,
        s3_endpoint_url=env.get("TRAINPLANE_S3_ENDPOINT_URL") or None,
        region=env.get("TRAINPLANE_REGION") or DEFAULT_REGION,
        account_id=env.get("TRAINPLANE_ACCOUNT_ID") or DEFAULT_ACCOUNT_ID,
        executor=env.get("TRAINPLANE_EXECUTOR") or "local",
        oversubscription=oversubscription,
        stop_grace_seconds=_float(env, "TRAINPLANE_STOP_GRACE_SECONDS", 120.0),
        poll_interval_seconds=_float(env, "TRAINPLANE_POLL_INTERVAL_SECONDS", 0.05),
        spot_interruptions=env.get("TRAINPLANE_SPOT_INTERRUPTIONS") or "none",
        spot_notice_seconds=_float(env, "TRAINPLANE_SPOT_NOTICE_SECONDS", 120.0),
        spot_on_demand_fallback=_bool(env, "TRAINPLANE_SPOT_ON_DEMAND_FALLBACK"),
        ray_address=env.get("TRAINPLANE_RAY_ADDRESS") or None,
        ray_require_instance_resource=_bool(env, "TRAINPLANE_RAY_REQUIRE_INSTANCE_RESOURCE"),
        gpus=_gpus(env),
        pin_cpus=_bool(env, "TRAINPLANE_PIN_CPUS", default=True),
        spare_agents=_count(env, "TRAINPLANE_SPARE_AGENTS", 2),
    )


def _count(environ: Mapping[str, str], key: str, default: int) -> int:
    raw = (environ.get(key) or "").strip()
    if raw == "":
        return default
    if not raw.isdigit():
        raise ConfigurationError(f"{key} must be a whole number >= 0, got {raw!r}")
    return int(raw)


def _bool(environ: Mapping[str, str], key: str, *, default: bool = False) -> bool:
    raw = (environ.get(key) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigurationError(f"{key} must be true or false, got {raw!r}")
