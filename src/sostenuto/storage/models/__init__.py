"""Every table, imported so that they register on ``Base.metadata``.

Each capability adds one import line for its own module here.
"""

from sostenuto.storage.models import (
    api,
    audit,
    auth,
    consent,
    declarations,
    identify,
    label,
    registry,
    remuneration,
    transparency,
    voice,
)

__all__ = [
    "api",
    "audit",
    "auth",
    "consent",
    "declarations",
    "identify",
    "label",
    "registry",
    "remuneration",
    "transparency",
    "voice",
]
