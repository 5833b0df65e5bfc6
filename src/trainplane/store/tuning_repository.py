"""The tuning store: tuning jobs, their launch intents (children) and strategy state.

Same invariants as ``Store`` (and the same engine and write lock): returned records are frozen copies,
each call is one transaction, names are never silently reused (case-insensitively), terminal tuning
jobs only change by deletion. ``record_launch`` is a compare-and-set on the launch counter and the
owner, so two control planes never launch the same child twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from trainplane.errors import ResourceInUse
from trainplane.store.repository import Store, past
from trainplane.store.tables import TagRow
from trainplane.store.tuning_tables import TuningChildRow, TuningJobRow

TERMINAL = frozenset({"Completed", "Failed", "Stopped"})
_SORT: dict[str, Any] = {
    "Name": TuningJobRow.key,
    "CreationTime": TuningJobRow.creation_time,
    "Status": TuningJobRow.status,
}


def tuning_list_position(job: TuningJob, sort_by: str) -> tuple[Any, str]:
    """Where ``job`` stands in ``list_tuning_jobs`` sorted by ``sort_by``: its ``after``."""
    key = job.name.lower()  # the stored key: names are unique regardless of case
    value = {"Name": key, "CreationTime": job.creation_time, "Status": job.status}[sort_by]
    return value, key


@dataclass(frozen=True)
class TuningJob:
    name: str
    arn: str
    status: str
    failure_reason: str | None
    request: dict[str, Any]
    strategy_state: dict[str, Any]
    launched: int
    completion: dict[str, Any]
    creation_time: float
    last_modified_time: float
    end_time: float | None
    owner: str | None
    version: int


@dataclass(frozen=True)
class TuningChild:
    index: int
    training_job_name: str
    definition_name: str | None
    config: dict[str, str]
    created: bool = False
    early_stopped: bool = False
    final_status: str | None = None
    objective: float | None = None
    intermediate: tuple[float, ...] | None = None
    finished_at: float | None = None


class TuningStore:
    def __init__(self, store: Store) -> None:
        self.engine = store.engine
        self._tx = store._tx  # one write lock per process for every table of the database
        self._read = store._read

    # ------------------------------------------------------------------ tuning jobs
    def create_tuning_job(
        self,
        *,
        name: str,
        arn: str,
        request: dict[str, Any],
        strategy_state: dict[str, Any],
        now: float,
        tags: Sequence[Mapping[str, str]] = (),
    ) -> TuningJob:
        row = TuningJobRow(
            key=name.lower(),
            name=name,
            arn=arn,
            status="InProgress",
            request=request,
            strategy_state=strategy_state,
            launched=0,
            completion={},
            creation_time=now,
            last_modified_time=now,
            version=1,
        )
        try:
            with self._tx() as s:
                s.add(row)
                s.flush()
                for tag in tags:
                    s.merge(TagRow(resource_arn=arn, key=tag["Key"], value=tag["Value"]))
        except IntegrityError as exc:
            raise ResourceInUse(
                f"A hyperparameter tuning job with the name, {name}, already exists. Choose a different name."
            ) from exc
        job = self.get_tuning_job(name)
        assert_found(job, name)
        return job  # type: ignore[return-value]

    def get_tuning_job(self, name: str) -> TuningJob | None:
        with self._read() as s:
            row = s.get(TuningJobRow, name.lower())
            return None if row is None else _job(row)

    def list_tuning_jobs(
        self,
        *,
        name_contains: str | None = None,
        status_equals: str | None = None,
        statuses: Iterable[str] | None = None,
        creation_after: float | None = None,
        creation_before: float | None = None,
        modified_after: float | None = None,
        modified_before: float | None = None,
        sort_by: str = "Name",
        ascending: bool = True,
        after: tuple[Any, ...] | None = None,
        limit: int | None = None,
    ) -> list[TuningJob]:
        """Tuning jobs matching every filter, sorted; ``after`` (a ``tuning_list_position``) starts
        after that job in the order."""
        query = select(TuningJobRow)
        if name_contains:
            query = query.where(TuningJobRow.key.contains(name_contains.lower(), autoescape=True))
        if status_equals:
            query = query.where(TuningJobRow.status == status_equals)
        if statuses is not None:
            query = query.where(TuningJobRow.status.in_(list(statuses)))
        for column, bound, lower in (
            (TuningJobRow.creation_time, creation_after, True),
            (TuningJobRow.creation_time, creation_before, False),
            (TuningJobRow.last_modified_time, modified_after, True),
            (TuningJobRow.last_modified_time, modified_before, False),
        ):
            if bound is not None:
                query = query.where(column > bound if lower else column < bound)
        order = _SORT[sort_by]
        tiebreak = TuningJobRow.key.asc() if ascending else TuningJobRow.key.desc()
        if after is not None:
            query = query.where(past(order, TuningJobRow.key, after, ascending))
        query = query.order_by(order.asc() if ascending else order.desc(), tiebreak)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as s:
            return [_job(row) for row in s.scalars(query)]

    def update_tuning_job(self, name: str, *, now: float, **fields: Any) -> TuningJob | None:
        """Change fields of a non-terminal tuning job; None when it is terminal or gone."""
        with self._tx() as s:
            row = s.get(TuningJobRow, name.lower(), with_for_update=True)
            if row is None or row.status in TERMINAL:
                return None
            for key, value in fields.items():
                setattr(row, key, value)
            row.last_modified_time = now
            row.version += 1
            s.flush()
            return _job(row)

    def request_stop(self, name: str, *, now: float) -> bool:
        """InProgress -> Stopping; False when the tuning job is in any other status."""
        with self._tx() as s:
            result = s.execute(
                update(TuningJobRow)
                .where(TuningJobRow.key == name.lower(), TuningJobRow.status == "InProgress")
                .values(status="Stopping", last_modified_time=now, version=TuningJobRow.version + 1)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def claim(self, name: str, owner: str, *, previous: str | None) -> bool:
        """Make ``owner`` the tuner of a non-terminal job now owned by ``previous`` (compare-and-set)."""
        condition = TuningJobRow.owner.is_(None) if previous is None else TuningJobRow.owner == previous
        with self._tx() as s:
            result = s.execute(
                update(TuningJobRow)
                .where(TuningJobRow.key == name.lower(), condition, TuningJobRow.status.not_in(TERMINAL))
                .values(owner=owner, version=TuningJobRow.version + 1)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def delete_tuning_job(self, name: str) -> TuningJob | None:
        """Remove a terminal tuning job and its launch records (child training jobs stay)."""
        with self._tx() as s:
            row = s.get(TuningJobRow, name.lower(), with_for_update=True)
            if row is None:
                return None
            if row.status not in TERMINAL:
                raise ResourceInUse(
                    f"Hyperparameter tuning job {row.name} is in status {row.status} and cannot be deleted; "
                    "stop it first."
                )
            job = _job(row)
            s.execute(delete(TuningChildRow).where(TuningChildRow.tuning_key == row.key))
            s.execute(delete(TagRow).where(TagRow.resource_arn == row.arn))
            s.delete(row)
            return job

    # ------------------------------------------------------------------ children
    def record_launch(
        self, name: str, *, owner: str, child: TuningChild, strategy_state: dict[str, Any], now: float
    ) -> bool:
        """Record launch intent ``child.index`` with the strategy state that chose it, atomically.

        Succeeds only if ``owner`` still drives the job, it is InProgress and ``child.index`` is the next
        launch; False means someone else moved on (the caller reloads)."""
        key = name.lower()
        with self._tx() as s:
            result = s.execute(
                update(TuningJobRow)
                .where(
                    TuningJobRow.key == key,
                    TuningJobRow.owner == owner,
                    TuningJobRow.status == "InProgress",
                    TuningJobRow.launched == child.index - 1,
                )
                .values(
                    launched=child.index,
                    strategy_state=strategy_state,
                    last_modified_time=now,
                    version=TuningJobRow.version + 1,
                )
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return False
            s.add(
                TuningChildRow(
                    tuning_key=key,
                    index=child.index,
                    training_job_name=child.training_job_name,
                    definition_name=child.definition_name,
                    config=dict(child.config),
                    created=False,
                    early_stopped=False,
                )
            )
            return True

    def update_child(self, name: str, index: int, **fields: Any) -> None:
        if "intermediate" in fields and fields["intermediate"] is not None:
            fields["intermediate"] = list(fields["intermediate"])
        with self._tx() as s:
            s.execute(
                update(TuningChildRow)
                .where(TuningChildRow.tuning_key == name.lower(), TuningChildRow.index == index)
                .values(**fields)
            )

    def children(self, name: str) -> list[TuningChild]:
        with self._read() as s:
            rows = s.scalars(
                select(TuningChildRow)
                .where(TuningChildRow.tuning_key == name.lower())
                .order_by(TuningChildRow.index)
            )
            return [_child(row) for row in rows]

    def count_children(self, name: str) -> int:
        with self._read() as s:
            query = select(func.count()).where(TuningChildRow.tuning_key == name.lower())
            return int(s.scalar(query) or 0)


def assert_found(job: TuningJob | None, name: str) -> None:
    if job is None:  # only if another process deleted it in between
        raise ResourceInUse(f"Hyperparameter tuning job {name} vanished right after creation.")


def _job(row: TuningJobRow) -> TuningJob:
    return TuningJob(
        name=row.name,
        arn=row.arn,
        status=row.status,
        failure_reason=row.failure_reason,
        request=_copy(row.request),
        strategy_state=_copy(row.strategy_state),
        launched=row.launched,
        completion=_copy(row.completion),
        creation_time=row.creation_time,
        last_modified_time=row.last_modified_time,
        end_time=row.end_time,
        owner=row.owner,
        version=row.version,
    )


def _child(row: TuningChildRow) -> TuningChild:
    return TuningChild(
        index=row.index,
        training_job_name=row.training_job_name,
        definition_name=row.definition_name,
        config=dict(row.config),
        created=row.created,
        early_stopped=row.early_stopped,
        final_status=row.final_status,
        objective=row.objective,
        intermediate=None if row.intermediate is None else tuple(row.intermediate),
        finished_at=row.finished_at,
    )


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
