"""an index on metric points by job, metric name and id

A job can emit millions of metric points (a tight training loop prints one per step). Describe's final
values and the tuner's objective series read one metric of one job, first or last point or the points
after one it has seen: with this index each is a seek instead of a scan of the job's points.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("metric_points", schema=None) as batch_op:
        batch_op.create_index("ix_metric_points_job_name_name_id", ["job_name", "name", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("metric_points", schema=None) as batch_op:
        batch_op.drop_index("ix_metric_points_job_name_name_id")
