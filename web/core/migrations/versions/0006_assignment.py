"""assignment: expert capacity, declared people, availability per round, the record of each draw

User gets ``capacity`` (most works per round), Conflict gets ``person`` (a declared person);
new tables ``expertabsence`` (an expert unavailable in a round) and ``assignmentdraw`` (round,
seed, per_work, report, actor, time of each draw).

Revision ID: 0006_assignment
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006_assignment'
down_revision = '0005_review'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('capacity', sa.Integer(), nullable=True))
    with op.batch_alter_table('conflict', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
    op.create_table(
        'expertabsence',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['round_id'], ['round.id'], ),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('round_id', 'user_id', name='uq_expertabsence_round_user'),
    )
    op.create_index(op.f('ix_expertabsence_round_id'), 'expertabsence', ['round_id'], unique=False)
    op.create_table(
        'assignmentdraw',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('seed', sa.BigInteger(), nullable=False),
        sa.Column('per_work', sa.Integer(), nullable=False),
        sa.Column('created', sa.Integer(), nullable=False),
        sa.Column('kept', sa.Integer(), nullable=False),
        sa.Column('report', sa.JSON(), nullable=False),
        sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['round_id'], ['round.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_assignmentdraw_round_id'), 'assignmentdraw', ['round_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_assignmentdraw_round_id'), table_name='assignmentdraw')
    op.drop_table('assignmentdraw')
    op.drop_index(op.f('ix_expertabsence_round_id'), table_name='expertabsence')
    op.drop_table('expertabsence')
    with op.batch_alter_table('conflict', schema=None) as batch_op:
        batch_op.drop_column('person')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('capacity')
