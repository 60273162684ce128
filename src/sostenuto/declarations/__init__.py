"""Declarations: what goes into the transparency log on consent's word.

One level above :mod:`sostenuto.consent` and :mod:`sostenuto.transparency`, which never
import each other: :func:`declare` / :func:`declare_batch` check every consent decision a
dataset manifest cites with the consent service (it fits the file, the licensee and the
manifest's model, permitted, and still holds today) before appending with the log;
:func:`publish_rule_change` / :func:`publish_rule` declare CMOs' rule changes as
``consent-change`` entries; :func:`training_summary` fills the summary's annex with the uses
of the cited decisions. The front ends call these; ``sostenuto.transparency.declare`` stays
for entries that cite no decision.

The revocation feed (:func:`changes_since`) tells a licensee which files of its declared
manifests a consent change has since put out of use, and from when; webhook subscriptions
(:func:`add_subscription`) receive the same, signed, as each change is appended.
"""

from sostenuto.declarations._changes import Feed, changes_since
from sostenuto.declarations._declare import declare, declare_batch, training_summary
from sostenuto.declarations._deliveries import (
    DeliveryPolicy,
    delivery_policy,
    notify_changes,
    resume_deliveries,
    set_delivery_policy,
    wait_for_deliveries,
)
from sostenuto.declarations._recent import recent_narrowing_changes
from sostenuto.declarations._repertoire_usage import uses_of_member, uses_of_recording
from sostenuto.declarations._rules import (
    change_kind,
    consent_change_payload,
    publish_rule,
    publish_rule_change,
    rule_with_entry,
)
from sostenuto.declarations._secrets import (
    SecretBox,
    box_from_settings,
    secret_box,
    use_secret_box,
)
from sostenuto.declarations._signing import signature, signed_headers
from sostenuto.declarations._usage import SCANNED, Use, uses_of_performer
from sostenuto.declarations._webhooks import (
    Subscription,
    add_subscription,
    delete_subscription,
    list_deliveries,
    list_subscriptions,
)

__all__ = [
    "SCANNED",
    "DeliveryPolicy",
    "Feed",
    "SecretBox",
    "Subscription",
    "Use",
    "add_subscription",
    "box_from_settings",
    "change_kind",
    "changes_since",
    "consent_change_payload",
    "declare",
    "declare_batch",
    "delete_subscription",
    "delivery_policy",
    "list_deliveries",
    "list_subscriptions",
    "notify_changes",
    "publish_rule",
    "publish_rule_change",
    "recent_narrowing_changes",
    "resume_deliveries",
    "rule_with_entry",
    "secret_box",
    "set_delivery_policy",
    "signature",
    "signed_headers",
    "training_summary",
    "use_secret_box",
    "uses_of_member",
    "uses_of_performer",
    "uses_of_recording",
    "wait_for_deliveries",
]
