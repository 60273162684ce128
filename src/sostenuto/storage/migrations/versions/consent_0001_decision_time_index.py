"""consent: index stored decisions by the moment they were taken

Revision ID: consent_0001
Revises: registry_0001

The decisions charts count a period's decisions per day for a CMO or an auditor, who select
by time alone (a licensee's are already indexed by licensee and time).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "consent_0001"
down_revision: str | Sequence[str] | None = "registry_0001"
branch_labels: str | Sequence[str] | None = ("consent",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_decision_time", "decision", ["decided_at"])


def downgrade() -> None:
    op.drop_index("ix_decision_time", table_name="decision")
