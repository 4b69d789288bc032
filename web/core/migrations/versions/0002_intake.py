"""intake: batch kind, unique file per round, recommended works

ImportBatch gets ``kind`` (works or dissemination cases) and a unique (round_id, sha256) so
that the same file cannot be imported twice into one round even by two concurrent imports;
Work gets ``recommended``, a provincial round's first-review decision. No enum types change.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 17:07:45.641858
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('importbatch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), server_default='works', nullable=False))
        batch_op.create_unique_constraint('uq_importbatch_round_sha256', ['round_id', 'sha256'])

    with op.batch_alter_table('work', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recommended', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('work', schema=None) as batch_op:
        batch_op.drop_column('recommended')

    with op.batch_alter_table('importbatch', schema=None) as batch_op:
        batch_op.drop_constraint('uq_importbatch_round_sha256', type_='unique')
        batch_op.drop_column('kind')

