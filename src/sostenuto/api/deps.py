"""Dependencies shared by every route, declared once as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sostenuto.auth import PUBLIC, Principal, authenticate
from sostenuto.errors import Unauthenticated
from sostenuto.settings import Settings
from sostenuto.storage import Database

_bearer = HTTPBearer(auto_error=False, description="An API token issued by `sostenuto token`.")


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_principal(
    database: Annotated[Database, Depends(get_database)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller: anonymous callers are the public; a bad token is refused outright."""
    if credentials is None:
        return PUBLIC
    with database.reader() as session:
        return authenticate(session, credentials.credentials)


def require_signed_in(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    """Refuse anonymous callers before the request body is even validated."""
    if principal.role == "public" and principal.name == PUBLIC.name:
        raise Unauthenticated("this endpoint needs an API token ('Authorization: Bearer ...')")
    return principal


Db = Annotated[Database, Depends(get_database)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]
# Any caller, the anonymous public included: for public reads.
Caller = Annotated[Principal, Depends(get_principal)]
# A caller with a token: every write and every non-public read.
SignedIn = Annotated[Principal, Depends(require_signed_in)]
