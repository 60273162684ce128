"""Scenarios written from real collective-licensing schemes, on the real clock."""

from __future__ import annotations

import datetime as dt

import pytest

from sostenuto import registry
from sostenuto.auth import OPERATOR
from sostenuto.consent import (
    decide,
    decide_performer,
    load_jurisdictions,
    opt_out,
    prohibit,
    revoke_rule,
)
from sostenuto.errors import Forbidden, InvalidInput
from sostenuto.storage import Database
from tests.consent.conftest import World, admin, licensee_principal

TODAY = dt.datetime.now(dt.UTC).date()


def test_danish_extended_collective_licence_with_a_non_member_who_opted_out(
    database: Database, world: World
) -> None:
    """Copyright Act s.50(2): a Danish CMO's agreement for AI training extends to performers
    it does not represent, unless they have opted out; it does not reach other countries."""
    with database.transaction() as session:
        load_jurisdictions(session, OPERATOR)
    danish = world.cmo("DK-PERF", "DK")
    swedish = world.cmo("SE-PERF", "SE")
    lab = world.licensee("Nordic AI")
    member = world.performer("Member of the Danish CMO")
    outsider = world.performer("Outsider who opted out")
    silent = world.performer("Outsider who said nothing")
    world.mandate(member, danish, territories=("DK",))
    band = world.recording(member, outsider)
    duo = world.recording(member, silent)
    with database.transaction() as session:
        licence = registry.grant_licence(
            session,
            admin(danish),
            cmo_id=danish,
            licensee_id=lab,
            uses=["train-ai", "train-genai"],
            territories=["DK"],
            valid_from=TODAY,
            extended=True,
            conditions=["remuneration"],
        )

    def ask(recording: int, territory: str = "DK") -> tuple[str, str, list[int], list[int]]:
        with database.transaction() as session:
            result = decide(
                session,
                licensee_principal(lab),
                licensee_id=lab,
                recording_id=recording,
                use="train-genai",
                territory=territory,
            )
        return result.outcome, result.reason, result.rule_ids, result.licence_ids

    outcome, reason, _, licences = ask(band)
    assert (outcome, licences) == ("permit", [licence.id])
    assert "extended collective licence" in reason
    # The outsider's opt-out reaches the Swedish CMO, which records it on their behalf.
    with database.transaction() as session:
        reservation = opt_out(session, admin(swedish), performer_id=outsider, uses=["train-ai"])
    outcome, reason, rules, _ = ask(band)
    assert (outcome, rules) == ("deny", [reservation.id])
    assert f"rule {reservation.id}" in reason
    # The silent outsider is still covered; the extension does not reach Sweden.
    assert ask(duo)[0] == "permit"
    assert ask(duo, territory="SE")[0] == "deny"
    # The Danish CMO cannot lift the opt-out it did not record.
    with pytest.raises(Forbidden), database.transaction() as session:
        revoke_rule(session, admin(danish), reservation.id)
    # Nor can it extend its licence to Sweden.
    with pytest.raises(InvalidInput, match="only there"), database.transaction() as session:
        registry.grant_licence(
            session,
            admin(danish),
            cmo_id=danish,
            licensee_id=lab,
            uses=["train-ai"],
            territories=["SE"],
            valid_from=TODAY,
            extended=True,
        )


def test_stim_style_licence_per_model_version(database: Database, world: World) -> None:
    """A licence for one model version: the next version needs a licence of its own."""
    stim_like = world.cmo("SE-MUSIC", "SE")
    lab = world.licensee("Songsmith")
    singer = world.performer("Singer")
    world.mandate(singer, stim_like, territories=("SE",))
    song = world.recording(singer)
    with database.transaction() as session:
        models = [
            registry.add_model(
                session,
                licensee_principal(lab),
                licensee_id=lab,
                name="Songsmith",
                version=version,
                purpose="music generation",
            )
            for version in ("1.0", "2.0")
        ]
        registry.grant_licence(
            session,
            admin(stim_like),
            cmo_id=stim_like,
            licensee_id=lab,
            uses=["train-genai"],
            territories=["SE"],
            valid_from=TODAY,
            model_id=models[0].id,
            conditions=["remuneration", "attribution"],
        )

    def outcome(model: int) -> str:
        with database.transaction() as session:
            return decide(
                session,
                licensee_principal(lab),
                licensee_id=lab,
                recording_id=song,
                use="train-genai",
                territory="SE",
                model_id=model,
            ).outcome

    assert [outcome(model.id) for model in models] == ["permit", "deny"]


def test_a_cmo_wide_reservation_reaches_every_member_and_no_one_else(
    database: Database, world: World
) -> None:
    """SACEM-style: a CMO reserves the AI uses of its whole repertoire (CDSM art. 4(3))."""
    french = world.cmo("FR-PERF", "FR")
    spanish = world.cmo("ES-PERF", "ES")
    lab = world.licensee("Lab")
    member, other = world.performer("French member"), world.performer("Spanish member")
    world.mandate(member, french, territories=("WW",), uses=("train-ai", "search-index"))
    world.mandate(other, spanish, territories=("WW",), uses=("train-ai", "search-index"))
    world.licence(spanish, lab, uses=("search-index", "train-genai"), territories=("WW",))
    with database.transaction() as session:
        reservation = prohibit(
            session,
            admin(french),
            scope="cmo",
            scope_id=french,
            uses=["train-ai", "search-index"],
        )
    with database.transaction() as session:
        for use in ("search-index", "train-genai", "voice-clone"):
            denied = decide_performer(
                session,
                licensee_principal(lab),
                licensee_id=lab,
                performer_id=member,
                use=use,
                territory="FR",
            )
            assert (denied.outcome, denied.rule_ids) == ("deny", [reservation.id])
            assert f"rule {reservation.id}" in denied.reason
        allowed = decide_performer(
            session,
            licensee_principal(lab),
            licensee_id=lab,
            performer_id=other,
            use="search-index",
            territory="FR",
        )
    assert allowed.outcome == "permit"


def test_a_licensee_asks_by_isrc_and_gets_both_identifiers(
    database: Database, world: World
) -> None:
    from sostenuto.consent import decide_batch, get_decision
    from sostenuto.errors import NotFound
    from sostenuto.storage.models.registry import Recording

    cmo = world.cmo("ES-PERF", "ES")
    lab = world.licensee("Lab")
    singer = world.performer("Singer")
    world.mandate(singer, cmo)
    first, second = world.recording(singer), world.recording(singer)
    world.licence(cmo, lab, territories=("ES",))
    with database.reader() as session:
        isrcs = [session.get(Recording, r).isrc for r in (first, second)]  # type: ignore[union-attr]
    principal = licensee_principal(lab)
    with database.transaction() as session:
        single = decide(
            session,
            principal,
            licensee_id=lab,
            isrc=isrcs[0].lower(),
            use="train-genai",
            territory="ES",
        )
        batch = decide_batch(
            session, principal, licensee_id=lab, isrcs=isrcs, use="train-genai", territory="ES"
        )
    assert (single.outcome, single.recording_id, single.isrc) == ("permit", first, isrcs[0])
    assert [(r.recording_id, r.isrc) for r in batch] == list(
        zip([first, second], isrcs, strict=True)
    )
    with database.reader() as session:
        assert get_decision(session, principal, single.id).isrc == isrcs[0]
    with pytest.raises(NotFound, match="not registered"), database.transaction() as session:
        decide_batch(
            session,
            principal,
            licensee_id=lab,
            isrcs=[isrcs[0], "SEZZZ2600001"],
            use="train-genai",
            territory="ES",
        )
    with pytest.raises(InvalidInput, match="not both"), database.transaction() as session:
        decide(
            session,
            principal,
            licensee_id=lab,
            recording_id=first,
            isrc=isrcs[0],
            use="train-genai",
            territory="ES",
        )
