"""Consent: rules, the decision engine, stored decisions and public exports.

"May this licensee use this recording for this use, here, then?" is answered by
:func:`decide` (one recording), :func:`decide_batch` (up to 10^6 recordings) and
:func:`decide_performer` (a person's consent, for voice uses). Every answer names the rules
and licences behind it, the conditions that apply and a decision id, and is stored. The
semantics are written down in docs/consent.md.
"""

from sostenuto.consent._cedar import (
    CedarBatch,
    CedarPolicySet,
    cedar_policies,
    disagreements,
    evaluate_with_cedar,
)
from sostenuto.consent._decide import (
    decide,
    decide_batch,
    decide_performer,
    get_decision,
    get_decisions,
)
from sostenuto.consent._exports import FORMATS, export_reservations
from sostenuto.consent._jurisdictions import (
    JurisdictionView,
    list_jurisdictions,
    load_jurisdictions,
    set_jurisdiction,
)
from sostenuto.consent._listing import DecisionListing, list_decisions
from sostenuto.consent._rules import (
    check_may_speak_for,
    get_rule,
    list_rules,
    opt_out,
    permit,
    prohibit,
    representing_cmos,
    revoke_rule,
)
from sostenuto.consent._snapshot import Snapshot, current_snapshot, forget_snapshots
from sostenuto.consent._types import (
    CONDITIONS,
    SCOPES,
    Basis,
    BatchResult,
    DecisionResult,
    RuleView,
)

__all__ = [
    "CONDITIONS",
    "FORMATS",
    "SCOPES",
    "Basis",
    "BatchResult",
    "CedarBatch",
    "CedarPolicySet",
    "DecisionListing",
    "DecisionResult",
    "JurisdictionView",
    "RuleView",
    "Snapshot",
    "cedar_policies",
    "check_may_speak_for",
    "current_snapshot",
    "decide",
    "decide_batch",
    "decide_performer",
    "disagreements",
    "evaluate_with_cedar",
    "export_reservations",
    "forget_snapshots",
    "get_decision",
    "get_decisions",
    "get_rule",
    "list_decisions",
    "list_jurisdictions",
    "list_rules",
    "load_jurisdictions",
    "opt_out",
    "permit",
    "prohibit",
    "representing_cmos",
    "revoke_rule",
    "set_jurisdiction",
]
