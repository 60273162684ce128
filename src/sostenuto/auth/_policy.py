"""Who may do what: one table of named actions × roles, with the tenant each role may act on.

Every service asks here before it reads or writes anything that belongs to a tenant (a CMO
or a licensee)::

    authorize(principal, "decision.read", licensee_id=row.licensee_id, represents=ours)

A role holds an action with a *scope*:

``any``
    whatever tenant the object belongs to (auditors' reads, public reads);
``own``
    only its own tenant: a ``cmo-admin`` token the CMO ``cmo_id`` names, a ``licensee`` token
    the licensee ``licensee_id`` names, a ``performer`` token the performer ``performer_id``
    names (its own reservations, the decisions on its recordings);
``represented``
    (``cmo-admin`` only) the object is in the CMO's repertoire: it represents the performer
    or a contributor of the recording. That is a fact about the registry which the service
    computes and passes in as ``represents``; this module never reads the database;
``own-or-represented``
    either of the two.

A role missing from an action's row may not take it at all; an action with no role at all is
the local operator's alone. The operator (the CLI on the data directory) passes every check.
Nothing here distinguishes the anonymous caller from a ``public`` token: both hold the public
role, and the HTTP layer refuses anonymous callers (401) where a token is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from sostenuto.auth._principal import ROLES, Principal, Role
from sostenuto.errors import Forbidden

Scope = Literal["any", "own", "represented", "own-or-represented"]
ANY: Final = "any"
OWN: Final = "own"
REPRESENTED: Final = "represented"
OWN_OR_REPRESENTED: Final = "own-or-represented"


@dataclass(frozen=True)
class Rule:
    """One action: what it does (for messages) and the scope each role holds it with."""

    does: str
    grants: Mapping[Role, Scope]


def _rule(
    does: str,
    *,
    cmo_admin: Scope | None = None,
    licensee: Literal["any", "own"] | None = None,
    auditor: Literal["any"] | None = None,
    public: Literal["any"] | None = None,
    performer: Literal["any", "own"] | None = None,
) -> Rule:
    given: tuple[tuple[Role, Scope | None], ...] = (
        ("cmo-admin", cmo_admin),
        ("licensee", licensee),
        ("auditor", auditor),
        ("public", public),
        ("performer", performer),
    )
    return Rule(does, {role: scope for role, scope in given if scope is not None})


def _everyone(does: str) -> Rule:
    return _rule(does, cmo_admin=ANY, licensee=ANY, auditor=ANY, public=ANY, performer=ANY)


def _operator(does: str) -> Rule:
    return _rule(does)


# The table. Keep it in step with tests/auth/test_policy.py (the expected table, written out)
# and tests/api/test_authorization_matrix.py (every HTTP operation × caller).
POLICY: Final[Mapping[str, Rule]] = {
    # ---------------------------------------------------------------- registry
    "cmo.list": _everyone("list the CMOs"),
    "cmo.register": _operator("register a CMO"),
    "agreement.add": _rule("record a reciprocal agreement of a CMO", cmo_admin=OWN),
    "agreement.list": _rule("list a CMO's agreements", cmo_admin=OWN, auditor=ANY),
    "performer.add": _rule("register a performer under a CMO", cmo_admin=OWN),
    "performer.read": _rule(
        "see a performer and their mandates",
        cmo_admin=OWN_OR_REPRESENTED,
        performer=OWN,
        auditor=ANY,
    ),
    "mandate.add": _rule("record a mandate given to a CMO", cmo_admin=OWN),
    "mandate.list": _rule("list a CMO's mandates", cmo_admin=OWN, auditor=ANY),
    "mandate.end": _rule("end a mandate given to a CMO", cmo_admin=OWN),
    # A transfer to another CMO waits for the CMO that represents the performer today.
    "mandate.confirm": _rule("confirm a pending mandate", cmo_admin=REPRESENTED),
    "recording.add": _rule("add a recording to a CMO's catalogue", cmo_admin=OWN),
    "recording.read": _everyone("see a recording's ISRC, title and year"),
    "recording.read-full": _rule(
        "see a recording's contributors and hashes", cmo_admin=OWN, auditor=ANY
    ),
    "recording.change": _rule(
        "change a recording of a CMO's catalogue (contributors, audio)", cmo_admin=OWN
    ),
    "catalogue.import": _rule("import a catalogue into a CMO", cmo_admin=OWN),
    "licensee.add": _rule("register a licensee", cmo_admin=ANY),
    "licensee.list": _rule("list licensees", cmo_admin=ANY, licensee=OWN, auditor=ANY),
    "model.add": _rule("declare a licensee's AI model", licensee=OWN),
    # A CMO licenses a licensee's models, so it may see which models there are.
    "model.list": _rule("list a licensee's AI models", cmo_admin=ANY, licensee=OWN, auditor=ANY),
    "licence.grant": _rule("grant a licence from a CMO", cmo_admin=OWN),
    "licence.list": _rule(
        "see the licences of a CMO or a licensee", cmo_admin=OWN, licensee=OWN, auditor=ANY
    ),
    "licence.suspend": _rule("suspend a licence granted by a CMO", cmo_admin=OWN),
    "audit.read": _rule("read the audit trail", auditor=ANY),
    # ---------------------------------------------------------------- consent
    "jurisdiction.read": _everyone("read the jurisdiction rules"),
    "jurisdiction.set": _operator("set jurisdiction rules"),
    "export.read": _everyone("read a CMO's or a performer's published reservations"),
    "decision.request": _rule(
        "ask for a consent decision, stored in a licensee's name", licensee=OWN
    ),
    "decision.preview": _rule(
        "preview the consent decision a licensee would get (nothing is stored)",
        cmo_admin=REPRESENTED,
        auditor=ANY,
    ),
    # A performer reads the decisions on its recordings (it contributed) or on itself.
    "decision.read": _rule(
        "read a stored consent decision",
        cmo_admin=REPRESENTED,
        licensee=OWN,
        auditor=ANY,
        performer=OWN,
    ),
    "rule.read": _everyone("read the consent rules that hold for any licensee"),
    # A performer reads its own reservations (rules whose scope is that performer).
    "rule.read-private": _rule(
        "read a consent rule made for one licensee",
        cmo_admin=OWN,
        licensee=OWN,
        auditor=ANY,
        performer=OWN,
    ),
    "rule.change": _rule(
        "permit, prohibit or opt out for a CMO, performer or recording",
        cmo_admin=OWN_OR_REPRESENTED,
    ),
    # A performer revokes a rule whose scope is that performer, whoever recorded it.
    "rule.revoke": _rule("revoke a consent rule a CMO made", cmo_admin=OWN, performer=OWN),
    "rule.publish": _rule("declare a consent rule to the log", cmo_admin=OWN_OR_REPRESENTED),
    # A performer's consent goes through its CMO: it asks, the CMO's admin applies or declines.
    "consent-request.make": _rule("ask one's CMO to permit, refuse or lift a use", performer=OWN),
    "consent-request.read": _rule(
        "see performers' requests to a CMO", cmo_admin=OWN, performer=OWN, auditor=ANY
    ),
    "consent-request.decide": _rule("apply or decline a performer's request", cmo_admin=OWN),
    # ---------------------------------------------------------------- transparency log
    "log.read": _everyone("read the transparency log (key, checkpoints, entries, proofs)"),
    "log.verify": _everyone("verify a receipt or a consistency bundle"),
    "log.declare": _rule(
        "declare an entry to the log in a licensee's or a CMO's name",
        cmo_admin=OWN,
        licensee=OWN,
    ),
    "log.cosign": _rule("hand over a witness cosignature", auditor=ANY),
    # The revocation feed: which of a licensee's declared files consent changes put out of use.
    "changes.read": _rule("read a licensee's revocation feed", licensee=OWN, auditor=ANY),
    "webhook.manage": _rule(
        "make, list and delete a licensee's webhook subscriptions and see their deliveries",
        licensee=OWN,
    ),
    "summary.read": _everyone("read a model's public training-content summary"),
    "summary.annex.read": _rule(
        "read the per-performer annex of a training summary",
        cmo_admin=REPRESENTED,
        licensee=OWN,
        auditor=ANY,
    ),
    # ---------------------------------------------------------------- labels
    "label.apply": _rule("label a licensee's output", licensee=OWN),
    "label.inspect": _everyone("inspect a file's labels"),
    "watermark.resolve": _everyone("resolve a watermark id"),
    "watermarks.list": _rule("list a licensee's watermark ids", licensee=OWN, auditor=ANY),
    # ---------------------------------------------------------------- remuneration
    "tariff.read": _everyone("read the published tariffs"),
    "tariff.add": _rule("attach a tariff to a licence granted by a CMO", cmo_admin=OWN),
    "distribution-rule.set": _rule("set a CMO's distribution weights", cmo_admin=OWN),
    "revenue.report": _rule("report revenue under a licence", cmo_admin=OWN, licensee=OWN),
    "remuneration.run": _operator("run a distribution"),
    # A run is fixed by the log's usage and the stored tariffs (the same inputs change
    # nothing; other inputs are refused), so any CMO's admin may start one for a period that
    # has ended. A usage file and a correction (replace) stay the operator's.
    "remuneration.run-from-log": _rule(
        "run a distribution of an ended period from the transparency log's usage",
        cmo_admin=ANY,
    ),
    "remuneration.run.read": _rule(
        "read a distribution run's totals for a CMO or a licensee",
        cmo_admin=OWN,
        licensee=OWN,
        auditor=ANY,
    ),
    "statement.read": _rule(
        "read a remuneration statement",
        cmo_admin=OWN_OR_REPRESENTED,
        licensee=OWN,
        performer=OWN,
        auditor=ANY,
    ),
    "claim.settle": _rule("settle a claim held by a CMO", cmo_admin=OWN),
    # ---------------------------------------------------------------- voice
    "voiceprint.enrol": _rule("enrol a performer's voice", cmo_admin=REPRESENTED),
    "voiceprint.read": _rule("see a performer's voiceprints", cmo_admin=REPRESENTED, auditor=ANY),
    "voiceprint.read-own": _rule("see whether one's own voice is enrolled", performer=OWN),
    # Which recordings are a performer's is not public, so neither is where they were used.
    "performer.usage": _rule(
        "see where a performer's recordings and voice were declared used",
        performer=OWN,
        auditor=ANY,
    ),
    # The office's view of the same, for the recordings and members of its repertoire.
    "repertoire.usage": _rule(
        "see where a CMO's recordings and members were declared used",
        cmo_admin=OWN_OR_REPRESENTED,
        auditor=ANY,
    ),
    "voice.screen": _rule(
        "screen a file for enrolled voices (the report is stored)",
        cmo_admin=ANY,
        licensee=OWN,
    ),
    "voice.screening.read": _rule(
        "see a voice screening report", cmo_admin=REPRESENTED, licensee=OWN, auditor=ANY
    ),
    "voice.declare": _rule(
        "declare an unauthorised voice to the log", cmo_admin=REPRESENTED, licensee=OWN
    ),
    # ---------------------------------------------------------------- identification
    "identify.check-output": _rule(
        "screen a generated output against the catalogue (nothing is stored)",
        cmo_admin=ANY,
        licensee=ANY,
        auditor=ANY,
    ),
    "identify.index.read": _rule(
        "read the catalogue index's size and threshold", cmo_admin=ANY, licensee=ANY, auditor=ANY
    ),
    "identify.screen-corpus": _rule("screen a licensee's training corpus", licensee=OWN),
    "identify.screen.read": _rule(
        "see a licensee's corpus screening report", licensee=OWN, auditor=ANY
    ),
    "catalogue.maintain": _rule(
        "index reference audio, compact or calibrate the catalogue", cmo_admin=ANY
    ),
    "catalogue.measure": _rule(
        "measure the catalogue's threshold without saving it", cmo_admin=ANY, auditor=ANY
    ),
}
ACTIONS: Final[tuple[str, ...]] = tuple(POLICY)


def _rule_of(action: str) -> Rule:
    try:
        return POLICY[action]
    except KeyError:
        raise ValueError(f"unknown action {action!r}; see sostenuto.auth.POLICY") from None


def roles_for(*actions: str) -> frozenset[Role]:
    """The roles that hold at least one of ``actions`` (on something)."""
    return frozenset(role for action in actions for role in _rule_of(action).grants)


def allowed(
    principal: Principal,
    action: str,
    *,
    cmo_id: int | None = None,
    licensee_id: int | None = None,
    represents: bool | None = None,
    performer_id: int | None = None,
) -> bool:
    """Whether ``principal`` may take ``action`` on an object of ``cmo_id`` / ``licensee_id``.

    ``represents`` says (computed by the caller) whether the principal's CMO represents the
    object (the performer, the recording's contributors). A scope that needs a tenant the
    caller did not name is not met: forgetting to pass the owner denies, never allows.
    """
    rule = _rule_of(action)
    if principal.operator:
        return True
    scope = rule.grants.get(principal.role)
    if scope is None:
        return False
    if scope == ANY:
        return True
    if principal.role == "licensee":
        return licensee_id is not None and licensee_id == principal.licensee_id
    if principal.role == "performer":
        return performer_id is not None and performer_id == principal.performer_id
    own = cmo_id is not None and cmo_id == principal.cmo_id
    if scope == OWN:
        return own
    if scope == REPRESENTED:
        return represents is True
    return own or represents is True


def _target(cmo_id: int | None, licensee_id: int | None) -> str:
    if licensee_id is not None:
        return f" of licensee {licensee_id}"
    if cmo_id is not None:
        return f" of CMO {cmo_id}"
    return ""


def authorize(
    principal: Principal,
    action: str,
    *,
    cmo_id: int | None = None,
    licensee_id: int | None = None,
    represents: bool | None = None,
    performer_id: int | None = None,
) -> None:
    """Raise :class:`Forbidden`, naming the missing right, unless :func:`allowed`."""
    if allowed(
        principal,
        action,
        cmo_id=cmo_id,
        licensee_id=licensee_id,
        represents=represents,
        performer_id=performer_id,
    ):
        return
    rule = POLICY[action]
    scope = rule.grants.get(principal.role)
    details: dict[str, object] = {"action": action, "role": principal.role}
    if scope is None:
        holders: list[str] = [role for role in ROLES if role in rule.grants]
        holders = holders or ["the local operator"]
        message = (
            f"a {principal.role} token may not {rule.does} (right {action!r}, held by: "
            f"{', '.join(holders)})"
        )
        details["allowed"] = holders
    elif principal.role == "licensee":
        message = (
            f"licensee {principal.licensee_id} may not {rule.does}{_target(None, licensee_id)}: "
            f"right {action!r} covers its own data only"
        )
        details.update(token_licensee=principal.licensee_id, target_licensee=licensee_id)
    elif principal.role == "performer":
        target = f" of performer {performer_id}" if performer_id is not None else ""
        message = (
            f"performer {principal.performer_id} may not {rule.does}{target}: "
            f"right {action!r} covers what concerns that performer only"
        )
        details.update(token_performer=principal.performer_id, target_performer=performer_id)
    else:
        reach = {
            OWN: "its own CMO's",
            REPRESENTED: "the performers and recordings it represents",
            OWN_OR_REPRESENTED: "its own CMO's and what it represents",
        }[scope]
        message = (
            f"CMO {principal.cmo_id} may not {rule.does}{_target(cmo_id, None)}: "
            f"right {action!r} covers {reach} only"
        )
        details.update(token_cmo=principal.cmo_id, target_cmo=cmo_id)
    raise Forbidden(message, details=details)


def authorize_role(principal: Principal, *actions: str, does: str | None = None) -> None:
    """Refuse a caller whose role holds none of ``actions`` on anything: the check a route
    makes before it validates (and so reveals anything about) the request. ``does`` words
    the refusal (default: what the actions do)."""
    if principal.operator:
        return
    roles = roles_for(*actions)
    if principal.role in roles:
        return
    does = does or "; ".join(POLICY[action].does for action in actions)
    holders: list[str] = [role for role in ROLES if role in roles]
    holders = holders or ["the local operator"]
    raise Forbidden(
        f"a {principal.role} token may not {does} (held by: {', '.join(holders)})",
        details={"role": principal.role, "actions": list(actions), "allowed": holders},
    )
