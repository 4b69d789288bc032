"""panel: abnormal ratings (畸高/畸低) with their explanation or the chair's waiver

New table ``abnormalflag`` (round, assignment, total, others' mean and count, direction, active,
explanation, waiver).

Revision ID: 0007_panel
Revises: 0006_assignment
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007_panel'
down_revision = '0006_assignment'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'abnormalflag',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('assignment_id', sa.Integer(), nullable=False),
        sa.Column('total', sa.Float(), nullable=False),
        sa.Column('others_mean', sa.Float(), nullable=False),
        sa.Column('others_n', sa.Integer(), nullable=False),
        sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('flagged_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('explanation', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('explained_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('waiver_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column('waived_by', sa.Integer(), nullable=True),
        sa.Column('waived_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], ),
        sa.ForeignKeyConstraint(['round_id'], ['round.id'], ),
        sa.ForeignKeyConstraint(['waived_by'], ['user.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('assignment_id'),
    )
    op.create_index(op.f('ix_abnormalflag_round_id'), 'abnormalflag', ['round_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_abnormalflag_round_id'), table_name='abnormalflag')
    op.drop_table('abnormalflag')
