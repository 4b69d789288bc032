"""rounds signed without the chair's sign-off go back to review

Until this revision an admin could move a round to ``signed`` as a plain change of state (the
rounds page, ``tuiyou round set-state KEY signed``): no snapshot, no hash, no password, no check
of abnormal scores. A round is signed without a sealed version of its own when its state is
``signed`` and it has no ResultVersion that is not re-opened. For each such round this migration
does what an admin's re-opening does: the round goes back to ``review``, its shortlist back to
``proposed`` (no hash; the signatures given on the unsealed list are dropped, as a re-opening
drops them — the audit log keeps them), and a sealed ``round.state`` event (actor
``migration 0010``) says why. The chair then signs it properly.

Needs the audit key when there is such a round (``tuiyou init-db`` passes it); without one it
stops and says so, changing nothing.

Revision ID: 0010_signed_without_snapshot
Revises: 0009_audit_head
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_signed_without_snapshot'
down_revision = '0009_audit_head'
branch_labels = None
depends_on = None

REASON = ("签署未经组长封存签署（无结果快照与哈希），由迁移 0010 退回复核，须由组长重新签署 / signed without the chair's "
          "sealed sign-off (no snapshot, no hash): moved back to review by migration 0010; the chair must sign it")


def upgrade() -> None:
    from web.core.audit import append_in_migration, migration_key

    bind = op.get_bind()
    unsealed = bind.execute(sa.text(
        "SELECT r.id, r.key FROM round r WHERE r.state = 'signed' AND NOT EXISTS ("
        "SELECT 1 FROM resultversion v WHERE v.round_id = r.id AND v.reopened_at IS NULL) ORDER BY r.id")).all()
    if not unsealed:
        return
    key = migration_key(revision, f"the audit events of {len(unsealed)} round(s) signed without a snapshot")
    for round_id, round_key in unsealed:
        params = {"id": round_id}
        bind.execute(sa.text("UPDATE round SET state = 'review' WHERE id = :id"), params)
        bind.execute(sa.text("DELETE FROM signoff WHERE shortlist_id IN "
                             "(SELECT id FROM shortlist WHERE round_id = :id)"), params)
        bind.execute(sa.text("UPDATE shortlist SET state = 'proposed', content_sha256 = NULL, frozen_at = NULL "
                             "WHERE round_id = :id"), params)
        append_in_migration(bind, key, "round.state", actor="migration 0010", subject=round_key, round_id=round_id,
                            detail={"from": "signed", "to": "review", "backward": True, "reason": REASON})


def downgrade() -> None:
    pass  # a round signed around the chair is not put back
