"""The application's routes as (path, methods, route), whatever FastAPI's routing structure.

FastAPI 0.13x and later keep included routers as such (``app.routes`` holds them, not their
routes); ``fastapi.routing.iter_route_contexts`` walks them. Older versions list every route.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import fastapi.routing
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import compile_path


class Routed(NamedTuple):
    path: str  # with convertors: ``/log/tile/{level}/{path:path}``
    path_format: str  # as the OpenAPI document names it: ``/log/tile/{level}/{path}``
    methods: set[str]
    route: APIRoute


def api_routes(app: FastAPI) -> Iterator[Routed]:
    """Every API and page route, with the path it is served at."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if contexts is None:
        for route in app.routes:
            if isinstance(route, APIRoute):
                yield Routed(route.path, route.path_format, set(route.methods or ()), route)
        return
    for context in contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            yield Routed(
                context.path or route.path,
                context.path_format or route.path_format,
                set(context.methods or route.methods or ()),
                route,
            )


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods the routes at ``path`` take (for a 405's ``Allow`` header).

    Where routes of different shapes match (``/decisions/batch`` and ``/decisions/{id}``), the
    most specific ones, those with the fewest parameters, are the resource at that path.
    """
    matching: dict[int, set[str]] = {}
    for routed in api_routes(app):
        regex, _, convertors = compile_path(routed.path)
        if regex.match(path):
            matching.setdefault(len(convertors), set()).update(routed.methods)
    return sorted(matching[min(matching)]) if matching else []
