"""Declarations: what goes into the transparency log on consent's word.

One level above :mod:`sostenuto.consent` and :mod:`sostenuto.transparency`, which never
import each other: :func:`declare` / :func:`declare_batch` check every consent decision a
dataset manifest cites with the consent service (it fits the file, the licensee and the
manifest's model, permitted, and still holds today) before appending with the log;
:func:`publish_rule_change` / :func:`publish_rule` declare CMOs' rule changes as
``consent-change`` entries; :func:`training_summary` fills the summary's annex with the uses
of the cited decisions. The front ends call these; ``sostenuto.transparency.declare`` stays
for entries that cite no decision.
"""

from sostenuto.declarations._declare import declare, declare_batch, training_summary
from sostenuto.declarations._rules import (
    change_kind,
    consent_change_payload,
    publish_rule,
    publish_rule_change,
    rule_with_entry,
)

__all__ = [
    "change_kind",
    "consent_change_payload",
    "declare",
    "declare_batch",
    "publish_rule",
    "publish_rule_change",
    "rule_with_entry",
    "training_summary",
]
