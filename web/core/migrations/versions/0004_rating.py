"""rating: idempotency keys of score saves; the chair's permission to reopen a submitted form

ScoreSave keeps, per user and Idempotency-Key, the version the first (applied) save answered,
so a retried save is applied once. Assignment gets ``reopen_allowed``.

Revision ID: 0004_rating
Revises: 0002
Create Date: 2026-11-29 11:50:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004_rating'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'scoresave',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('assignment_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], ),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'key', name='uq_scoresave_user_key'),
    )
    with op.batch_alter_table('scoresave', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scoresave_assignment_id'), ['assignment_id'], unique=False)
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reopen_allowed', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_column('reopen_allowed')
    with op.batch_alter_table('scoresave', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scoresave_assignment_id'))
    op.drop_table('scoresave')
