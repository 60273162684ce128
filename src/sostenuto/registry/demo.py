"""A small, realistic demo registry: three CMOs, their members, catalogues, licensees,
licences (one of them an extended collective licence in Sweden), jurisdiction rules and a
few consent rules. Every name and number is made up; ISRCs and ISNIs are well-formed.

``load_demo`` is idempotent: a second run adds nothing and only issues fresh tokens.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.audit import record_change, snapshot
from sostenuto.auth import OPERATOR, issue_token
from sostenuto.registry._cmos import add_agreement, add_cmo
from sostenuto.registry._licensing import add_licensee, add_model, grant_licence
from sostenuto.registry._performers import add_mandate, add_performer
from sostenuto.registry._recordings import NewContribution, add_recording
from sostenuto.registry._validate import isni_check_character
from sostenuto.storage.models.consent import ConsentRule, JurisdictionRule
from sostenuto.storage.models.registry import Cmo, Licensee, Performer

START = dt.date(2025, 1, 1)

CMOS = (
    ("AIE", "Artistas Intérpretes o Ejecutantes (demo)", "ES"),
    ("SAMI", "Svenska Artisters och Musikers Intresseorganisation (demo)", "SE"),
    ("GVL", "Gesellschaft zur Verwertung von Leistungsschutzrechten (demo)", "DE"),
)

# name, ISNI digits (check character added), nationality, CMO code of the mandate or None
PERFORMERS: tuple[tuple[str, str | None, str, str | None], ...] = (
    ("Lucía Ferrer", "000000041234567", "ES", "AIE"),
    ("Mateo Ibarra", "000000052345671", "ES", "AIE"),
    ("Carmen Olmos", None, "ES", "AIE"),
    ("Ingrid Sjöberg", "000000063456782", "SE", "SAMI"),
    ("Oskar Lindqvist", "000000074567893", "SE", "SAMI"),
    ("Maja Ekström", None, "SE", "SAMI"),
    ("Jonas Weber", "000000085678904", "DE", "GVL"),
    ("Lena Hoffmann", "000000096789015", "DE", "GVL"),
    ("Elsa Nyberg", "000000107890126", "SE", None),  # non-member, covered by the SE ECL
    ("Viktor Holm", None, "SE", None),  # non-member who opted out of AI training
)

# ISRC, title, duration (ms), year, CMO code, [(performer index, featured, kind, instrument)]
RECORDINGS: tuple[tuple[str, str, int, int, str, list[tuple[int, bool, str, str | None]]], ...] = (
    (
        "ES-A7Q-19-00101",
        "Marea baja",
        214_000,
        2019,
        "AIE",
        [(0, True, "voice", None), (1, False, "instrument", "guitar")],
    ),
    ("ES-A7Q-19-00102", "Luz de enero", 198_500, 2019, "AIE", [(0, True, "voice", None)]),
    (
        "ES-A7Q-21-00007",
        "Orilla norte",
        241_300,
        2021,
        "AIE",
        [(1, True, "instrument", "guitar"), (2, False, "instrument", "cajón")],
    ),
    (
        "ES-A7Q-22-00015",
        "Sal y cobre",
        187_000,
        2022,
        "AIE",
        [(2, True, "voice", None), (1, False, "instrument", "guitar")],
    ),
    (
        "ES-A7Q-23-00031",
        "Noche de faro",
        226_700,
        2023,
        "AIE",
        [(0, True, "voice", None), (2, False, "voice", None)],
    ),
    ("ES-A7Q-24-00002", "Calima", 176_200, 2024, "AIE", [(1, True, "instrument", "guitar")]),
    (
        "ES-A7Q-24-00003",
        "Verano lento",
        205_900,
        2024,
        "AIE",
        [(0, True, "voice", None), (1, False, "instrument", "bass guitar")],
    ),
    (
        "SE-K4L-18-00210",
        "Fjällvind",
        232_000,
        2018,
        "SAMI",
        [(3, True, "voice", None), (4, False, "instrument", "nyckelharpa")],
    ),
    ("SE-K4L-20-00044", "Midsommarnatt", 251_800, 2020, "SAMI", [(3, True, "voice", None)]),
    (
        "SE-K4L-21-00090",
        "Isens sång",
        199_400,
        2021,
        "SAMI",
        [(5, True, "voice", None), (8, False, "instrument", "violin")],
    ),
    (
        "SE-K4L-22-00012",
        "Skärgård",
        222_100,
        2022,
        "SAMI",
        [(4, True, "instrument", "nyckelharpa"), (8, False, "instrument", "violin")],
    ),
    ("SE-K4L-23-00008", "Norrsken", 238_600, 2023, "SAMI", [(8, True, "instrument", "violin")]),
    (
        "SE-K4L-23-00009",
        "Tyst vatten",
        184_300,
        2023,
        "SAMI",
        [(9, True, "voice", None), (4, False, "instrument", "piano")],
    ),
    ("SE-K4L-24-00001", "Vinterljus", 207_000, 2024, "SAMI", [(9, True, "voice", None)]),
    (
        "DE-B3X-17-00501",
        "Stille Stadt",
        264_000,
        2017,
        "GVL",
        [(6, True, "instrument", "piano"), (7, False, "voice", None)],
    ),
    ("DE-B3X-19-00033", "Herbstlicht", 229_800, 2019, "GVL", [(7, True, "voice", None)]),
    (
        "DE-B3X-20-00070",
        "Kupferdraht",
        193_100,
        2020,
        "GVL",
        [(6, True, "instrument", "synthesizer")],
    ),
    (
        "DE-B3X-22-00004",
        "Glasfluss",
        245_500,
        2022,
        "GVL",
        [(7, True, "voice", None), (6, False, "instrument", "piano")],
    ),
    ("DE-B3X-23-00019", "Nachtzug", 201_200, 2023, "GVL", [(6, True, "instrument", "piano")]),
    (
        "DE-B3X-24-00011",
        "Himmel über Kiel",
        218_400,
        2024,
        "GVL",
        [(7, True, "voice", None), (3, False, "voice", None)],
    ),
)

LICENSEES = (
    ("Aurora Audio Labs", "developer", "SE", "aurora-music", "2.1", "text-to-music generation"),
    ("Cadenza Stream", "platform", "DE", "cadenza-search", "0.9", "AI search over a catalogue"),
)

JURISDICTIONS: tuple[tuple[str, bool, list[str], str], ...] = (
    ("ES", False, [], "Demo data: no extended collective licensing for AI uses modelled."),
    (
        "SE",
        True,
        ["search-index", "train-ai", "train-genai"],
        "Demo data: an extended collective licence (avtalslicens) reaches non-members who "
        "have not opted out.",
    ),
    ("DE", False, [], "Demo data: no extended collective licensing for AI uses modelled."),
)


def _isni(digits: str | None) -> str | None:
    return digits + isni_check_character(digits) if digits else None


def _add_rule(session: Session, **values: Any) -> None:
    rule = ConsentRule(created_by=OPERATOR.name, valid_from=START, **values)
    session.add(rule)
    session.flush()
    record_change(
        session,
        OPERATOR,
        action="create",
        entity_type="consent_rule",
        entity_id=rule.id,
        before=None,
        after=snapshot(rule),
    )


def _build(session: Session) -> None:
    cmo = {
        code: add_cmo(session, OPERATOR, code=code, name=name, country=country).id
        for code, name, country in CMOS
    }
    for territory, extended, uses, note in JURISDICTIONS:
        if session.get(JurisdictionRule, territory) is None:
            rule = JurisdictionRule(
                territory=territory,
                extended_licensing=extended,
                ecl_uses=uses,
                tdm_opt_out_required=True,
                note=note,
            )
            session.add(rule)
            session.flush()
            record_change(
                session,
                OPERATOR,
                action="create",
                entity_type="jurisdiction_rule",
                entity_id=territory,
                before=None,
                after=snapshot(rule),
            )
    add_agreement(
        session,
        OPERATOR,
        cmo_id=cmo["AIE"],
        partner_cmo_id=cmo["SAMI"],
        territories=["ES"],
        uses=["train-ai", "train-genai", "search-index"],
        admin_fee="0.10",
        valid_from=START,
    )
    add_agreement(
        session,
        OPERATOR,
        cmo_id=cmo["SAMI"],
        partner_cmo_id=cmo["AIE"],
        territories=["SE"],
        uses=["train-ai", "train-genai", "search-index"],
        admin_fee="0.08",
        valid_from=START,
    )
    performer_ids = []
    for name, isni, nationality, code in PERFORMERS:
        performer = add_performer(
            session,
            OPERATOR,
            name=name,
            isni=_isni(isni),
            nationality=nationality,
            residence=nationality,
            cmo_id=cmo[code] if code else cmo["SAMI"],
        )
        performer_ids.append(performer.id)
        if code:
            add_mandate(
                session,
                OPERATOR,
                performer_id=performer.id,
                cmo_id=cmo[code],
                territories=["WW"],
                uses=["train-ai", "train-genai", "fine-tune", "voice-clone", "search-index"],
                valid_from=START,
            )
    recording_ids = []
    for isrc, title, duration, year, code, parts in RECORDINGS:
        recording = add_recording(
            session,
            OPERATOR,
            cmo_id=cmo[code],
            isrc=isrc,
            title=title,
            duration_ms=duration,
            fixation_year=year,
            contributions=[
                NewContribution(
                    performer_ids[i], featured, kind, instrument, "2" if featured else "1"
                )
                for i, featured, kind, instrument in parts
            ],
        )
        recording_ids.append(recording.id)
    licensee = {}
    for name, kind, country, model, version, purpose in LICENSEES:
        licensee[name] = add_licensee(session, OPERATOR, name=name, kind=kind, country=country).id
        add_model(
            session,
            OPERATOR,
            licensee_id=licensee[name],
            name=model,
            version=version,
            purpose=purpose,
        )
    aurora, cadenza = licensee["Aurora Audio Labs"], licensee["Cadenza Stream"]
    grant_licence(
        session,
        OPERATOR,
        cmo_id=cmo["SAMI"],
        licensee_id=aurora,
        uses=["train-ai", "train-genai"],
        territories=["SE"],
        valid_from=START,
        valid_to=dt.date(2027, 12, 31),
        tariff_ref="SAMI-AI-2025",
        extended=True,
        conditions=["attribution", "remuneration"],
    )
    grant_licence(
        session,
        OPERATOR,
        cmo_id=cmo["AIE"],
        licensee_id=aurora,
        uses=["train-genai"],
        territories=["ES"],
        valid_from=START,
        valid_to=dt.date(2026, 12, 31),
        tariff_ref="AIE-GENAI-2025",
        conditions=["labelling", "remuneration"],
    )
    grant_licence(
        session,
        OPERATOR,
        cmo_id=cmo["GVL"],
        licensee_id=cadenza,
        uses=["search-index"],
        territories=["DE", "AT"],
        valid_from=START,
        tariff_ref="GVL-SEARCH-2025",
        conditions=["attribution"],
    )
    # Lucía Ferrer forbids cloning her voice, whoever asks, wherever.
    _add_rule(
        session,
        effect="prohibit",
        scope_kind="performer",
        scope_id=performer_ids[0],
        licensee_id=None,
        uses=["voice-clone"],
        territories=["WW"],
        conditions=[],
        source="performer",
        note="No voice cloning of my voice, by anyone.",
        cmo_id=cmo["AIE"],  # relayed by her CMO
    )
    # AIE permits Aurora to train generative models on all its members in Spain.
    _add_rule(
        session,
        effect="permit",
        scope_kind="cmo",
        scope_id=cmo["AIE"],
        licensee_id=aurora,
        uses=["train-genai"],
        territories=["ES"],
        conditions=["attribution", "remuneration"],
        source="cmo",
        note="Members' collective permission for Aurora Audio Labs.",
        cmo_id=cmo["AIE"],
    )
    # Viktor Holm, not a member of any CMO, opts out of AI training (and so of the SE ECL).
    _add_rule(
        session,
        effect="prohibit",
        scope_kind="performer",
        scope_id=performer_ids[9],
        licensee_id=None,
        uses=["train-ai"],
        territories=["WW"],
        conditions=[],
        source="opt-out",
        note="Opt-out from text and data mining for AI training.",
        cmo_id=cmo["SAMI"],  # the CMO that received the notice
    )


def load_demo(session: Session) -> dict[str, str]:
    """Load the demo registry (once) and return one fresh API token per role.

    Keys: ``cmo-admin:<CODE>`` for each CMO, ``licensee:<name>`` for each licensee,
    ``performer:<name>`` for one member, ``auditor`` and ``public``.
    """
    if session.scalar(select(Cmo.id).where(Cmo.code == CMOS[0][0])) is None:
        _build(session)
    tokens: dict[str, str] = {}
    for code, _, _ in CMOS:
        cmo_id = session.scalar(select(Cmo.id).where(Cmo.code == code))
        tokens[f"cmo-admin:{code}"] = issue_token(
            session, role="cmo-admin", label=f"demo {code} admin", cmo_id=cmo_id
        )
    for name, *_ in LICENSEES:
        licensee_id = session.scalar(select(Licensee.id).where(Licensee.name == name))
        tokens[f"licensee:{name}"] = issue_token(
            session, role="licensee", label=f"demo {name}", licensee_id=licensee_id
        )
    # One performer signs in as herself: Lucía Ferrer, an AIE member.
    name = PERFORMERS[0][0]
    performer_id = session.scalar(select(Performer.id).where(Performer.name == name))
    tokens[f"performer:{name}"] = issue_token(
        session, role="performer", label=f"demo {name}", performer_id=performer_id
    )
    tokens["auditor"] = issue_token(session, role="auditor", label="demo auditor")
    tokens["public"] = issue_token(session, role="public", label="demo public")
    return tokens
