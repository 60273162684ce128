"""Webhook subscriptions of licensees, and the deliveries made to them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from sostenuto.storage.base import Base
from sostenuto.storage.types import UtcDateTime


class WebhookSubscription(Base):
    """A licensee's URL that receives the revocation feed as consent changes touch it.

    The secret signs every delivery (HMAC-SHA256), so it is kept as it is; the API shows it
    once, when the subscription is made.
    """

    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    licensee_id: Mapped[int] = mapped_column(ForeignKey("licensee.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class WebhookDelivery(Base):
    """One message: the feed of one consent-change entry for one subscription (at most one
    per pair, so a change is never delivered twice)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("subscription_id", "change_index"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # the webhook-id header
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscription.id"), index=True)
    change_index: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class WebhookAttempt(Base):
    """One try at a delivery: when, and what the receiver answered (or why it could not)."""

    __tablename__ = "webhook_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("webhook_delivery.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer)
