"""Search indexes: title and name prefixes, keyset listings by CMO and by licensee

Revision ID: registry_0004
Revises: registry_0003
Create Date: 2026-12-03 12:00:00

Title and name prefixes are searched as ``lower(column)`` ranges ordered by ``(key, id)``.
On PostgreSQL the expression is indexed under the "C" collation, so that a prefix is a byte
range of the index whatever the database's collation; SQLite compares bytes already.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "registry_0004"
down_revision: str | Sequence[str] | None = "registry_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EXPRESSION_INDEXES = (
    ("ix_recording_title_key", "recording", "title"),
    ("ix_performer_name_key", "performer", "name"),
)
_PLAIN_INDEXES = (
    ("ix_recording_cmo_id", "recording", ["registered_by_cmo_id", "id"]),
    ("ix_decision_licensee_id", "decision", ["licensee_id", "id"]),
    ("ix_decision_batch_licensee_id", "decision_batch", ["licensee_id", "id"]),
)


def upgrade() -> None:
    collate = ' COLLATE "C"' if op.get_bind().dialect.name == "postgresql" else ""
    for name, table, column in _EXPRESSION_INDEXES:
        op.execute(f"CREATE INDEX {name} ON {table} ((lower({column}){collate}), id)")
    for name, table, columns in _PLAIN_INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in _PLAIN_INDEXES:
        op.drop_index(name, table_name=table)
    for name, table, _ in _EXPRESSION_INDEXES:
        op.drop_index(name, table_name=table)
