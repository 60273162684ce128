"""Health and identity of the service."""

from __future__ import annotations

from fastapi import APIRouter

from sostenuto import __version__
from sostenuto.api.deps import Caller

router = APIRouter(prefix="/api/v1", tags=["meta"])


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/whoami")
def whoami(caller: Caller) -> dict[str, object]:
    return {
        "name": caller.name,
        "role": caller.role,
        "cmo_id": caller.cmo_id,
        "licensee_id": caller.licensee_id,
    }
