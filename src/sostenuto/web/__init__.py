"""Server-rendered pages for people: Jinja2 templates over the same services as the API."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from sostenuto.web import auth, home, identify, label, remuneration, transparency, voice

TEMPLATES_DIR = Path(__file__).with_name("templates")
STATIC_DIR = Path(__file__).with_name("static")
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

PAGE_ROUTERS: list[APIRouter] = [
    home.router,
    auth.router,
    transparency.router,
    label.router,
    remuneration.router,
    voice.router,
    identify.router,
]


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
