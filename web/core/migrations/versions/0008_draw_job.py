"""draw jobs: the round page's draw runs in the background and reports its progress

New table ``drawjob`` (round, the round again while running — unique, so one draw per round at
a time across processes —, state, stage, categories done and total, per_work, seed, actor,
worker, failure message, result, the draw written, times).

Revision ID: 0008_draw_job
Revises: 0007_panel
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0008_draw_job'
down_revision = '0007_panel'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'drawjob',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('active_round_id', sa.Integer(), nullable=True),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('categories_done', sa.Integer(), nullable=False),
        sa.Column('categories_total', sa.Integer(), nullable=False),
        sa.Column('per_work', sa.Integer(), nullable=False),
        sa.Column('seed', sa.BigInteger(), nullable=False),
        sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('worker', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('message_zh', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('message_en', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('failure', sa.JSON(), nullable=True),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('draw_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['draw_id'], ['assignmentdraw.id'], ),
        sa.ForeignKeyConstraint(['round_id'], ['round.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('active_round_id'),
    )
    op.create_index(op.f('ix_drawjob_round_id'), 'drawjob', ['round_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_drawjob_round_id'), table_name='drawjob')
    op.drop_table('drawjob')
