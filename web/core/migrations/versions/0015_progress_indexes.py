"""covering indexes for the chair's pages and the progress board over a round's assignments

Every chair request reads the ratings' fingerprint (an aggregate over the round's submitted
forms), the progress board and the diagnostics page count the round's assignments per expert and
per work by state. At 5,000 works (25,000 assignments) each of these visited every assignment's
row and sorted them for the grouping (SQLite: 60-130 ms apiece on a loaded machine). An index
holding what each reads answers it from the index alone, in the grouping's order (issue 24):

- (round_id, expert_id, status, version, updated_at): per expert, with the last save;
- (round_id, work_id, status): per work;
- (round_id, status, version, updated_at, submitted_at, id): the fingerprint of the submitted forms
  (id too: SQLite's indexes hold the row id anyway, PostgreSQL's need it to answer alone).

Named 0015 (0014 is kept for the lead's recompute migration); it follows the head at the time
of writing, 0013_unknown_se: revise ``down_revision`` to the head when merging.

Revision ID: 0015_progress_indexes
Revises: 0013_unknown_se
"""
from alembic import op


revision = '0015_progress_indexes'
down_revision = '0013_unknown_se'
branch_labels = None
depends_on = None

INDEXES = {
    'ix_assignment_round_expert_status': ['round_id', 'expert_id', 'status', 'version', 'updated_at'],
    'ix_assignment_round_work_status': ['round_id', 'work_id', 'status'],
    'ix_assignment_round_submitted': ['round_id', 'status', 'version', 'updated_at', 'submitted_at', 'id'],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, 'assignment', columns, unique=False)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name='assignment')
