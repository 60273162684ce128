"""Every table, imported so that they register on ``Base.metadata``.

Each capability adds one import line for its own module here.
"""

from sostenuto.storage.models import (
    audit,
    auth,
    consent,
    identify,
    label,
    registry,
    remuneration,
    transparency,
    voice,
)

__all__ = [
    "audit",
    "auth",
    "consent",
    "identify",
    "label",
    "registry",
    "remuneration",
    "transparency",
    "voice",
]
