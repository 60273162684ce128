"""Service-wide commands: serve, migrate, tokens, accounts. They act on this machine's own
database (the operator's), so none of them has a ``--server`` form."""

from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sostenuto.cli import _context
from sostenuto.cli._lazy import lazy_module
from sostenuto.cli.output import console, emit, err_console, print_json

if TYPE_CHECKING:
    from sostenuto import auth
else:
    auth = lazy_module("sostenuto.auth")

token_app = typer.Typer(help="Issue, list and revoke API tokens.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
user_app = typer.Typer(help="Accounts that sign in to the web pages.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.command()(serve)
    root.add_typer(token_app, name="token")
    root.add_typer(db_app, name="db")
    root.add_typer(user_app, name="user")


def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Load the demo data set first.")] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes (default 1). Several share one database: use PostgreSQL"
            " (docs/deploy.md).",
        ),
    ] = 1,
) -> None:
    """Run the HTTP API and web pages."""
    _context.local_only("serve", "it serves this machine's database")
    import uvicorn

    from sostenuto.api import create_app

    settings = _context.settings()
    database = _context.database()
    if demo:
        from sostenuto.registry.demo import load_demo

        with database.transaction() as session:
            tokens = load_demo(session)
        env_file = write_token_env(settings.data_dir / "demo-tokens.env", tokens)
        console.print(f"[bold]Demo data loaded.[/bold] Tokens (also in {env_file}):")
        print_json(tokens)
    bind = {"host": host or settings.host, "port": port or settings.port, "log_level": "info"}
    if workers == 1:
        uvicorn.run(create_app(settings, database), **bind)  # type: ignore[arg-type]
        return
    if database.is_sqlite:
        err_console.print(
            f"[yellow]{workers} workers on SQLite: writers queue on one file lock; use"
            " PostgreSQL for concurrent service (docs/deploy.md).[/yellow]"
        )
    # Each worker builds the application from the same settings (environment and .env).
    uvicorn.run("sostenuto.api.app:app_from_environment", factory=True, workers=workers, **bind)  # type: ignore[arg-type]


def _variable(key: str) -> str:
    """``licensee:Aurora Audio Labs`` -> ``LICENSEE_AURORA_AUDIO_LABS``; accents go
    (``performer:Lucía Ferrer`` -> ``PERFORMER_LUCIA_FERRER``)."""
    plain = unicodedata.normalize("NFKD", key).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z0-9]+", "_", plain.upper().replace("CMO-ADMIN", "CMO")).strip("_")


def write_token_env(path: Path, tokens: dict[str, str]) -> Path:
    """Write the demo tokens as shell assignments (readable by the owner only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"export {_variable(key)}={token}" for key, token in tokens.items()]
    path.touch(mode=0o600, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


@db_app.command("migrate")
def migrate() -> None:
    """Create or upgrade the schema."""
    _context.local_only("db migrate", "it upgrades this machine's database")
    db = _context.database()
    if _context.json_output():
        emit({"url": str(db.url), "up_to_date": True})
    else:
        console.print(f"schema up to date at {db.url}")


@token_app.command("issue")
def token_issue(
    role: Annotated[str, typer.Option(help="cmo-admin, licensee, auditor, public or performer.")],
    label: Annotated[str, typer.Option(help="Who the token is for.")],
    cmo: Annotated[int | None, typer.Option(help="CMO id, for cmo-admin.")] = None,
    licensee: Annotated[int | None, typer.Option(help="Licensee id, for licensee.")] = None,
    performer: Annotated[int | None, typer.Option(help="Performer id, for performer.")] = None,
) -> None:
    """Issue a token; it is printed once and only its hash is kept.

    The operator issues every token; the admin of a CMO holding a performer's active
    mandate (SOSTENUTO_TOKEN set to its token) issues that performer's."""
    _context.local_only("token issue", "tokens are kept in this machine's database")
    issuer = _context.principal()
    if role != "performer":
        issuer.require_operator("issue API tokens")
    with _context.database().transaction() as session:
        token = auth.issue_token(
            session,
            role=role,
            label=label,
            cmo_id=cmo,
            licensee_id=licensee,
            performer_id=performer,
            issuer=issuer,
        )
        issued = auth.token_id(session, token)
    if _context.json_output():
        emit({"id": issued, "role": role, "label": label, "token": token})
    else:
        err_console.print(f"token {issued} ({role}, {label}); shown once, keep it safe:")
        print(token)  # alone on stdout, for TOKEN=$(sostenuto token issue …)


@token_app.command("list")
def token_list(
    revoked: Annotated[bool, typer.Option("--revoked", help="Include revoked tokens.")] = False,
) -> None:
    """The tokens issued (never a token itself): id, role, binding, dates."""
    _context.local_only("token list", "tokens are kept in this machine's database")
    _context.principal().require_operator("list API tokens")
    with _context.database().reader() as session:
        emit(auth.list_tokens(session, include_revoked=revoked), title="API tokens")


@token_app.command("revoke")
def token_revoke(token_id: int) -> None:
    """Revoke a token by its id."""
    _context.local_only("token revoke", "tokens are kept in this machine's database")
    _context.principal().require_operator("revoke API tokens")
    with _context.database().transaction() as session:
        auth.revoke_token(session, token_id)
    if _context.json_output():
        emit({"id": token_id, "revoked": True})
    else:
        console.print(f"token {token_id} revoked")


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Option(help="The name the person signs in with.")],
    role: Annotated[str, typer.Option(help="cmo-admin, licensee, auditor, public or performer.")],
    cmo: Annotated[int | None, typer.Option(help="CMO id, for cmo-admin.")] = None,
    licensee: Annotated[int | None, typer.Option(help="Licensee id, for licensee.")] = None,
    performer: Annotated[int | None, typer.Option(help="Performer id, for performer.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Add an account (the password is prompted for, or read from stdin); only its argon2
    hash is kept. Several admins of one CMO each get their own account, audited by name."""
    _context.local_only("user add", "accounts are kept in this machine's database")
    _context.principal().require_operator("add accounts")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _context.database().transaction() as session:
        user_id = auth.add_user(
            session,
            username=username,
            password=password,
            role=role,
            cmo_id=cmo,
            licensee_id=licensee,
            performer_id=performer,
        )
    if _context.json_output():
        emit({"id": user_id, "username": username, "role": role})
    else:
        console.print(f"account {user_id} ({username}, {role}) added")


@user_app.command("list")
def user_list() -> None:
    """The accounts (never their password hashes)."""
    _context.local_only("user list", "accounts are kept in this machine's database")
    _context.principal().require_operator("list accounts")
    with _context.database().reader() as session:
        emit(auth.list_users(session), title="Accounts")
