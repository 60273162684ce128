"""Index of the file hashes declared in dataset manifests

Revision ID: transparency_0002
Revises: transparency_0001
Create Date: 2026-12-03 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
import sqlalchemy as sa
from alembic import op

revision: str = "transparency_0002"
down_revision: str | Sequence[str] | None = "transparency_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "tlog_file_hash",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("sha256", "idx", name=op.f("pk_tlog_file_hash")),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT idx, body FROM tlog_entry WHERE entry_type = 'dataset-manifest'")
    ).all()
    for idx, body in rows:
        payload = orjson.loads(bytes(body)).get("payload", {})
        hashes = sorted({item["sha256"] for item in payload.get("files", [])})
        if hashes:
            op.bulk_insert(table, [{"sha256": sha, "idx": idx} for sha in hashes])


def downgrade() -> None:
    op.drop_table("tlog_file_hash")
