"""The policy table, walked whole: every action × role × tenant against a table written here.

Each row reads ``cmo=... lic=... aud=... pub=... per=...``; the three letters of a role are
the answer (``Y`` allowed, ``N`` refused) for an object of its **own** tenant, of **another**
tenant, and of another tenant that its CMO **represents** (the performer or a recording's
contributor is its member: the ``represents`` fact a service computes). A performer's own
object is the one of its own performer id. The local operator passes everything.
A new action fails :func:`test_every_action_has_an_expected_row` until it gets a row here.
"""

from __future__ import annotations

import pytest

from sostenuto.auth import (
    ACTIONS,
    OPERATOR,
    POLICY,
    PUBLIC,
    ROLES,
    Principal,
    allowed,
    authorize,
    authorize_role,
    roles_for,
)
from sostenuto.errors import Forbidden

EXPECTED: dict[str, str] = {
    # registry
    "cmo.list": "cmo=YYY lic=YYY aud=YYY pub=YYY per=YYY",
    "cmo.register": "cmo=NNN lic=NNN aud=NNN pub=NNN per=NNN",
    "agreement.add": "cmo=YNN lic=NNN aud=NNN pub=NNN per=NNN",
    "agreement.list": "cmo=YNN lic=NNN aud=YYY pub=NNN per=NNN",
    "performer.add": "cmo=YNN lic=NNN aud=NNN pub=NNN per=NNN",
    "performer.read": "cmo=YNY lic=NNN aud=YYY pub=NNN per=YNN",
    "mandate.add": "cmo=YNN lic=NNN aud=NNN pub=NNN per=NNN",
    "mandate.list": "cmo=YNN lic=NNN aud=YYY pub=NNN per=NNN",
    "mandate.end": "cmo=YNN lic=NNN aud=NNN pub=NNN per=NNN",
    "mandate.confirm": "cmo=NNY lic=NNN aud=NNN pub=NNN per=NNN",
    "recording.add": "cmo=YNN lic=NNN aud=NNN pub=NNN per=NNN",
    "recording.read": "cmo=YYY lic=YYY aud=YYY pub=YYY per=YYY",
    "recording.read-full": "cmo=YNN lic=NNN aud=YYY pub=NNN per=NNN",
    "recording.change": "cmo=YNN lic=NNN aud=NNN pub=NNN per=NNN",
    "catalogue.import": "cmo=YNN lic=NNN aud=NNN pub=NNN per=NNN",
    "licensee.add": "cmo=YYY lic=NNN aud=NNN pub=NNN per=NNN",
    "licensee.list": "cmo=YYY lic=YNN aud=YYY pub=NNN per=NNN",
    "model.add": "cmo=NNN lic=YNN aud=NNN pub=NNN per=NNN",
    "model.list": "cmo=YYY lic=YNN aud=YYY pub=NNN per=NNN",
    "licence.grant": "cmo=YNN lic=NNN aud=NNN pub=NNN per=NNN",
    "licence.list": "cmo=YNN lic=YNN aud=YYY pub=NNN per=NNN",
    "licence.suspend": "cmo=YNN lic=NNN aud=NNN pub=NNN per=NNN",
    "audit.read": "cmo=NNN lic=NNN aud=YYY pub=NNN per=NNN",
    # consent
    "jurisdiction.read": "cmo=YYY lic=YYY aud=YYY pub=YYY per=YYY",
    "jurisdiction.set": "cmo=NNN lic=NNN aud=NNN pub=NNN per=NNN",
    "export.read": "cmo=YYY lic=YYY aud=YYY pub=YYY per=YYY",
    "decision.request": "cmo=NNN lic=YNN aud=NNN pub=NNN per=NNN",
    "decision.preview": "cmo=NNY lic=NNN aud=YYY pub=NNN per=NNN",
    "decision.read": "cmo=NNY lic=YNN aud=YYY pub=NNN per=YNN",
    "rule.read": "cmo=YYY lic=YYY aud=YYY pub=YYY per=YYY",
    "rule.read-private": "cmo=YNN lic=YNN aud=YYY pub=NNN per=YNN",
    "rule.change": "cmo=YNY lic=NNN aud=NNN pub=NNN per=NNN",
    "rule.revoke": "cmo=YNN lic=NNN aud=NNN pub=NNN per=YNN",
    "rule.publish": "cmo=YNY lic=NNN aud=NNN pub=NNN per=NNN",
    "consent-request.make": "cmo=NNN lic=NNN aud=NNN pub=NNN per=YNN",
    "consent-request.read": "cmo=YNN lic=NNN aud=YYY pub=NNN per=YNN",
    "consent-request.decide": "cmo=YNN lic=NNN aud=NNN pub=NNN per=NNN",
    # transparency log
    "log.read": "cmo=YYY lic=YYY aud=YYY pub=YYY per=YYY",
    "log.verify": "cmo=YYY lic=YYY aud=YYY pub=YYY per=YYY",
    "log.declare": "cmo=YNN lic=YNN aud=NNN pub=NNN per=NNN",
    "log.cosign": "cmo=NNN lic=NNN aud=YYY pub=NNN per=NNN",
    "changes.read": "cmo=NNN lic=YNN aud=YYY pub=NNN per=NNN",
    "webhook.manage": "cmo=NNN lic=YNN aud=NNN pub=NNN per=NNN",
    "summary.read": "cmo=YYY lic=YYY aud=YYY pub=YYY per=YYY",
    "summary.annex.read": "cmo=NNY lic=YNN aud=YYY pub=NNN per=NNN",
    # labels
    "label.apply": "cmo=NNN lic=YNN aud=NNN pub=NNN per=NNN",
    "label.inspect": "cmo=YYY lic=YYY aud=YYY pub=YYY per=YYY",
    "watermark.resolve": "cmo=YYY lic=YYY aud=YYY pub=YYY per=YYY",
    "watermarks.list": "cmo=NNN lic=YNN aud=YYY pub=NNN per=NNN",
    # remuneration
    "tariff.read": "cmo=YYY lic=YYY aud=YYY pub=YYY per=YYY",
    "tariff.add": "cmo=YNN lic=NNN aud=NNN pub=NNN per=NNN",
    "distribution-rule.set": "cmo=YNN lic=NNN aud=NNN pub=NNN per=NNN",
    "revenue.report": "cmo=YNN lic=YNN aud=NNN pub=NNN per=NNN",
    "remuneration.run": "cmo=NNN lic=NNN aud=NNN pub=NNN per=NNN",
    "remuneration.run-from-log": "cmo=YYY lic=NNN aud=NNN pub=NNN per=NNN",
    "remuneration.run.read": "cmo=YNN lic=YNN aud=YYY pub=NNN per=NNN",
    "statement.read": "cmo=YNY lic=YNN aud=YYY pub=NNN per=YNN",
    "claim.settle": "cmo=YNN lic=NNN aud=NNN pub=NNN per=NNN",
    # voice
    "voiceprint.enrol": "cmo=NNY lic=NNN aud=NNN pub=NNN per=NNN",
    "voiceprint.read": "cmo=NNY lic=NNN aud=YYY pub=NNN per=NNN",
    "voiceprint.read-own": "cmo=NNN lic=NNN aud=NNN pub=NNN per=YNN",
    "performer.usage": "cmo=NNN lic=NNN aud=YYY pub=NNN per=YNN",
    "repertoire.usage": "cmo=YNY lic=NNN aud=YYY pub=NNN per=NNN",
    "voice.screen": "cmo=YYY lic=YNN aud=NNN pub=NNN per=NNN",
    "voice.screening.read": "cmo=NNY lic=YNN aud=YYY pub=NNN per=NNN",
    "voice.declare": "cmo=NNY lic=YNN aud=NNN pub=NNN per=NNN",
    # identification
    "identify.check-output": "cmo=YYY lic=YYY aud=YYY pub=NNN per=NNN",
    "identify.index.read": "cmo=YYY lic=YYY aud=YYY pub=NNN per=NNN",
    "identify.screen-corpus": "cmo=NNN lic=YNN aud=NNN pub=NNN per=NNN",
    "identify.screen.read": "cmo=NNN lic=YNN aud=YYY pub=NNN per=NNN",
    "catalogue.maintain": "cmo=YYY lic=NNN aud=NNN pub=NNN per=NNN",
    "catalogue.measure": "cmo=YYY lic=NNN aud=YYY pub=NNN per=NNN",
}

# The caller of each role, bound to tenant 1; "another" tenant is 2.
CALLERS: dict[str, Principal] = {
    "cmo": Principal("cmo-admin:1", "cmo-admin", cmo_id=1),
    "lic": Principal("licensee:1", "licensee", licensee_id=1),
    "aud": Principal("auditor", "auditor"),
    "pub": Principal("public token", "public"),
    "per": Principal("performer:1", "performer", performer_id=1),
}
# (cmo_id, licensee_id, represents) of an object: own tenant, another, another represented.
SITUATIONS = ((1, 1, False), (2, 2, False), (2, 2, True))


def _parse(row: str) -> dict[str, str]:
    return dict(cell.split("=") for cell in row.split())


def test_the_expected_table_names_every_role() -> None:
    # A new role (e.g. "performer") needs its own column here and in the HTTP matrix.
    assert set(ROLES) == {"cmo-admin", "licensee", "auditor", "public", "performer"}
    assert {role for rule in POLICY.values() for role in rule.grants} <= set(ROLES)


def test_every_action_has_an_expected_row() -> None:
    assert set(ACTIONS) == set(EXPECTED), (
        f"actions without a row: {sorted(set(ACTIONS) - set(EXPECTED))}; "
        f"rows without an action: {sorted(set(EXPECTED) - set(ACTIONS))}"
    )


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_action_against_the_expected_table(action: str) -> None:
    expected = _parse(EXPECTED[action])
    got = {}
    for key, principal in CALLERS.items():
        got[key] = "".join(
            "Y"
            if allowed(
                principal,
                action,
                cmo_id=cmo,
                licensee_id=lic,
                represents=represents,
                performer_id=cmo,
            )
            else "N"
            for cmo, lic, represents in SITUATIONS
        )
    assert got == expected
    # authorize agrees with allowed, and a refusal names the right that is missing.
    for key, principal in CALLERS.items():
        for (cmo, lic, represents), answer in zip(SITUATIONS, expected[key], strict=True):
            if answer == "Y":
                authorize(
                    principal,
                    action,
                    cmo_id=cmo,
                    licensee_id=lic,
                    represents=represents,
                    performer_id=cmo,
                )
                continue
            with pytest.raises(Forbidden, match=repr(action)) as refused:
                authorize(
                    principal,
                    action,
                    cmo_id=cmo,
                    licensee_id=lic,
                    represents=represents,
                    performer_id=cmo,
                )
            assert refused.value.details["action"] == action
    # The operator passes everything, with or without a tenant.
    assert allowed(OPERATOR, action)
    assert allowed(OPERATOR, action, cmo_id=2, licensee_id=2)


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_the_anonymous_caller_is_the_public(action: str) -> None:
    for cmo, lic, represents in SITUATIONS:
        assert allowed(PUBLIC, action, cmo_id=cmo, licensee_id=lic, represents=represents) == (
            allowed(CALLERS["pub"], action, cmo_id=cmo, licensee_id=lic, represents=represents)
        )


def test_a_tenant_not_named_is_not_owned() -> None:
    # A service that forgets to name the owner gets a refusal, never a pass.
    assert not allowed(CALLERS["lic"], "decision.read")
    assert not allowed(CALLERS["cmo"], "licence.grant")
    assert not allowed(CALLERS["cmo"], "voiceprint.enrol")
    # A licensee's own id in cmo_id does not make it the owner, nor a CMO's in licensee_id.
    assert not allowed(CALLERS["lic"], "watermarks.list", cmo_id=1)
    assert not allowed(CALLERS["cmo"], "agreement.add", licensee_id=1)
    # A principal bound to nothing owns nothing.
    unbound = Principal("odd", "cmo-admin")
    assert not allowed(unbound, "agreement.add", cmo_id=None)


def test_unknown_actions_are_programming_errors() -> None:
    with pytest.raises(ValueError, match="unknown action"):
        allowed(OPERATOR, "decision.reed")
    with pytest.raises(ValueError, match="unknown action"):
        roles_for("nope")


def test_refusals_say_what_is_missing() -> None:
    with pytest.raises(Forbidden, match="CMO 1 may not grant a licence from a CMO of CMO 2"):
        authorize(CALLERS["cmo"], "licence.grant", cmo_id=2)
    with pytest.raises(Forbidden, match="licensee 1 may not list a licensee's watermark ids"):
        authorize(CALLERS["lic"], "watermarks.list", licensee_id=2)
    with pytest.raises(Forbidden, match="held by: licensee, auditor"):
        authorize(CALLERS["cmo"], "watermarks.list", licensee_id=2)
    with pytest.raises(Forbidden, match="the local operator"):
        authorize(CALLERS["aud"], "remuneration.run")


def test_role_gates() -> None:
    assert roles_for("decision.request", "decision.preview") == {"licensee", "cmo-admin", "auditor"}
    authorize_role(CALLERS["cmo"], "licence.grant")
    authorize_role(OPERATOR, "remuneration.run")
    with pytest.raises(Forbidden, match="held by: cmo-admin"):
        authorize_role(CALLERS["pub"], "licence.grant", "rule.revoke")
    with pytest.raises(Forbidden, match="may not act here"):
        authorize_role(CALLERS["aud"], "label.apply", does="act here")
