"""``/api/v1/changes`` (the revocation feed) and ``/api/v1/webhooks`` (its signed pushes)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from sostenuto import declarations
from sostenuto.api.deps import ChangesReader, Db, WebhookManager
from sostenuto.api.params import Id, LogSize, PageSize
from sostenuto.storage.paging import DEFAULT_LIMIT

router = APIRouter(prefix="/api/v1/changes", tags=["changes"])
webhooks_router = APIRouter(prefix="/api/v1/webhooks", tags=["changes"])


class SubscriptionIn(BaseModel):
    url: str = Field(
        max_length=2000,
        description="Where deliveries are POSTed: an absolute http:// or https:// URL.",
        examples=["https://ml.example/hooks/sostenuto"],
    )
    licensee_id: Id | None = Field(default=None, description="Default: the caller's licensee.")


@router.get("")
def get_changes(
    caller: ChangesReader,
    database: Db,
    since: LogSize = 0,
    licensee_id: Id | None = None,
    limit: PageSize = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """The consent changes appended to the log from position ``since`` on and, per dataset
    manifest the licensee declared, the files they put out of use and from which date. Pass
    ``checkpoint`` as ``since`` next time; ``more`` says another page follows at once."""
    feed = declarations.changes_since(
        database, caller, since=since, licensee_id=licensee_id, limit=limit
    )
    return feed.as_json()


@webhooks_router.post("", status_code=201)
def post_webhook(body: SubscriptionIn, caller: WebhookManager, database: Db) -> dict[str, Any]:
    """Subscribe a URL to the licensee's revocation feed. The answer holds the signing
    secret, shown this once."""
    with database.transaction() as session:
        subscription, secret = declarations.add_subscription(
            session,
            caller,
            url=body.url,
            licensee_id=body.licensee_id,
            private_networks=declarations.delivery_policy(database).allow_private_networks,
            box=declarations.secret_box(database),
        )
    return {**subscription.as_json(), "secret": secret}


@webhooks_router.get("")
def get_webhooks(
    caller: WebhookManager, database: Db, licensee_id: Id | None = None
) -> list[dict[str, Any]]:
    with database.reader() as session:
        found = declarations.list_subscriptions(session, caller, licensee_id)
    return [subscription.as_json() for subscription in found]


@webhooks_router.delete("/{subscription_id}")
def delete_webhook(subscription_id: Id, caller: WebhookManager, database: Db) -> dict[str, Any]:
    with database.transaction() as session:
        declarations.delete_subscription(session, caller, subscription_id)
    return {"id": subscription_id, "deleted": True}


@webhooks_router.get("/{subscription_id}/deliveries")
def get_deliveries(
    subscription_id: Id, caller: WebhookManager, database: Db, limit: PageSize = DEFAULT_LIMIT
) -> list[dict[str, Any]]:
    with database.reader() as session:
        return declarations.list_deliveries(session, caller, subscription_id, limit)
