"""Table definitions. Explicit rows only: requests are stored as JSON documents, never pickled objects."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class TrainingJobRow(Base):
    __tablename__ = "training_jobs"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    arn: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16), index=True)
    secondary_status: Mapped[str] = mapped_column(String(32))
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    creation_time: Mapped[float] = mapped_column(Float, index=True)
    last_modified_time: Mapped[float] = mapped_column(Float)
    training_start_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    training_end_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    # Why the job is being stopped: "Stopped" (StopTrainingJob) or "MaxRuntimeExceeded".
    stop_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    model_artifacts: Mapped[str] = mapped_column(Text)
    tuning_job_arn: Mapped[str | None] = mapped_column(String(256), nullable=True, index=True)
    # The control plane that currently drives this job (None while queued and unclaimed).
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    # Internal scheduling phase: queued -> running -> finishing -> done.
    phase: Mapped[str] = mapped_column(String(16), index=True)
    retries_used: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)


class TransitionRow(Base):
    __tablename__ = "secondary_status_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_name: Mapped[str] = mapped_column(ForeignKey("training_jobs.name", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    start_time: Mapped[float] = mapped_column(Float)
    end_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")


class AttemptRow(Base):
    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_name: Mapped[str] = mapped_column(ForeignKey("training_jobs.name", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    launch_time: Mapped[float] = mapped_column(Float)
    start_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    end_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    executor: Mapped[str] = mapped_column(String(16))
    hosts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    spot: Mapped[bool] = mapped_column(Boolean, default=False)


class MetricPointRow(Base):
    __tablename__ = "metric_points"
    __table_args__ = (
        Index("ix_metric_points_job_name_id", "job_name", "id"),
        Index("ix_metric_points_job_name_name_id", "job_name", "name", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_name: Mapped[str] = mapped_column(ForeignKey("training_jobs.name", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    value: Mapped[float] = mapped_column(Float)
    timestamp: Mapped[float] = mapped_column(Float)
    host: Mapped[str] = mapped_column(String(32))


class LogEventRow(Base):
    __tablename__ = "log_events"
    __table_args__ = (Index("ix_log_events_job_stream_id", "job_name", "stream", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_name: Mapped[str] = mapped_column(ForeignKey("training_jobs.name", ondelete="CASCADE"))
    stream: Mapped[str] = mapped_column(String(128))
    timestamp: Mapped[float] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text)


class TagRow(Base):
    __tablename__ = "tags"

    resource_arn: Mapped[str] = mapped_column(String(256), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


class ControllerRow(Base):
    __tablename__ = "controllers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started: Mapped[float] = mapped_column(Float)
    heartbeat: Mapped[float] = mapped_column(Float)
