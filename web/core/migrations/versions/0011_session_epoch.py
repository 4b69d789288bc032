"""session epoch: a per-user random value every session cookie must carry

``user.session_epoch`` (32 hex characters). Logging out, changing or resetting a password
replaces it, which ends every session of that user on every app server (web.core.access checks it on
each request); the cookie no longer carries anything derived from the password hash. Each
existing user gets a random epoch, so every session cookie issued before this revision (they
carried the hash's last 16 characters instead) stops working: everyone logs in once more.

The column keeps its server default '' (dropping it would make SQLite rebuild ``user``, which
foreign keys from every other table forbid); an empty epoch is never accepted (web.core.access).

Revision ID: 0011_session_epoch
Revises: 0010_signed_without_snapshot
"""
import secrets

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0011_session_epoch'
down_revision = '0010_signed_without_snapshot'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sqlmodel.sql.sqltypes.AutoString(length=32),
                                      server_default='', nullable=False))
    bind = op.get_bind()
    for (user_id,) in bind.execute(sa.text('SELECT id FROM "user"')).all():
        bind.execute(sa.text('UPDATE "user" SET session_epoch = :epoch WHERE id = :id'),
                     {"epoch": secrets.token_hex(16), "id": user_id})


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')
