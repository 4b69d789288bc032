"""audit head: every event sealed, the log's head sealed, signed versions keep the head as their anchor

New table ``audithead`` (one row: events counted, the last event's hash, its HMAC seal under the
audit key, when it moved) and two columns of ``resultversion`` (``audit_events``, ``audit_hash``:
the head just after that signing, printed on the PDF).

Events written before sealing began (0003) carry an empty seal; verify used to let them pass,
which let anyone strip every seal and recompute the chain. This migration seals them once —
exactly the unsealed events before the first sealed one, i.e. those the old check accepted —
and records an ``audit.sealed_existing`` event saying how many it sealed and which. An unsealed
event after the first sealed one is left unsealed: nothing legitimate wrote it, and verify
names it. Then the head is written from the log as it stands.

The audit key comes from ``web.core.migrate`` (the engine's key, which ``tuiyou init-db`` sets from
TUIYOU_AUDIT_KEY or the instance folder). A log with events cannot be sealed without it: the
migration stops and says so, changing nothing. An empty log without a key gets an unsealed head
(count 0), which verify reports and the first event written with a key records as a mismatch.

Revision ID: 0009_audit_head
Revises: 0008_draw_job
"""
from alembic import context, op
import sqlalchemy as sa
import sqlmodel


revision = '0009_audit_head'
down_revision = '0008_draw_job'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from web.core.audit import append_in_migration, head_seal, migration_key, seal, utcnow

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, hash, seal FROM auditevent ORDER BY id")).all()
    # the key first, before any change: SQLite runs DDL outside the transaction, so a refusal
    # after the CREATE TABLE below would leave half a migration behind
    if rows:
        key = migration_key(revision, f"{len(rows)} existing audit events and the log's head")
    else:
        key = context.config.attributes.get("audit_key") or None
        key = key.encode() if isinstance(key, str) else key
    legacy = []
    for event_id, event_hash, event_seal in rows:
        if event_seal:
            break
        legacy.append((event_id, event_hash))

    op.create_table(
        'audithead',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.Column('last_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('seal', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('resultversion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audit_events', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('audit_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))

    for event_id, event_hash in legacy:
        bind.execute(sa.text("UPDATE auditevent SET seal = :seal WHERE id = :id"),
                     {"seal": seal(key, event_hash), "id": event_id})
    events, last_hash = len(rows), rows[-1][1] if rows else ""
    if legacy:
        _, last_hash = append_in_migration(
            bind, key, "audit.sealed_existing", actor="migration 0009", subject="auditevent",
            detail={"sealed": len(legacy), "first_id": legacy[0][0], "last_id": legacy[-1][0],
                    "why": "events written before sealing began (0003), sealed once as they stood"})
        events += 1
    head = sa.table("audithead", sa.column("id", sa.Integer), sa.column("events", sa.Integer),
                    sa.column("last_hash", sa.String), sa.column("seal", sa.String),
                    sa.column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime))
    bind.execute(head.insert().values(id=1, events=events, last_hash=last_hash, updated_at=utcnow(),
                                      seal=head_seal(key, events, last_hash) if key else ""))


def downgrade() -> None:
    with op.batch_alter_table('resultversion', schema=None) as batch_op:
        batch_op.drop_column('audit_hash')
        batch_op.drop_column('audit_events')
    op.drop_table('audithead')
