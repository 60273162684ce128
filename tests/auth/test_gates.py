"""The route gates of ``api/deps.py``: each lets through exactly the roles its name says."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from sostenuto.api import deps
from sostenuto.auth import OPERATOR, ROLES, Principal
from sostenuto.errors import Forbidden

GATES = {
    "CmoAdmin": {"cmo-admin"},
    "LicenseeOnly": {"licensee"},
    "LicenseeOrCmoAdmin": {"licensee", "cmo-admin"},
    "LicenseeOrAuditor": {"licensee", "auditor"},
    "CmoAdminOrAuditor": {"cmo-admin", "auditor"},
    "TenantOrAuditor": {"licensee", "cmo-admin", "auditor"},
    "AuditorOnly": {"auditor"},
}


def _passes(alias: Any, principal: Principal) -> bool:
    gate = get_args(alias)[1].dependency
    try:
        assert gate(principal) is principal
    except Forbidden:
        return False
    return True


@pytest.mark.parametrize("name", sorted(GATES))
def test_gate_lets_through_the_roles_it_names(name: str) -> None:
    alias = getattr(deps, name)
    through = {
        role
        for role in ROLES
        if _passes(alias, Principal(f"a {role}", role, cmo_id=1, licensee_id=1))
    }
    assert through == GATES[name]
    assert _passes(alias, OPERATOR)


def test_no_gate_lets_the_public_write() -> None:
    public = Principal("public token", "public")
    assert not any(_passes(getattr(deps, name), public) for name in GATES)
