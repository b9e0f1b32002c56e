"""Kafka windows at the edges of time: before 1970, at year 9999, with any lateness. Each is either a
usage error (exit 2) or a lookup Kafka's client accepts; none crashes once the broker is reached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.backfill import BackfillJob, day_window, epoch_ms, kafka_rule, parse_instant

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
instants = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(
    lambda t: t.replace(tzinfo=UTC)
)


@given(
    start=instants,
    span=st.timedeltas(timedelta(microseconds=1), timedelta(days=4_000_000)),
    late=st.timedeltas(timedelta(0), timedelta(days=4_000_000)),
)
def test_a_window_anywhere_in_time_gives_a_lookup_kafka_accepts(start, span, late):
    """Kafka's client refuses a negative time (-1 and -2 are "latest" and "earliest" in its protocol): a
    window from before 1970 crashed the backfill after it reached the broker, and so did ``--to`` plus
    ``--lateness`` past year 9999 (OverflowError)."""
    stop = start + min(span, datetime.max.replace(tzinfo=UTC) - start)
    rule = kafka_rule(BackfillJob(outputs=["out"], start=start, stop=stop, lateness=late))
    assert 0 <= rule.start_ms <= rule.stop_ms
    if start >= EPOCH:
        assert rule.start_ms == epoch_ms(start)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01T00:00+01:00"])
def test_a_day_outside_the_years_of_utc_is_a_usage_error(day):
    """``--day 9999-12-31`` ended with an OverflowError (exit 1, "a bug?") instead of a usage error."""
    with pytest.raises(ValueError, match="not a day of years 1-9999"):
        day_window(day, datetime(2026, 12, 3, tzinfo=UTC))


def test_the_last_day_before_the_edge_is_still_a_window():
    assert day_window("9999-12-30", datetime(2026, 12, 3, tzinfo=UTC)) == (
        parse_instant("9999-12-30"),
        parse_instant("9999-12-31"),
    )
