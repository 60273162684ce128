"""Server-rendered pages for people: Jinja2 templates over the same services as the API."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from sostenuto.web import (
    auth,
    console,
    console_batch,
    console_corpus,
    console_outputs,
    embed,
    error_pages,
    home,
    identify,
    label,
    log_explorer,
    office,
    office_audio,
    office_import,
    office_lists,
    office_records,
    office_remuneration,
    office_rules,
    performer,
    remuneration,
    reservations,
    shell,
    transparency,
    voice,
)

TEMPLATES_DIR = Path(__file__).with_name("templates")
STATIC_DIR = Path(__file__).with_name("static")
# Every page gets the frame's variables (who is signed in, navigation, log checkpoint).
templates = Jinja2Templates(directory=str(TEMPLATES_DIR), context_processors=[shell.context])

PAGE_ROUTERS: list[APIRouter] = [
    home.router,
    auth.router,
    transparency.router,
    label.router,
    log_explorer.router,
    reservations.router,
    embed.router,
    remuneration.router,
    voice.router,
    identify.router,
    performer.router,
    office.router,
    office_import.router,
    office_lists.router,
    office_records.router,
    office_remuneration.router,
    office_audio.router,
    office_rules.router,
    console.router,
    console_batch.router,
    console_corpus.router,
    console_outputs.router,
]


def mount_static(app: FastAPI) -> None:
    """What the pages add to the application besides their routes: the static files, and
    error pages for browsers (after the API's problem handlers, which they wrap)."""
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    error_pages.install(app)
