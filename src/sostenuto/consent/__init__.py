"""Consent: rules, the decision engine, stored decisions and public exports.

"May this licensee use this recording for this use, here, then?" is answered by
:func:`decide` (one recording), :func:`decide_batch` (up to 10^6 recordings) and
:func:`decide_performer` (a person's consent, for voice uses). Every answer names the rules
and licences behind it, the conditions that apply and a decision id, and is stored. The
semantics are written down in docs/consent.md.
"""

from sostenuto.consent._aipref import parse_content_usage, read_content_usage
from sostenuto.consent._aipref_import import import_content_usage
from sostenuto.consent._cedar import (
    CedarBatch,
    CedarPolicySet,
    cedar_policies,
    disagreements,
    evaluate_with_cedar,
)
from sostenuto.consent._counts import decision_counts
from sostenuto.consent._decide import (
    decide,
    decide_batch,
    decide_performer,
    get_decision,
    get_decisions,
)
from sostenuto.consent._exports import (
    FORMATS,
    cmo_robots_txt,
    export_reservations,
    recording_content_usage,
    tdm_policy_of,
    tdmrep_well_known,
)
from sostenuto.consent._jurisdictions import (
    JurisdictionView,
    list_jurisdictions,
    load_jurisdictions,
    set_jurisdiction,
)
from sostenuto.consent._listing import DecisionListing, list_decisions
from sostenuto.consent._lookups import (
    MAX_LOOKUP_LINES,
    IsrcLookup,
    LookupLine,
    get_isrc_lookup,
    look_up_isrcs,
    parse_isrc_csv,
)
from sostenuto.consent._odrl import PROFILE_PATH, profile_document
from sostenuto.consent._overview import ReservationOverview, Statement, reservation_overview
from sostenuto.consent._requests import (
    RequestView,
    apply_request,
    decline_request,
    get_request,
    list_requests,
    request_change,
)
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
    "MAX_LOOKUP_LINES",
    "PROFILE_PATH",
    "SCOPES",
    "Basis",
    "BatchResult",
    "CedarBatch",
    "CedarPolicySet",
    "DecisionListing",
    "DecisionResult",
    "IsrcLookup",
    "JurisdictionView",
    "LookupLine",
    "RequestView",
    "ReservationOverview",
    "RuleView",
    "Snapshot",
    "Statement",
    "apply_request",
    "cedar_policies",
    "check_may_speak_for",
    "cmo_robots_txt",
    "current_snapshot",
    "decide",
    "decide_batch",
    "decide_performer",
    "decision_counts",
    "decline_request",
    "disagreements",
    "evaluate_with_cedar",
    "export_reservations",
    "forget_snapshots",
    "get_decision",
    "get_decisions",
    "get_isrc_lookup",
    "get_request",
    "get_rule",
    "import_content_usage",
    "list_decisions",
    "list_jurisdictions",
    "list_requests",
    "list_rules",
    "load_jurisdictions",
    "look_up_isrcs",
    "opt_out",
    "parse_content_usage",
    "parse_isrc_csv",
    "permit",
    "profile_document",
    "prohibit",
    "read_content_usage",
    "recording_content_usage",
    "representing_cmos",
    "request_change",
    "reservation_overview",
    "revoke_rule",
    "set_jurisdiction",
    "tdm_policy_of",
    "tdmrep_well_known",
]
