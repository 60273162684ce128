"""The dashboard's counts of a CMO's members and recordings: exact up to a cap, then one more
(read as "more than"), its own CMO's only."""

from __future__ import annotations

import datetime as dt

import pytest

from sostenuto.auth import OPERATOR
from sostenuto.errors import Forbidden, InvalidInput
from sostenuto.registry import (
    add_mandate,
    add_performer,
    add_recording,
    count_members,
    count_recordings,
)
from tests.registry.conftest import START, Registry


def test_members_and_recordings_are_counted_up_to_the_cap(reg: Registry) -> None:
    with reg.database.transaction() as session:
        for number in range(4):
            performer = add_performer(session, OPERATOR, name=f"Member {number}", cmo_id=reg.aie)
            add_mandate(  # the operator records a history that began in the past
                session,
                OPERATOR,
                performer_id=performer.id,
                cmo_id=reg.aie,
                territories=["ES"],
                uses=["train-genai"],
                valid_from=START,
                # The last one's mandate ended: not a member today.
                valid_to=START + dt.timedelta(days=30) if number == 3 else None,
            )
            add_recording(
                session, reg.aie_admin, cmo_id=reg.aie, isrc=f"ESA7Q250000{number}", title="T"
            )
    today = dt.date.today()
    with reg.database.reader() as session:
        assert count_members(session, reg.aie_admin, reg.aie, today, up_to=10) == 3
        assert count_members(session, reg.aie_admin, reg.aie, START, up_to=10) == 4
        assert count_members(session, reg.aie_admin, reg.aie, today, up_to=2) == 3  # "2+"
        assert count_members(session, reg.auditor, reg.aie, today, up_to=10) == 3
        assert count_recordings(session, reg.aie_admin, reg.aie, up_to=10) == 4
        assert count_recordings(session, reg.aie_admin, reg.aie, up_to=1) == 2  # "1+"
        assert count_recordings(session, reg.sami_admin, reg.sami, up_to=10) == 0
        with pytest.raises(Forbidden):
            count_members(session, reg.sami_admin, reg.aie, today, up_to=10)
        with pytest.raises(Forbidden):
            count_recordings(session, reg.licensee_caller, reg.aie, up_to=10)
        with pytest.raises(InvalidInput, match="up_to"):
            count_recordings(session, reg.aie_admin, reg.aie, up_to=-1)
