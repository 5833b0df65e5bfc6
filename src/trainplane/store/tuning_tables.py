"""Tables of hyperparameter tuning jobs (revision 0002). Explicit rows and JSON documents, no pickles.

They live on ``tables.Base`` so that ``Base.metadata`` (what Alembic's env reflects) includes them once
this module is imported; ``trainplane.store`` imports it.

``tuning_jobs.key`` is the lower-cased name: tuning-job names are case-insensitive for uniqueness and
lookup, while ``name`` keeps the spelling the caller used. ``tuning_children`` holds one row per
launch *intent*: it is written in the same transaction as the strategy state that produced it, before
the child training job exists, so a control plane that dies in between creates the job on recovery.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trainplane.store.tables import Base


class TuningJobRow(Base):
    __tablename__ = "tuning_jobs"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    arn: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16), index=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The validated request as Describe echoes it (CreationTime etc. live in columns).
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    # {"definitions": [state_dict of each definition's strategy]}
    strategy_state: Mapped[dict[str, Any]] = mapped_column(JSON)
    launched: Mapped[int] = mapped_column(Integer, default=0)
    # Why launching ended and what TuningJobCompletionDetails reports.
    completion: Mapped[dict[str, Any]] = mapped_column(JSON)
    creation_time: Mapped[float] = mapped_column(Float, index=True)
    last_modified_time: Mapped[float] = mapped_column(Float)
    end_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class TuningChildRow(Base):
    __tablename__ = "tuning_children"

    tuning_key: Mapped[str] = mapped_column(
        ForeignKey("tuning_jobs.key", ondelete="CASCADE"), primary_key=True
    )
    index: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1-based launch counter (NNN)
    training_job_name: Mapped[str] = mapped_column(String(63), unique=True)
    definition_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    config: Mapped[dict[str, str]] = mapped_column(JSON)  # the tuned hyperparameters only
    created: Mapped[bool] = mapped_column(Boolean, default=False)
    early_stopped: Mapped[bool] = mapped_column(Boolean, default=False)
    # Filled once the child is terminal, so snapshots of finished children need no metric scan.
    final_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    objective: Mapped[float | None] = mapped_column(Float, nullable=True)
    intermediate: Mapped[list[float] | None] = mapped_column(JSON, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
