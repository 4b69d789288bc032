"""audit seal: each audit event carries an HMAC of its hash under a key kept outside the database

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seal', sqlmodel.sql.sqltypes.AutoString(length=64), server_default='',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.drop_column('seal')
