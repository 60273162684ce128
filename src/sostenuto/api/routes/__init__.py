"""Every API router, in the order they appear in the OpenAPI document."""

from fastapi import APIRouter

from sostenuto.api.routes import (
    changes,
    consent,
    consent_requests,
    identify,
    label,
    meta,
    registry,
    remuneration,
    transparency,
    voice,
)

ROUTERS: list[APIRouter] = [
    meta.router,
    registry.router,
    consent.router,
    consent_requests.router,
    transparency.router,
    transparency.tiles_router,
    transparency.witness_router,
    changes.router,
    changes.webhooks_router,
    label.router,
    remuneration.router,
    voice.router,
    identify.router,
]
