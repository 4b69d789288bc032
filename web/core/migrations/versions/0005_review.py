"""review: signed result versions (frozen snapshots with their SHA-256) and the rankings cache

Revision ID: 0005_review
Revises: 0002
Create Date: 2026-11-29 12:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005_review'
down_revision = '0004_rating'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'resultversion',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('content', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('content_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('signed_by', sa.Integer(), nullable=False),
        sa.Column('signed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('reopened_by', sa.Integer(), nullable=True),
        sa.Column('reopened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('reopen_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(['round_id'], ['round.id']),
        sa.ForeignKeyConstraint(['signed_by'], ['user.id']),
        sa.ForeignKeyConstraint(['reopened_by'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('round_id', 'version', name='uq_resultversion_round_version'),
    )
    with op.batch_alter_table('resultversion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resultversion_round_id'), ['round_id'], unique=False)
    op.create_table(
        'rankingcache',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('payload', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['round_id'], ['round.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('round_id', 'method', name='uq_rankingcache_round_method'),
    )
    with op.batch_alter_table('rankingcache', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rankingcache_round_id'), ['round_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rankingcache', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rankingcache_round_id'))
    op.drop_table('rankingcache')
    with op.batch_alter_table('resultversion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resultversion_round_id'))
    op.drop_table('resultversion')
