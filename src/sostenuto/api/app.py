"""Build the FastAPI application around one database; ``serve`` and the tests share it."""

from __future__ import annotations

from fastapi import FastAPI

from sostenuto import __version__
from sostenuto.api import problems
from sostenuto.api.responses import FastJSONResponse
from sostenuto.api.routes import ROUTERS
from sostenuto.settings import Settings
from sostenuto.storage import Database


def create_app(settings: Settings, database: Database | None = None) -> FastAPI:
    """The application. The database is migrated here, never at import time."""
    database = database or Database.from_settings(settings)
    database.migrate()
    app = FastAPI(
        title="Sostenuto",
        version=__version__,
        summary="Rights infrastructure for generative AI in music.",
        default_response_class=FastJSONResponse,
    )
    app.state.settings = settings
    app.state.database = database
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router)
    from sostenuto.web import PAGE_ROUTERS, mount_static

    for router in PAGE_ROUTERS:
        app.include_router(router)
    mount_static(app)
    return app
