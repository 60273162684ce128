"""Every API router, in the order they appear in the OpenAPI document."""

from fastapi import APIRouter

from sostenuto.api.routes import meta

ROUTERS: list[APIRouter] = [meta.router]
