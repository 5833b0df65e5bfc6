"""The store: the single source of truth for jobs, attempts, metrics, logs and tags.

Invariants every implementation keeps (the contract suite in tests/store checks them):
- returned objects are frozen copies; changing one never changes the store;
- each call is one transaction: it happens completely or not at all;
- terminal jobs (Completed, Failed, Stopped) are immutable, except that they may be deleted;
- a name is never silently reused: creating an existing name raises ResourceInUse; only
  ``delete_training_job`` frees it;
- ``claim`` is a compare-and-set, so two control planes never drive the same job.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Engine, Table, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from trainplane.errors import ConflictError, ResourceInUse, ValidationError
from trainplane.states import JobStatus, Phase
from trainplane.store.launch_lock import launch_lock
from trainplane.store.records import Attempt, Controller, LogEvent, MetricPoint, TrainingJob, Transition
from trainplane.store.signals import StatusSignal
from trainplane.store.tables import (
    AttemptRow,
    ControllerRow,
    LogEventRow,
    MetricPointRow,
    TagRow,
    TrainingJobRow,
    TransitionRow,
)

_TERMINAL = {s.value for s in JobStatus if s.is_terminal()}
_SORT_COLUMNS = {
    "Name": TrainingJobRow.name,
    "CreationTime": TrainingJobRow.creation_time,
    "Status": TrainingJobRow.status,
}


def list_position(job: TrainingJob, sort_by: str) -> tuple[Any, str]:
    """Where ``job`` stands in ``list_training_jobs`` sorted by ``sort_by``: its ``after``."""
    value = {"Name": job.name, "CreationTime": job.creation_time, "Status": job.status}[sort_by]
    return value, job.name


def past(column: Any, name: Any, after: tuple[Any, ...], ascending: bool) -> Any:
    """Rows after position ``after`` = (sort value, name) in the order (column, name)."""
    value, last = after
    if ascending:
        return or_(column > value, and_(column == value, name > last))
    return or_(column < value, and_(column == value, name < last))


# The tables themselves, for Core inserts (see ``ingest_output``).
_LOG_EVENTS = cast(Table, LogEventRow.__table__)
_METRIC_POINTS = cast(Table, MetricPointRow.__table__)
_POINT_COLUMNS = (MetricPointRow.name, MetricPointRow.value, MetricPointRow.timestamp, MetricPointRow.host)


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # SQLite allows one writer at a time; serialising this process's writers avoids busy retries.
        self._write_lock = threading.RLock() if engine.dialect.name == "sqlite" else None
        self.status_changes = StatusSignal()  # a job's status changed (or it was deleted) through here

    @contextmanager
    def launch_lock(self) -> Iterator[None]:
        """Held while this control plane reads the capacity in use and claims queued jobs
        (``store.launch_lock``): another control plane on this store waits for it."""
        with launch_lock(self.engine):
            yield

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        if self._write_lock is None:
            with self._sessions.begin() as session:
                yield session
            return
        with self._write_lock, self._sessions.begin() as session:
            yield session

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    # ----------------------------------------------------------------- training jobs
    def create_training_job(
        self,
        *,
        name: str,
        arn: str,
        request: dict[str, Any],
        model_artifacts: str,
        now: float,
        tuning_job_arn: str | None = None,
        tags: Sequence[dict[str, str]] = (),
        message: str = "Starting the training job",
    ) -> TrainingJob:
        row = TrainingJobRow(
            name=name,
            arn=arn,
            status=JobStatus.IN_PROGRESS.value,
            secondary_status="Starting",
            request=request,
            creation_time=now,
            last_modified_time=now,
            model_artifacts=model_artifacts,
            tuning_job_arn=tuning_job_arn,
            phase=Phase.QUEUED.value,
            retries_used=0,
            version=1,
        )
        transition = TransitionRow(job_name=name, status="Starting", start_time=now, message=message)
        try:
            with self._tx() as s:
                s.add(row)
                s.flush()
                s.add(transition)
                for tag in tags:
                    s.merge(TagRow(resource_arn=arn, key=tag["Key"], value=tag["Value"]))
        except IntegrityError as exc:
            raise ResourceInUse(
                "Training job names must be unique within an AWS account and region, and a training job "
                f"with this name already exists ({arn})"
            ) from exc
        # Built from what was written (a copy), instead of reading it back.
        return _job(row, [transition])

    def get_training_job(self, name: str) -> TrainingJob | None:
        with self._read() as s:
            row = s.get(TrainingJobRow, name)
            if row is None:
                return None
            transitions = s.scalars(
                select(TransitionRow).where(TransitionRow.job_name == name).order_by(TransitionRow.id)
            ).all()
            return _job(row, transitions)

    def training_job_status(self, name: str) -> str | None:
        """The job's TrainingJobStatus alone (one indexed read, for pollers), or None if it is unknown."""
        with self._read() as s:
            return s.scalar(select(TrainingJobRow.status).where(TrainingJobRow.name == name))

    def list_training_jobs(
        self,
        *,
        name_contains: str | None = None,
        status_equals: str | None = None,
        statuses: Iterable[str] | None = None,
        phases: Iterable[str] | None = None,
        creation_after: float | None = None,
        creation_before: float | None = None,
        modified_after: float | None = None,
        modified_before: float | None = None,
        tuning_job_arn: str | None = None,
        sort_by: str = "CreationTime",
        ascending: bool = False,
        after: tuple[Any, ...] | None = None,
        limit: int | None = None,
    ) -> list[TrainingJob]:
        """Jobs matching every given filter, sorted, without transitions (summaries); ``after`` (a
        ``list_position``) starts after that job in the order."""
        query = select(TrainingJobRow)
        if name_contains:
            query = query.where(
                func.lower(TrainingJobRow.name).contains(name_contains.lower(), autoescape=True)
            )
        if status_equals:
            query = query.where(TrainingJobRow.status == status_equals)
        if statuses is not None:
            query = query.where(TrainingJobRow.status.in_(list(statuses)))
        if phases is not None:
            query = query.where(TrainingJobRow.phase.in_(list(phases)))
        if creation_after is not None:
            query = query.where(TrainingJobRow.creation_time > creation_after)
        if creation_before is not None:
            query = query.where(TrainingJobRow.creation_time < creation_before)
        if modified_after is not None:
            query = query.where(TrainingJobRow.last_modified_time > modified_after)
        if modified_before is not None:
            query = query.where(TrainingJobRow.last_modified_time < modified_before)
        if tuning_job_arn is not None:
            query = query.where(TrainingJobRow.tuning_job_arn == tuning_job_arn)
        column = _SORT_COLUMNS[sort_by]
        order = column.asc() if ascending else column.desc()
        # The name breaks ties so that pages never overlap or skip a job.
        tiebreak = TrainingJobRow.name.asc() if ascending else TrainingJobRow.name.desc()
        if after is not None:
            query = query.where(past(column, TrainingJobRow.name, after, ascending))
        query = query.order_by(order, tiebreak)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as s:
            return [_job(row, ()) for row in s.scalars(query).all()]

    def update_training_job(
        self,
        name: str,
        *,
        now: float,
        secondary: str | None = None,
        message: str | None = None,
        expected_owner: str | None = None,
        check_owner: bool = False,
        new_transition: bool = False,
        secondary_while: str | None = None,
        **fields: Any,
    ) -> TrainingJob:
        """Change fields of a non-terminal job; a new ``secondary`` status also appends a transition
        (``new_transition`` appends one even when the status is unchanged, e.g. Starting again on a retry).

        With ``check_owner`` the update happens only while ``expected_owner`` drives the job. With
        ``secondary_while`` the secondary status changes only while the job's status is that one (a
        host's Downloading, read just before a stop request landed, must not follow Stopping).
        """
        with self._tx() as s:
            row = s.get(TrainingJobRow, name, with_for_update=True)
            if row is None:
                raise ValidationError("Requested resource not found.")
            if row.status in _TERMINAL:
                raise ConflictError(f"Training job {name} is in terminal status {row.status}.")
            if check_owner and row.owner != expected_owner:
                raise ConflictError(f"Training job {name} is driven by another control plane.")
            for key, value in fields.items():
                setattr(row, key, value)
            if secondary_while is not None and row.status != secondary_while:
                secondary = None
            if secondary is not None and (new_transition or secondary != row.secondary_status):
                _close_transition(s, name, now)
                s.add(TransitionRow(job_name=name, status=secondary, start_time=now, message=message or ""))
                row.secondary_status = secondary
            if "status" in fields and fields["status"] in _TERMINAL:
                # The terminal transition has StartTime == EndTime.
                _close_transition(s, name, now)
            row.last_modified_time = now
            row.version += 1
            s.flush()
            transitions = s.scalars(
                select(TransitionRow).where(TransitionRow.job_name == name).order_by(TransitionRow.id)
            ).all()
            job = _job(row, transitions)
        if "status" in fields:
            self.status_changes.notify()
        return job

    def claim(self, name: str, owner: str, *, previous: str | None = None) -> bool:
        """Make ``owner`` the driver of a job currently driven by ``previous``; False if someone else won."""
        with self._tx() as s:
            condition = (
                TrainingJobRow.owner.is_(None) if previous is None else TrainingJobRow.owner == previous
            )
            result = s.execute(
                update(TrainingJobRow)
                .where(TrainingJobRow.name == name, condition, TrainingJobRow.status.not_in(_TERMINAL))
                .values(owner=owner, version=TrainingJobRow.version + 1)
            )
            return result.rowcount == 1  # type: ignore[attr-defined]

    def request_stop(self, name: str, *, reason: str, now: float, message: str) -> TrainingJob | None:
        """InProgress -> Stopping. Returns None when the job is not InProgress (nothing changed)."""
        with self._tx() as s:
            row = s.get(TrainingJobRow, name, with_for_update=True)
            if row is None or row.status != JobStatus.IN_PROGRESS.value:
                return None
            row.status = JobStatus.STOPPING.value
            row.stop_reason = reason
            _close_transition(s, name, now)
            s.add(TransitionRow(job_name=name, status="Stopping", start_time=now, message=message))
            row.secondary_status = "Stopping"
            row.last_modified_time = now
            row.version += 1
        self.status_changes.notify()
        return self.get_training_job(name)

    def delete_training_job(self, name: str) -> bool:
        """Remove a terminal job and everything recorded about it; the name becomes reusable."""
        with self._tx() as s:
            row = s.get(TrainingJobRow, name, with_for_update=True)
            if row is None:
                return False
            if row.status not in _TERMINAL:
                raise ResourceInUse(
                    f"Training job {name} is in status {row.status} and cannot be deleted; "
                    "only Completed, Failed or Stopped jobs can be deleted."
                )
            for table in (TransitionRow, AttemptRow, MetricPointRow, LogEventRow):
                s.execute(delete(table).where(table.job_name == name))
            s.execute(delete(TagRow).where(TagRow.resource_arn == row.arn))
            s.delete(row)
        self.status_changes.notify()
        return True

    # ----------------------------------------------------------------- attempts
    def add_attempt(self, attempt: Attempt) -> None:
        with self._tx() as s:
            s.add(AttemptRow(**attempt.__dict__))

    def update_attempt(self, name: str, number: int, **fields: Any) -> None:
        with self._tx() as s:
            s.execute(
                update(AttemptRow)
                .where(AttemptRow.job_name == name, AttemptRow.number == number)
                .values(**fields)
            )

    def attempts(self, name: str) -> list[Attempt]:
        with self._read() as s:
            rows = s.scalars(
                select(AttemptRow).where(AttemptRow.job_name == name).order_by(AttemptRow.number)
            )
            return [_attempt(row) for row in rows]

    # ----------------------------------------------------------------- metrics and logs
    def add_metric_points(self, name: str, points: Sequence[MetricPoint]) -> None:
        if not points:
            return
        with self._tx() as s:
            s.add_all(
                MetricPointRow(job_name=name, name=p.name, value=p.value, timestamp=p.timestamp, host=p.host)
                for p in points
            )

    def metric_points(self, name: str) -> list[MetricPoint]:
        # Plain rows, not ORM objects: a long job has thousands of points and this is read on every
        # Describe; building an ORM instance per row cost ~10x the query.
        with self._read() as s:
            rows = s.execute(
                select(*_POINT_COLUMNS).where(MetricPointRow.job_name == name).order_by(MetricPointRow.id)
            )
            return [MetricPoint(*row) for row in rows]

    def final_metric_points(self, name: str, metric_names: Sequence[str], limit: int) -> list[MetricPoint]:
        """The last point of each of ``metric_names`` that has any, in the order the metrics first
        appeared (at most ``limit``). Two index seeks per metric, however many points the job has."""
        found: list[tuple[int, MetricPoint]] = []
        with self._read() as s:
            for metric in dict.fromkeys(metric_names):
                of_metric = (MetricPointRow.job_name == name, MetricPointRow.name == metric)
                first = s.scalar(select(func.min(MetricPointRow.id)).where(*of_metric))
                last = None if first is None else _last_point(s, name, metric)
                if first is not None and last is not None:
                    found.append((first, last))
        return [point for _, point in sorted(found, key=lambda item: item[0])[:limit]]

    def last_metric_point(self, name: str, metric: str) -> MetricPoint | None:
        with self._read() as s:
            return _last_point(s, name, metric)

    def metric_points_after(self, name: str, metric: str, after_id: int) -> list[tuple[int, MetricPoint]]:
        """(id, point) of one metric with ids above ``after_id``, in order: a reader that keeps the
        last id it saw reads each point once."""
        with self._read() as s:
            rows = s.execute(
                select(MetricPointRow.id, *_POINT_COLUMNS)
                .where(
                    MetricPointRow.job_name == name,
                    MetricPointRow.name == metric,
                    MetricPointRow.id > after_id,
                )
                .order_by(MetricPointRow.id)
            )
            return [(row[0], MetricPoint(*row[1:])) for row in rows]

    def append_log_events(self, name: str, stream: str, events: Sequence[tuple[float, str]]) -> None:
        """Log lines without metric points (see ``ingest_output``)."""
        self.ingest_output(name, stream, events, ())

    def ingest_output(
        self, name: str, stream: str, events: Sequence[tuple[float, str]], points: Sequence[MetricPoint]
    ) -> None:
        """Log lines and the metric points scanned from them, in one transaction (so a restart that
        skips the lines already stored never loses or doubles a metric)."""
        # Core inserts into the tables (one executemany each), neither ORM objects nor the ORM's bulk
        # insert: a job that prints a line per step sends thousands of lines a second, and the ORM's
        # per-row work was most of a tick (`benchmarks/log_ingestion.py`).
        with self._tx() as s:
            if events:
                s.execute(
                    insert(_LOG_EVENTS),
                    [{"job_name": name, "stream": stream, "timestamp": t, "message": m} for t, m in events],
                )
            if points:
                s.execute(
                    insert(_METRIC_POINTS),
                    [
                        {"job_name": name, "name": p.name, "value": p.value, "timestamp": p.timestamp,
                         "host": p.host}
                        for p in points
                    ],
                )  # fmt: skip

    def count_log_events(self, name: str, stream: str) -> int:
        with self._read() as s:
            query = select(func.count()).where(LogEventRow.job_name == name, LogEventRow.stream == stream)
            return int(s.scalar(query) or 0)

    def log_streams(self, name: str) -> list[tuple[str, float, float]]:
        """(stream, first event time, last event time) for each stream of a job."""
        query = (
            select(LogEventRow.stream, func.min(LogEventRow.timestamp), func.max(LogEventRow.timestamp))
            .where(LogEventRow.job_name == name)
            .group_by(LogEventRow.stream)
            .order_by(func.min(LogEventRow.id))
        )
        with self._read() as s:
            return [(row[0], row[1], row[2]) for row in s.execute(query)]

    def log_events(
        self, name: str, *, stream: str | None = None, after_id: int = 0, limit: int = 10_000
    ) -> list[LogEvent]:
        query = select(LogEventRow).where(LogEventRow.job_name == name, LogEventRow.id > after_id)
        if stream is not None:
            query = query.where(LogEventRow.stream == stream)
        with self._read() as s:
            rows = s.scalars(query.order_by(LogEventRow.id).limit(limit))
            return [LogEvent(r.id, r.stream, r.timestamp, r.message) for r in rows]

    def log_events_before(self, name: str, stream: str, before_id: float, limit: int) -> list[LogEvent]:
        """Up to ``limit`` events of one stream with ids below ``before_id``, newest first: a tail read
        costs what it returns, however long the stream."""
        query = select(LogEventRow).where(LogEventRow.job_name == name, LogEventRow.stream == stream)
        if before_id != float("inf"):
            query = query.where(LogEventRow.id < before_id)
        with self._read() as s:
            rows = s.scalars(query.order_by(LogEventRow.id.desc()).limit(limit))
            return [LogEvent(r.id, r.stream, r.timestamp, r.message) for r in rows]

    # ----------------------------------------------------------------- tags
    def add_tags(self, arn: str, tags: Sequence[dict[str, str]]) -> None:
        with self._tx() as s:
            for tag in tags:
                s.merge(TagRow(resource_arn=arn, key=tag["Key"], value=tag["Value"]))

    def list_tags(self, arn: str) -> list[dict[str, str]]:
        with self._read() as s:
            rows = s.scalars(select(TagRow).where(TagRow.resource_arn == arn).order_by(TagRow.key))
            return [{"Key": r.key, "Value": r.value} for r in rows]

    def delete_tags(self, arn: str, keys: Sequence[str]) -> None:
        with self._tx() as s:
            s.execute(delete(TagRow).where(TagRow.resource_arn == arn, TagRow.key.in_(list(keys))))

    # ----------------------------------------------------------------- control planes
    def register_controller(self, controller: Controller) -> None:
        with self._tx() as s:
            s.merge(ControllerRow(**controller.__dict__))

    def heartbeat(self, controller_id: str, now: float) -> None:
        with self._tx() as s:
            s.execute(update(ControllerRow).where(ControllerRow.id == controller_id).values(heartbeat=now))

    def controllers(self) -> list[Controller]:
        with self._read() as s:
            rows = s.scalars(select(ControllerRow))
            return [Controller(r.id, r.hostname, r.pid, r.started, r.heartbeat) for r in rows]

    def remove_controller(self, controller_id: str) -> None:
        with self._tx() as s:
            s.execute(delete(ControllerRow).where(ControllerRow.id == controller_id))

    def jobs_owned_by_others(self, owner: str) -> list[TrainingJob]:
        """Non-terminal jobs that some other (possibly dead) control plane claimed."""
        query = select(TrainingJobRow).where(
            TrainingJobRow.status.not_in(_TERMINAL),
            TrainingJobRow.owner.is_not(None),
            or_(TrainingJobRow.owner != owner),
        )
        with self._read() as s:
            return [_job(row, ()) for row in s.scalars(query)]


def _close_transition(s: Session, name: str, now: float) -> None:
    s.execute(
        update(TransitionRow)
        .where(TransitionRow.job_name == name, TransitionRow.end_time.is_(None))
        .values(end_time=now)
    )


def _last_point(s: Session, name: str, metric: str) -> MetricPoint | None:
    """The newest point of one metric of one job: one seek on the (job, name, id) index."""
    row = s.execute(
        select(*_POINT_COLUMNS)
        .where(MetricPointRow.job_name == name, MetricPointRow.name == metric)
        .order_by(MetricPointRow.id.desc())
        .limit(1)
    ).first()
    return None if row is None else MetricPoint(*row)


def _job(row: TrainingJobRow, transitions: Iterable[TransitionRow]) -> TrainingJob:
    return TrainingJob(
        name=row.name,
        arn=row.arn,
        status=row.status,
        secondary_status=row.secondary_status,
        failure_reason=row.failure_reason,
        request=_deep_copy(row.request),
        creation_time=row.creation_time,
        last_modified_time=row.last_modified_time,
        training_start_time=row.training_start_time,
        training_end_time=row.training_end_time,
        stop_reason=row.stop_reason,
        model_artifacts=row.model_artifacts,
        tuning_job_arn=row.tuning_job_arn,
        owner=row.owner,
        phase=row.phase,
        retries_used=row.retries_used,
        version=row.version,
        transitions=[Transition(t.status, t.start_time, t.end_time, t.message) for t in transitions],
    )


def _attempt(row: AttemptRow) -> Attempt:
    return Attempt(
        job_name=row.job_name,
        number=row.number,
        status=row.status,
        launch_time=row.launch_time,
        start_time=row.start_time,
        end_time=row.end_time,
        exit_code=row.exit_code,
        reason=row.reason,
        executor=row.executor,
        hosts=_deep_copy(row.hosts),
        spot=row.spot,
    )


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value
