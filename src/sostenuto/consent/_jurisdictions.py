"""Jurisdiction rules are data: what each territory's law lets an extended licence cover."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.audit import record_change, snapshot
from sostenuto.auth import Principal
from sostenuto.errors import InvalidInput
from sostenuto.storage.models.consent import JurisdictionRule
from sostenuto.vocabulary import check_territory, check_use


@dataclass(frozen=True)
class JurisdictionView:
    territory: str
    extended_licensing: bool
    ecl_uses: list[str]
    tdm_opt_out_required: bool
    note: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "territory": self.territory,
            "extended_licensing": self.extended_licensing,
            "ecl_uses": self.ecl_uses,
            "tdm_opt_out_required": self.tdm_opt_out_required,
            "note": self.note,
        }


def _view(row: JurisdictionRule) -> JurisdictionView:
    return JurisdictionView(
        territory=row.territory,
        extended_licensing=row.extended_licensing,
        ecl_uses=list(row.ecl_uses),
        tdm_opt_out_required=row.tdm_opt_out_required,
        note=row.note,
    )


def list_jurisdictions(session: Session) -> list[JurisdictionView]:
    """Every jurisdiction rule (public: they restate the law as Sostenuto applies it)."""
    rows = session.scalars(select(JurisdictionRule).order_by(JurisdictionRule.territory))
    return [_view(row) for row in rows]


def set_jurisdiction(
    session: Session,
    principal: Principal,
    *,
    territory: str,
    extended_licensing: bool,
    ecl_uses: Iterable[str] = (),
    tdm_opt_out_required: bool = True,
    note: str | None = None,
) -> JurisdictionView:
    """Create or replace the rule of one territory (audited)."""
    principal.require_operator("set jurisdiction rules")
    code = check_territory(territory, allow_worldwide=False)
    uses = sorted({check_use(use) for use in ecl_uses})
    if uses and not extended_licensing:
        raise InvalidInput(f"{code}: ECL uses are listed but extended licensing is off")
    row = session.get(JurisdictionRule, code)
    before = snapshot(row) if row is not None else None
    if row is None:
        row = JurisdictionRule(territory=code)
        session.add(row)
    row.extended_licensing = extended_licensing
    row.ecl_uses = uses
    row.tdm_opt_out_required = tdm_opt_out_required
    row.note = note
    session.flush()
    record_change(
        session,
        principal,
        action="jurisdiction.set",
        entity_type="jurisdiction_rule",
        entity_id=code,
        before=before,
        after=snapshot(row),
    )
    return _view(row)


def seed_file() -> Path:
    return Path(str(resources.files("sostenuto.consent") / "data" / "jurisdictions.json"))


def load_jurisdictions(
    session: Session, principal: Principal, path: Path | None = None
) -> list[JurisdictionView]:
    """Load a jurisdiction file (the packaged seed by default); every entry or none."""
    principal.require_operator("set jurisdiction rules")
    source = path or seed_file()
    try:
        document = orjson.loads(source.read_bytes())
        entries = document["rules"]
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError) as error:
        raise InvalidInput(f"{source}: not a jurisdiction file ({error})") from None
    loaded = []
    for number, entry in enumerate(entries, start=1):
        try:
            loaded.append(
                set_jurisdiction(
                    session,
                    principal,
                    territory=entry["territory"],
                    extended_licensing=bool(entry["extended_licensing"]),
                    ecl_uses=entry.get("ecl_uses", ()),
                    tdm_opt_out_required=bool(entry.get("tdm_opt_out_required", True)),
                    note=entry.get("note"),
                )
            )
        except (KeyError, TypeError) as error:
            raise InvalidInput(f"{source}: entry {number} lacks {error}") from None
        except InvalidInput as error:
            raise InvalidInput(f"{source}: entry {number}: {error.message}") from None
    return loaded
