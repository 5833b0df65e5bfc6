"""tuning jobs and their children

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tuning_jobs",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("arn", sa.String(length=256), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("strategy_state", sa.JSON(), nullable=False),
        sa.Column("launched", sa.Integer(), nullable=False),
        sa.Column("completion", sa.JSON(), nullable=False),
        sa.Column("creation_time", sa.Float(), nullable=False),
        sa.Column("last_modified_time", sa.Float(), nullable=False),
        sa.Column("end_time", sa.Float(), nullable=True),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("tuning_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tuning_jobs_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_tuning_jobs_creation_time"), ["creation_time"], unique=False)
    op.create_table(
        "tuning_children",
        sa.Column("tuning_key", sa.String(length=32), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("training_job_name", sa.String(length=63), nullable=False),
        sa.Column("definition_name", sa.String(length=64), nullable=True),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("created", sa.Boolean(), nullable=False),
        sa.Column("early_stopped", sa.Boolean(), nullable=False),
        sa.Column("final_status", sa.String(length=16), nullable=True),
        sa.Column("objective", sa.Float(), nullable=True),
        sa.Column("intermediate", sa.JSON(), nullable=True),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["tuning_key"], ["tuning_jobs.key"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tuning_key", "index"),
        sa.UniqueConstraint("training_job_name"),
    )


def downgrade() -> None:
    op.drop_table("tuning_children")
    with op.batch_alter_table("tuning_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tuning_jobs_creation_time"))
        batch_op.drop_index(batch_op.f("ix_tuning_jobs_status"))
    op.drop_table("tuning_jobs")
