"""Consent tables: rules, jurisdiction rules and stored decisions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from sostenuto.storage.base import Base
from sostenuto.storage.types import UtcDateTime


class ConsentRule(Base):
    """A permission or prohibition of some uses, for a scope, licensee, territories and period.

    ``scope_kind`` is ``recording``, ``performer`` or ``cmo`` (all members of that CMO).
    ``licensee_id`` is null for "any licensee". ``revoked_from`` ends the rule's effect from
    that date on without touching decisions taken before it.
    """

    __tablename__ = "consent_rule"
    __table_args__ = (Index("ix_consent_rule_scope", "scope_kind", "scope_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    effect: Mapped[str] = mapped_column(String(8))  # "permit" or "prohibit"
    scope_kind: Mapped[str] = mapped_column(String(16))
    scope_id: Mapped[int] = mapped_column(Integer)
    licensee_id: Mapped[int | None] = mapped_column(
        ForeignKey("licensee.id"), nullable=True, index=True
    )
    uses: Mapped[list[str]] = mapped_column(JSON)
    territories: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    conditions: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(16), default="cmo")  # cmo, performer, opt-out
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(100))
    # The CMO whose act the rule is (null: the local operator's); its authority is bounded
    # by that CMO's mandates, and only it (or the performer) may revoke the rule.
    cmo_id: Mapped[int | None] = mapped_column(ForeignKey("cmo.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), server_default=func.now())
    revoked_from: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class JurisdictionRule(Base):
    """What the law of a territory allows, as data: today, whether extended licences apply."""

    __tablename__ = "jurisdiction_rule"

    territory: Mapped[str] = mapped_column(String(2), primary_key=True)
    extended_licensing: Mapped[bool] = mapped_column(default=False)
    ecl_uses: Mapped[list[str]] = mapped_column(JSON, default=list)
    tdm_opt_out_required: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class Decision(Base):
    """One stored answer to "may this licensee use this recording for this use, here, then?"."""

    __tablename__ = "decision"
    __table_args__ = (
        Index("ix_decision_licensee_time", "licensee_id", "decided_at"),
        # The decisions charts select a period by time alone (migration consent_0001).
        Index("ix_decision_time", "decided_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    decided_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    licensee_id: Mapped[int] = mapped_column(ForeignKey("licensee.id"))
    recording_id: Mapped[int] = mapped_column(ForeignKey("recording.id"), index=True)
    model_id: Mapped[int | None] = mapped_column(
        Integer, nullable=True
    )  # the model version asked for
    use: Mapped[str] = mapped_column(String(32))
    territory: Mapped[str] = mapped_column(String(2))
    on_date: Mapped[dt.date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(8))
    basis: Mapped[dict[str, Any]] = mapped_column(JSON)  # rules, licence, reason, conditions


class DecisionBatch(Base):
    """A batch of decisions for one licensee, use, territory and date, stored compactly.

    ``payload`` is a zlib-compressed JSON document with one entry per recording; the
    decision id of entry ``i`` is ``"<batch id>.<i>"``.
    """

    __tablename__ = "decision_batch"
    __table_args__ = (Index("ix_decision_batch_licensee_time", "licensee_id", "decided_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    decided_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    licensee_id: Mapped[int] = mapped_column(ForeignKey("licensee.id"))
    model_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    use: Mapped[str] = mapped_column(String(32))
    territory: Mapped[str] = mapped_column(String(2))
    on_date: Mapped[dt.date] = mapped_column(Date)
    size: Mapped[int] = mapped_column(Integer)
    permitted: Mapped[int] = mapped_column(Integer)
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class ConsentRequest(Base):
    """A performer's request that its CMO grant, refuse or lift a use (registry_0005).

    ``action`` is ``permit``, ``prohibit`` or ``revoke`` (then ``rule_id`` names the rule);
    ``status`` is ``pending`` until the CMO's admin ``applied`` or ``declined`` it;
    ``result_rule_id`` is the rule the CMO's act made or lifted.
    """

    __tablename__ = "consent_request"
    __table_args__ = (
        Index("ix_consent_request_cmo", "cmo_id", "status", "id"),
        Index("ix_consent_request_performer", "performer_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    performer_id: Mapped[int] = mapped_column(ForeignKey("performer.id"))
    cmo_id: Mapped[int] = mapped_column(ForeignKey("cmo.id"))
    action: Mapped[str] = mapped_column(String(8))
    uses: Mapped[list[str]] = mapped_column(JSON, default=list)
    territories: Mapped[list[str]] = mapped_column(JSON, default=list)
    licensee_id: Mapped[int | None] = mapped_column(ForeignKey("licensee.id"), nullable=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("consent_rule.id"), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), server_default=func.now())
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    result_rule_id: Mapped[int | None] = mapped_column(ForeignKey("consent_rule.id"), nullable=True)
