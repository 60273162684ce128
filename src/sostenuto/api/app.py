"""Build the FastAPI application around one database; ``serve`` and the tests share it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant

from sostenuto import __version__
from sostenuto.api import contract, docs, problems
from sostenuto.api._routing import api_routes
from sostenuto.api.deps import require_signed_in
from sostenuto.api.idempotency import IdempotencyMiddleware
from sostenuto.api.responses import FastJSONResponse
from sostenuto.api.routes import ROUTERS, standards
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
        description="The HTTP API of Sostenuto. Conventions (versioning, naming, pagination, "
        "errors): docs/api.md. Errors are RFC 9457 problem documents.",
        default_response_class=FastJSONResponse,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database = database
    problems.install(app)
    app.add_middleware(IdempotencyMiddleware, database=lambda: app.state.database)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(standards.router)
    from sostenuto.web import PAGE_ROUTERS, mount_static

    for router in PAGE_ROUTERS:
        app.include_router(router)
    mount_static(app)
    docs.install(app)
    _document_errors(app)
    _start_deliveries(settings, database)
    return app


def _start_deliveries(settings: Settings, database: Database) -> None:
    """Seal webhook secrets with the service's key, apply the egress setting, and send on
    the deliveries a stopped process left."""
    from dataclasses import replace

    from sostenuto import declarations

    declarations.use_secret_box(database, declarations.box_from_settings(settings))
    if settings.webhook_private_networks:
        policy = declarations.delivery_policy(database)
        declarations.set_delivery_policy(database, replace(policy, allow_private_networks=True))
    declarations.resume_deliveries(database)


def app_from_environment() -> FastAPI:
    """The application as each worker process of ``serve --workers N`` builds it: settings
    from the environment (and ``.env``), as the parent process read them."""
    from sostenuto.settings import get_settings

    return create_app(get_settings())


def _document_errors(app: FastAPI) -> None:
    """The OpenAPI document describes every error as the problem document it is."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = problems.document_problems(_integral_bounds(generate()))
            document = contract.document_operations(app, document)
            app.openapi_schema = _optional_tokens(app, document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _signs_in(dependant: Dependant) -> bool:
    return any(sub.call is require_signed_in or _signs_in(sub) for sub in dependant.dependencies)


def _optional_tokens(app: FastAPI, document: dict[str, Any]) -> dict[str, Any]:
    """A route that takes ``Caller`` reads the token if there is one and serves the public
    without: its security requirement says so (``{}`` is "no credentials")."""
    for routed in api_routes(app):
        if not routed.route.include_in_schema or _signs_in(routed.route.dependant):
            continue
        for method in routed.methods:
            operation = document["paths"].get(routed.path_format, {}).get(method.lower())
            security = operation.get("security") if operation else None
            if security and {} not in security:
                operation["security"] = [{}, *security]
    return document


_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def _integral_bounds(node: Any) -> Any:
    """Bounds of integer fields as integers: FastAPI's schema model writes them as floats
    (``2147483647.0``), which a strict reader takes as a float bound."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            for key in _BOUNDS:
                value = node.get(key)
                if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
                    node[key] = int(value)
        for child in node.values():
            _integral_bounds(child)
    elif isinstance(node, list):
        for child in node:
            _integral_bounds(child)
    return node
