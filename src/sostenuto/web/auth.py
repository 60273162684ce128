"""Sign-in and sign-out pages: a browser session cookie for an account or an API token."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sostenuto.api.deps import SESSION_COOKIE, Caller, Db
from sostenuto.auth import ABSOLUTE_SESSION, record_failure, sign_in, sign_out
from sostenuto.errors import Forbidden, Unauthenticated

router = APIRouter(include_in_schema=False)


def _form(request: Request, error: str = "", username: str = "", status: int = 200) -> Response:
    from sostenuto.web import templates

    return templates.TemplateResponse(
        request,
        "sign_in.html",
        {"error": error, "username": username},
        status_code=status,
    )


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request) -> Response:
    return _form(request)


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in_post(request: Request, database: Db) -> Response:
    form = await request.form()
    username = str(form.get("username") or "")[:64]
    password = str(form.get("password") or "")[:1024]
    token = str(form.get("token") or "")[:200]
    client = request.client.host if request.client else "unknown"
    try:
        with database.transaction() as session:
            opened = sign_in(
                session, client=client, username=username, password=password, token=token
            )
    except Unauthenticated as error:
        with database.transaction() as session:
            record_failure(session, username=username, client=client)
        return _form(request, error.message, username, status=401)
    except Forbidden as error:
        return _form(request, error.message, username, status=429)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        opened.session_id,
        max_age=int(ABSOLUTE_SESSION.total_seconds()),
        httponly=True,
        secure=True,
        samesite="lax",
        path="/",
    )
    return response


@router.post("/sign-out")
def sign_out_post(request: Request, database: Db, caller: Caller) -> Response:
    """Delete the server-side session (the CSRF token was checked with the caller)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        with database.transaction() as session:
            sign_out(session, session_id)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    return response
