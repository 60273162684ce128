"""The authenticated caller and the checks every service applies to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sostenuto.errors import Forbidden

Role = Literal["cmo-admin", "licensee", "auditor", "public", "performer"]
ROLES: tuple[Role, ...] = ("cmo-admin", "licensee", "auditor", "public", "performer")


@dataclass(frozen=True)
class Principal:
    """A caller: its role and the one CMO, licensee or performer that role is bound to."""

    name: str
    role: Role
    cmo_id: int | None = None
    licensee_id: int | None = None
    # The local operator (CLI on the data directory) passes every check, as a database
    # owner would; API tokens can never carry it.
    operator: bool = False
    # A ``performer`` principal speaks for this one performer (its own reservations,
    # decisions on its recordings); issued by a CMO that holds its mandate.
    performer_id: int | None = None

    def require(self, *roles: Role) -> None:
        """Raise :class:`Forbidden` unless the caller holds one of ``roles``."""
        if self.operator:
            return
        if self.role not in roles:
            raise Forbidden(
                f"role {self.role!r} may not do this; it needs one of: {', '.join(roles)}",
                details={"role": self.role, "allowed": list(roles)},
            )

    def require_operator(self, action: str) -> None:
        """Actions no API token may take: only the local operator (the CLI) does them."""
        if not self.operator:
            raise Forbidden(f"only the local operator may {action}", details={"role": self.role})

    def require_cmo(self, cmo_id: int) -> None:
        """Only the admin of ``cmo_id`` passes."""
        self.require("cmo-admin")
        if not self.operator and self.cmo_id != cmo_id:
            raise Forbidden(
                f"this token administers CMO {self.cmo_id}, not CMO {cmo_id}",
                details={"token_cmo": self.cmo_id, "target_cmo": cmo_id},
            )

    def require_licensee(self, licensee_id: int) -> None:
        """A licensee passes only for itself; auditors and CMO admins read any licensee.

        Coarse and kept for existing callers: a CMO admin passes for every licensee. New
        checks name an action of :data:`sostenuto.auth.POLICY` with :func:`authorize`.
        """
        if self.operator:
            return
        if self.role == "licensee" and self.licensee_id != licensee_id:
            raise Forbidden(
                "a licensee sees only its own data",
                details={"token_licensee": self.licensee_id, "target_licensee": licensee_id},
            )
        if self.role in ("public", "performer"):
            raise Forbidden(f"a {self.role} token cannot see licensee data")


PUBLIC = Principal(name="anonymous", role="public")
OPERATOR = Principal(name="operator", role="auditor", operator=True)
