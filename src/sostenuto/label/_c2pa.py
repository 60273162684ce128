"""Signed provenance manifests (C2PA, through c2pa-python): build, sign, read, validate.

The manifest holds three assertions: ``c2pa.actions`` (a ``c2pa.created`` action with the IPTC
digital source type and the generating model as software agent), ``cawg.training-mining``
(the performers' reservations, CAWG Training and Data Mining assertion 1.1: C2PA 2.0 removed
``c2pa.training-mining``; labels already written with it are still read) and
``org.sostenuto.declaration`` (log entry, watermark id, licensee, licence and consent
references). Validation trusts only the anchors it is given:
Sostenuto's root certificate, so a manifest signed by any other key reads as untrusted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sostenuto import __version__
from sostenuto.errors import DependencyMissing, IntegrityFailure, UnsupportedFormat
from sostenuto.label._keys import SigningKeys
from sostenuto.label._model import Label, ManifestFinding

SOSTENUTO_ASSERTION = "org.sostenuto.declaration"
TRAINING_MINING = "cawg.training-mining"
LEGACY_TRAINING_MINING = "c2pa.training-mining"  # C2PA 1.x, removed in 2.0: read only


def cawg_entry(key: str) -> str:
    """``c2pa.ai_training`` (the C2PA 1.x entry a caller may still name) → ``cawg.ai_training``."""
    return "cawg." + key.removeprefix("c2pa.") if key.startswith("c2pa.") else key


def _c2pa() -> Any:
    try:
        import c2pa
    except ImportError:  # pragma: no cover - the label extra installs it
        raise DependencyMissing("c2pa-python is not installed (pip install c2pa-python)") from None
    return c2pa


def manifest_definition(label: Label, title: str) -> dict[str, Any]:
    declaration: dict[str, Any] = {
        "licensee": label.licensee,
        "model": label.model,
        "log_entry_id": label.log_entry_id,
        "licence_ref": label.licence_ref,
        "consent_ref": label.consent_ref,
        "watermark_id": label.watermark_id,
    }
    assertions: list[dict[str, Any]] = [
        {
            "label": "c2pa.actions",
            "data": {
                "actions": [
                    {
                        "action": "c2pa.created",
                        "digitalSourceType": label.source_type_uri,
                        "softwareAgent": {"name": label.model},
                    }
                ]
            },
        },
        {
            "label": SOSTENUTO_ASSERTION,
            "data": {key: value for key, value in declaration.items() if value is not None},
        },
    ]
    if label.reservations:
        entries: dict[str, dict[str, str]] = {}
        for key, use in label.reservations.items():
            entry = {"use": use}
            if use == "constrained" and label.reservation_note:
                entry["constraint_info"] = label.reservation_note
            entries[cawg_entry(key)] = entry
        assertions.append({"label": TRAINING_MINING, "data": {"entries": entries}})
    return {
        "claim_generator_info": [{"name": "Sostenuto", "version": __version__}],
        "title": title,
        "assertions": assertions,
    }


def sign_file(source: Path, dest: Path, mime: str, label: Label, keys: SigningKeys) -> int:
    """Write ``source`` with a signed manifest to ``dest``; return the manifest's size."""
    c2pa = _c2pa()
    definition = manifest_definition(label, source.name)
    try:
        info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, keys.chain_pem, keys.key_pem, None)
        signer = c2pa.Signer.from_info(info)
        context = c2pa.Context.from_dict({"verify": {"verify_after_sign": False}})
        with (
            c2pa.Builder(json.dumps(definition), context=context) as builder,
            source.open("rb") as src,
            dest.open("w+b") as out,
        ):
            manifest = builder.sign(signer, mime, src, out)
    except c2pa.C2paError as error:
        raise UnsupportedFormat(
            f"cannot sign a C2PA manifest into {source.name}: {error}"
        ) from None
    return len(manifest)


def _assertion(manifest: dict[str, Any], label: str) -> dict[str, Any] | None:
    for assertion in manifest.get("assertions", []):
        # c2pa-rs stores actions as "c2pa.actions.v2"; match any version suffix.
        name = str(assertion.get("label", ""))
        if name == label or name.startswith(label + ".v"):
            data = assertion.get("data")
            return data if isinstance(data, dict) else None
    return None


def read_manifest(path: Path, mime: str, trust_anchors: bytes | None) -> ManifestFinding:
    """Read and validate the manifest store of ``path`` against ``trust_anchors``."""
    c2pa = _c2pa()
    settings: dict[str, Any] = {"verify": {"verify_trust": trust_anchors is not None}}
    if trust_anchors is not None:
        settings["trust"] = {"trust_anchors": trust_anchors.decode()}
    context = c2pa.Context.from_dict(settings)
    try:
        with path.open("rb") as stream:
            reader = c2pa.Reader.try_create(mime, stream, None, context)
            if reader is None:
                return ManifestFinding(present=False)
            with reader:
                store = json.loads(reader.json())
    except c2pa.C2paError as error:
        # A store so damaged it cannot be parsed is present but fails validation.
        return ManifestFinding(present=True, state="Invalid", problems=[str(error)])
    return _finding(store)


def _finding(store: dict[str, Any]) -> ManifestFinding:
    state = store.get("validation_state")
    active = store.get("manifests", {}).get(store.get("active_manifest", ""), {})
    problems = [
        f"{item.get('code')}: {item.get('explanation', '')}".strip()
        for item in store.get("validation_status", []) or []
    ]
    actions = _assertion(active, "c2pa.actions") or {}
    created: dict[str, Any] = next(iter(actions.get("actions", [])), {})
    agent = created.get("softwareAgent")
    model = agent.get("name") if isinstance(agent, dict) else agent
    mining = _assertion(active, TRAINING_MINING) or _assertion(active, LEGACY_TRAINING_MINING) or {}
    entries = {
        key: str(value.get("use"))
        for key, value in (mining.get("entries") or {}).items()
        if isinstance(value, dict)
    }
    signature = active.get("signature_info") or {}
    return ManifestFinding(
        present=True,
        state=state,
        trusted=state == "Trusted",
        intact=state in ("Trusted", "Valid"),
        signer=signature.get("common_name"),
        issuer=signature.get("issuer"),
        source_type=created.get("digitalSourceType"),
        model=model,
        sostenuto=dict(_assertion(active, SOSTENUTO_ASSERTION) or {}),
        training_mining=entries,
        problems=problems,
    )


def require_valid(finding: ManifestFinding) -> None:
    """Raise IntegrityFailure unless the manifest is intact and trusted."""
    if not finding.present:
        raise IntegrityFailure("the file carries no C2PA manifest")
    if not finding.trusted:
        raise IntegrityFailure(
            f"the C2PA manifest is {finding.state}: {'; '.join(finding.problems) or 'untrusted'}"
        )
