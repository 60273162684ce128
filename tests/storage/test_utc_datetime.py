"""Moments read back with their zone on both databases, so the API writes RFC 3339 times
with an offset whatever the store (SQLite keeps none of its own)."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sostenuto.auth import issue_token, list_tokens, revoke_token
from sostenuto.storage import Database
from sostenuto.storage.models.auth import ApiToken

ZONES = st.sampled_from(
    [dt.UTC, dt.timezone(dt.timedelta(hours=2)), dt.timezone(-dt.timedelta(hours=5))]
)
MOMENTS = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=ZONES
)


def test_a_server_default_moment_reads_back_in_utc(database: Database) -> None:
    with database.transaction() as session:
        issue_token(session, role="auditor", label="zone")
    with database.reader() as session:
        (token,) = list_tokens(session)
    created = dt.datetime.fromisoformat(str(token["created_at"]))
    assert created.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - created) < dt.timedelta(minutes=5)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moment=MOMENTS)
def test_any_moment_reads_back_as_the_same_instant_in_utc(
    database: Database, moment: dt.datetime
) -> None:
    with database.transaction() as session:
        token = issue_token(session, role="auditor", label="moment")
        token_id = session.query(ApiToken.id).order_by(ApiToken.id.desc()).limit(1).scalar()
        assert token and token_id is not None
        revoke_token(session, token_id)
        session.get(ApiToken, token_id).revoked_at = moment  # type: ignore[union-attr]
    with database.reader() as session:
        read = session.get(ApiToken, token_id)
        assert read is not None and read.revoked_at is not None
        assert read.revoked_at == moment and read.revoked_at.utcoffset() == dt.timedelta(0)
