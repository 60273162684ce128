"""The audit trail: every change to the registry and consent, who made it, before and after."""

from sostenuto.audit._trail import list_events, record_change, record_creation, snapshot

__all__ = ["list_events", "record_change", "record_creation", "snapshot"]
