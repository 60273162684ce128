"""An "AI-generated" label other sites can embed: a small framed page per file, and the
oEmbed 1.0 endpoint that hands out its iframe for a page address.

Only the label page may be framed by any site (``frame-ancestors *``); the other pages keep
whatever framing policy the application gives them.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.responses import Response

from sostenuto.api.deps import AppSettings, Db
from sostenuto.errors import InvalidInput, NotFound, SostenutoError
from sostenuto.label import check_sha256, public_record

router = APIRouter(include_in_schema=False)

EMBED_WIDTH = 360
EMBED_HEIGHT = 150
FRAMING = {"Content-Security-Policy": "frame-ancestors *"}
# The addresses oEmbed answers for: a file's inspection page and its label page.
_PREFIXES = ("/label/inspect/", "/embed/label/")


def _sha256_of(url: str, request: Request) -> str:
    """The content hash a page address of this site names; NotFound for any other address."""
    parts = urlsplit(url)
    own = urlsplit(str(request.base_url))
    if parts.scheme not in ("http", "https") or parts.netloc != own.netloc:
        raise NotFound("oEmbed answers only for this site's inspection pages")
    for prefix in _PREFIXES:
        if parts.path.startswith(prefix):
            try:
                return check_sha256(parts.path.removeprefix(prefix))
            except InvalidInput:
                raise NotFound("the address names no file: it ends in no SHA-256") from None
    raise NotFound("oEmbed answers only for a file's inspection page (/label/inspect/<sha256>)")


@router.get("/embed/label/{sha256}", response_class=HTMLResponse)
def label_frame(request: Request, sha256: str, database: Db, settings: AppSettings) -> Response:
    from sostenuto.web import templates

    try:
        record = public_record(database, settings, sha256)
    except SostenutoError as error:
        return templates.TemplateResponse(
            request,
            "embed_label.html",
            {"record": None, "error": error.message},
            status_code=error.http_status,
            headers=FRAMING,
        )
    return templates.TemplateResponse(
        request, "embed_label.html", {"record": record}, headers=FRAMING
    )


@router.get("/oembed")
def oembed(
    request: Request,
    database: Db,
    settings: AppSettings,
    url: Annotated[str, Query(max_length=2000)],
    response_format: Annotated[str, Query(alias="format", max_length=8)] = "json",
    maxwidth: Annotated[int | None, Query(ge=1)] = None,
    maxheight: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """oEmbed 1.0 (https://oembed.com/): a "rich" answer whose html is the label's iframe."""
    if response_format != "json":
        # The spec's answer for a format the provider does not serve.
        return Response(f"format {response_format!r} is not served: use json", status_code=501)
    record = public_record(database, settings, _sha256_of(url, request))
    # Never larger than the consumer allows (oEmbed: maxwidth, maxheight).
    width = min(EMBED_WIDTH, maxwidth or EMBED_WIDTH)
    height = min(EMBED_HEIGHT, maxheight or EMBED_HEIGHT)
    base = str(request.base_url).rstrip("/")
    source = f"{base}/embed/label/{record.sha256}"
    verdict = "AI-generated" if record.ai_generated else "no AI-generation label"
    answer: dict[str, Any] = {
        "version": "1.0",
        "type": "rich",
        "title": f"Sostenuto label: {verdict}",
        "provider_name": "Sostenuto",
        "provider_url": base + "/",
        "html": (
            f'<iframe src="{source}" width="{width}" height="{height}" '
            'title="AI label of a file, from Sostenuto" style="border:0" '
            'loading="lazy"></iframe>'
        ),
        "width": width,
        "height": height,
        "cache_age": 3600,
    }
    return JSONResponse(answer)
