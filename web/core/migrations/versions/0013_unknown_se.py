"""a shortlist entry's unknown standard error is stored as null, not 0.0

A work whose score has no standard error (one rating, a model that could not estimate it) was
stored with ``se = 0.0``, which reads as "known exactly". The column becomes nullable and the
proposal stores null (issue 22); rows written before keep their 0.0 (it cannot be told apart
from a real 0.0 after the fact, and a signed snapshot must not change).

Revision ID: 0013_unknown_se
Revises: 0012_recompute_job
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_unknown_se'
down_revision = '0012_recompute_job'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shortlistentry', schema=None) as batch_op:
        batch_op.alter_column('se', existing_type=sa.Float(), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE shortlistentry SET se = 0.0 WHERE se IS NULL")
    with op.batch_alter_table('shortlistentry', schema=None) as batch_op:
        batch_op.alter_column('se', existing_type=sa.Float(), nullable=False)
