"""recompute jobs: the chair's rankings recomputed in the background after ratings change

New table ``recomputejob`` (round; the round again while queued — unique, so the changes of a
round until a worker takes the job share one row, the debounce —; state, how many changes it
answers, when it is due, attempts, the worker holding it and its lease, times, a message when it
failed). An index on ``assignment (round_id, status)`` serves the ratings' fingerprint and the
progress board's counts.

Revision ID: 0012_recompute_job
Revises: 0011_session_epoch
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0012_recompute_job'
down_revision = '0011_session_epoch'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'recomputejob',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('queued_round_id', sa.Integer(), nullable=True),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('changes', sa.Integer(), nullable=False),
        sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('worker', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('message', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['round_id'], ['round.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('queued_round_id'),
    )
    op.create_index(op.f('ix_recomputejob_round_id'), 'recomputejob', ['round_id'], unique=False)
    op.create_index(op.f('ix_recomputejob_state'), 'recomputejob', ['state'], unique=False)
    op.create_index('ix_assignment_round_status', 'assignment', ['round_id', 'status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_assignment_round_status', table_name='assignment')
    op.drop_index(op.f('ix_recomputejob_state'), table_name='recomputejob')
    op.drop_index(op.f('ix_recomputejob_round_id'), table_name='recomputejob')
    op.drop_table('recomputejob')
