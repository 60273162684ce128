"""``sostenuto log``: declare entries, checkpoints, proofs, offline verification, witness."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from sostenuto.cli import _context
from sostenuto.cli.output import console, emit, plain, print_json
from sostenuto.errors import InvalidInput, NotFound

log_app = typer.Typer(
    help="The transparency log: declare, prove, verify, witness.", no_args_is_help=True
)


def register(root: typer.Typer) -> None:
    root.add_typer(log_app, name="log")


def _read_json(path: str) -> Any:
    if path != "-" and not Path(path).is_file():
        raise NotFound(f"no such file: {path}", details={"path": path})
    text = sys.stdin.read() if path == "-" else Path(path).read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{path} is not JSON: {error}") from None


def _key(value: str) -> str:
    """A verifier key given inline or as a file holding it."""
    path = Path(value)
    return path.read_text().strip() if "+" not in value and path.is_file() else value


@log_app.command("key")
def key() -> None:
    """Print the log's verifier key (created on first use)."""
    if (api := _context.remote()) is not None:
        found = str(api.call("log.key.show")["verifier_key"])
    else:
        from sostenuto.transparency import verifier_key

        found = verifier_key(_context.settings())
    if _context.json_output():
        emit({"verifier_key": found})
    else:
        print(found)  # plain: a console would wrap the key at its width


@log_app.command("declare")
def declare_command(
    entry_type: Annotated[str, typer.Argument(help="dataset-manifest, training-run, ...")],
    payload: Annotated[str, typer.Argument(help="JSON file with the payload, or - for stdin.")],
) -> None:
    """Declare one entry; prints its receipt."""
    body = _read_json(payload)
    if (api := _context.remote()) is not None:
        emit(api.call("log.entries.declare", json={"type": entry_type, "payload": body}))
        return
    from sostenuto.declarations import declare

    receipt = declare(
        _context.database(), _context.settings(), _context.principal(), entry_type, body
    )
    emit(plain(receipt.__dict__))


@log_app.command("append")
def append_command(
    entries: Annotated[
        str, typer.Argument(help='JSON list of {"type": ..., "payload": ...}, or - for stdin.')
    ],
) -> None:
    """Declare a batch: all entries under one signed checkpoint, or none of them."""
    from sostenuto.declarations import declare_batch

    items = _read_json(entries)
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and {"type", "payload"} <= i.keys() for i in items
    ):
        raise InvalidInput('a batch is a JSON list of {"type": ..., "payload": ...} objects')
    if (api := _context.remote()) is not None:
        emit(api.call("log.batches.declare", json={"entries": items}))
        return
    receipts = declare_batch(
        _context.database(),
        _context.settings(),
        _context.principal(),
        [(i["type"], i["payload"]) for i in items],
    )
    emit(plain([r.__dict__ for r in receipts]))


@log_app.command("checkpoint")
def checkpoint_command() -> None:
    """Print the latest signed checkpoint (C2SP signed note)."""
    if (api := _context.remote()) is not None:
        found = api.call("log.checkpoint.show")
    else:
        from sostenuto.transparency import checkpoint

        signed = checkpoint(_context.database(), _context.settings())
        found = {"size": signed.size, "root": signed.root.hex(), "note": signed.note}
    if _context.json_output():
        emit(found)
    else:
        sys.stdout.write(found["note"])


@log_app.command("prove")
def prove(
    index: Annotated[int | None, typer.Argument(help="Leaf index for an inclusion proof.")] = None,
    size: Annotated[
        int | None, typer.Option(help="Checkpointed tree size (default latest).")
    ] = None,
    first: Annotated[
        int | None, typer.Option("--from", help="Consistency proof from this checkpointed size.")
    ] = None,
) -> None:
    """Print a proof bundle: inclusion of INDEX, or consistency --from a size to --size."""
    from sostenuto.transparency import consistency_bundle, inclusion_bundle

    if (index is None) == (first is None):
        raise InvalidInput("give a leaf INDEX (inclusion) or --from SIZE (consistency)")
    if (api := _context.remote()) is not None:
        if index is not None:
            print_json(
                api.call("log.proofs.inclusion", path={"index": index}, query={"size": size})
            )
        else:
            print_json(api.call("log.proofs.consistency", query={"first": first, "second": size}))
        return
    database = _context.database()
    if index is not None:
        print_json(inclusion_bundle(database, index, size))
    else:
        assert first is not None
        print_json(consistency_bundle(database, first, size))


@log_app.command("verify")
def verify(
    bundle: Annotated[str, typer.Argument(help="A receipt or consistency bundle (JSON), or -.")],
    key: Annotated[str, typer.Option("--key", help="The log's verifier key, or a file with it.")],
    witness_keys: Annotated[
        list[str] | None,
        typer.Option("--witness-key", help="A witness's cosigner key (or file); repeatable."),
    ] = None,
    quorum: Annotated[
        int | None, typer.Option(help="Witness cosignatures required (default: all given).")
    ] = None,
) -> None:
    """Verify a bundle offline, from nothing but the log's (and witnesses') keys."""
    from sostenuto.transparency import (
        require_cosignatures,
        verify_consistency_bundle,
        verify_receipt,
    )

    data = _read_json(bundle)
    if not isinstance(data, dict):
        raise InvalidInput("a bundle is a JSON object")
    if data.get("format") == "sostenuto-consistency/1":
        old, new = verify_consistency_bundle(data, _key(key))
        message = f"{new.origin} at size {new.size} extends size {old.size}"
        verdict = "consistent"
        note = str(data["second"])
    else:
        verified = verify_receipt(data, _key(key))
        message = (
            f"entry {verified.index} is in {verified.checkpoint.origin} "
            f"at size {verified.checkpoint.size}"
        )
        verdict = "verified"
        note = str(data["checkpoint"])
    if witness_keys:
        keys = [_key(value) for value in witness_keys]
        found = require_cosignatures(note, keys, quorum or len(keys))
        message += f", cosigned by {', '.join(sorted(found))}"
    if _context.json_output():
        emit({"valid": True, "verdict": verdict, "message": message})
    else:
        console.print(f"[green]{verdict}[/green]: {message}")


@log_app.command("witness")
def witness_command(
    source: Annotated[str, typer.Argument(help="Tile base URL (…/log) or a mirror directory.")],
    key: Annotated[str, typer.Option("--key", help="The log's verifier key, or a file with it.")],
    state: Annotated[Path, typer.Option(help="Where this witness keeps its last checkpoint.")],
    cosign_key: Annotated[
        Path | None,
        typer.Option(help="This witness's signing key (from 'log witness-key'): cosign."),
    ] = None,
    submit: Annotated[
        str | None,
        typer.Option(help="Hand the cosignature to the log at this base URL (SOSTENUTO_TOKEN)."),
    ] = None,
) -> None:
    """Check the log's newest checkpoint against the last verified one; alarm on a split view."""
    from sostenuto.transparency import Cosigner, submit_cosignature, witness

    cosigner = Cosigner.parse(cosign_key.read_text()) if cosign_key else None
    if submit and cosigner is None:
        raise InvalidInput("--submit needs --cosign-key: there is nothing to hand over")
    report = witness(source, _key(key), state, cosigner)
    result: dict[str, object] = dict(report.__dict__)
    if submit and report.cosigned:
        token = _context.INVOCATION.token or os.environ.get("SOSTENUTO_TOKEN")
        if not token:
            raise InvalidInput("--submit needs --token (an auditor token of that log)")
        result["accepted_by_log"] = submit_cosignature(submit, report.cosigned, token)
    emit(plain(result))


@log_app.command("witness-key")
def witness_key(
    name: Annotated[str, typer.Argument(help="The witness's name, e.g. witness.example.org/w1.")],
    out: Annotated[Path, typer.Option(help="Where to write the signing key (mode 0600).")],
) -> None:
    """Create a witness's cosigning key; print the verifier key to give to the log and clients."""
    from sostenuto.transparency import Cosigner

    if out.exists():
        raise InvalidInput(f"{out} exists; a witness key is never overwritten")
    cosigner = Cosigner.generate(name)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(str(cosigner) + "\n")
    if _context.json_output():
        emit({"name": name, "verifier_key": cosigner.public_key, "signing_key_file": str(out)})
    else:
        print(cosigner.public_key)  # plain: a console would wrap the key at its width


@log_app.command("add-cosignature")
def add_cosignature(
    note: Annotated[str, typer.Argument(help="A cosigned checkpoint (file), or - for stdin.")],
) -> None:
    """Keep known witnesses' cosignatures (SOSTENUTO_WITNESS_KEYS) on the log's checkpoint."""
    from sostenuto.transparency import add_cosignatures

    if note != "-" and not Path(note).is_file():
        raise NotFound(f"no such file: {note}", details={"path": note})
    text = sys.stdin.read() if note == "-" else Path(note).read_text()
    if (api := _context.remote()) is not None:
        names = list(api.call("log.cosignatures.add", json={"note": text})["accepted"])
    else:
        names = add_cosignatures(
            _context.database(), _context.settings(), _context.principal(), text
        )
    if _context.json_output():
        emit({"accepted": names})
    else:
        console.print(f"kept cosignatures of {', '.join(names)}")


@log_app.command("submit-witnesses")
def submit_witnesses_command() -> None:
    """Hand the log's newest checkpoint to every witness in SOSTENUTO_WITNESS_URLS (C2SP
    tlog-witness ``add-checkpoint``) and keep the cosignatures of known witnesses."""
    _context.local_only("log submit-witnesses", "it signs with the log's own key")
    from sostenuto.transparency import submit_to_witnesses

    accepted = submit_to_witnesses(_context.database(), _context.settings())
    if _context.json_output():
        emit(accepted)
        return
    for url, names in accepted.items():
        console.print(f"{url}: cosigned by {', '.join(names) or 'no known witness'}")


@log_app.command("mirror")
def mirror_command(
    directory: Annotated[Path, typer.Argument(help="Where to write checkpoint and tiles.")],
) -> None:
    """Write a static C2SP tile mirror of the log (serve it with any web server)."""
    from sostenuto.transparency import mirror

    _context.local_only(
        "log mirror", "it reads the log's own database; mirror a served log with `log witness`"
    )
    size = mirror(_context.database(), directory)
    if _context.json_output():
        emit({"size": size, "directory": str(directory)})
    else:
        console.print(f"mirrored {size} entries to {directory}")


@log_app.command("summary")
def summary_command(
    model_id: Annotated[int, typer.Argument(help="The model's id.")],
    pdf: Annotated[Path | None, typer.Option(help="Write a PDF here instead of JSON.")] = None,
) -> None:
    """The public summary of training content of a model (EU AI Office template)."""
    if (api := _context.remote()) is not None:
        if pdf is not None:
            pdf.write_bytes(api.call("log.summaries.pdf", path={"model_id": model_id}))
            console.print(f"wrote {pdf}")
        else:
            print_json(api.call("log.summaries.show", path={"model_id": model_id}))
        return
    from sostenuto.declarations import training_summary
    from sostenuto.transparency import summary_pdf

    summary = training_summary(_context.database(), _context.principal(), model_id)
    if pdf is None:
        print_json(summary)  # a document: JSON whatever the output mode
        return
    pdf.write_bytes(summary_pdf(summary))
    console.print(f"wrote {pdf}")


@log_app.command("entries")
def entries_command(
    entry_type: Annotated[str | None, typer.Option("--type", help="Only this entry type.")] = None,
    licensee: Annotated[int | None, typer.Option("--licensee", help="Licensee id.")] = None,
    model: Annotated[int | None, typer.Option("--model", help="Model id.")] = None,
    sha256: Annotated[
        str | None, typer.Option("--sha256", help="Manifests that declared this content hash.")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Was this file declared? (its SHA-256 is looked up)."),
    ] = None,
    cursor: Annotated[str | None, typer.Option("--cursor", help="Next page's cursor.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Entries a page.")] = 100,
) -> None:
    """Entries of the log in log order (public); --file asks whether a file was declared."""
    if file is not None:
        if sha256 is not None:
            raise InvalidInput("give --file or --sha256, not both")
        if not file.is_file():
            raise NotFound(f"no such file: {file}", details={"path": str(file)})
        from sostenuto.registry import file_sha256

        sha256 = file_sha256(file)
    asked: dict[str, Any] = {
        "entry_type": entry_type,
        "licensee_id": licensee,
        "model_id": model,
        "sha256": sha256,
        "cursor": cursor,
        "limit": limit,
    }
    if (api := _context.remote()) is not None:
        page = api.call("log.entries.list", query=asked)
    else:
        from sostenuto.transparency import list_entries

        with _context.database().reader() as session:
            page = plain(list_entries(session, **asked))
    emit(page, title="Log entries")


@log_app.command("changes")
def changes_command(
    since: Annotated[
        int, typer.Option("--since", help="The checkpoint (log size) the last call gave.")
    ] = 0,
    licensee: Annotated[
        int | None, typer.Option("--licensee", help="Licensee id (default: the token's).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Consent changes a page.")] = 100,
) -> None:
    """The revocation feed: declared files that consent changes since --since put out of
    use, per manifest, and the checkpoint to pass next time."""
    asked: dict[str, Any] = {"since": since, "licensee_id": licensee, "limit": limit}
    if (api := _context.remote()) is not None:
        feed = api.call("changes.list", query=asked)
    else:
        from sostenuto.declarations import changes_since

        feed = changes_since(_context.database(), _context.principal(), **asked).as_json()
    if _context.json_output():
        print_json(feed)
        return
    # The table names each file and when; --json gives hashes, decisions and reasons too.
    rows = [
        {
            "manifest": manifest["name"],
            "isrc": item["isrc"],
            "recording": item["recording_id"],
            "from": item["from"],
            "change": item["change_index"],
        }
        for manifest in feed["manifests"]
        for item in manifest["revoked"]
    ]
    summary = {key: feed[key] for key in ("licensee_id", "since", "checkpoint", "more")}
    emit({"items": rows, "changes": len(feed["changes"]), **summary}, title="Revoked files")
