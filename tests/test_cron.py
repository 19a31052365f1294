"""The cron schedule parser: intervals, the dialect Kubernetes and Velero accept, clear errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.cron import CronError, describe_interval, min_interval, next_run, parse_cron, parse_go_duration


@pytest.mark.parametrize(
    ("expression", "interval"),
    [
        ("*/1 * * * *", timedelta(minutes=1)),
        ("* * * * *", timedelta(minutes=1)),
        ("*/15 9-19 * * Mon-Fri", timedelta(minutes=15)),  # Zalando's CronJob
        ("7 8-18 * * Mon-Fri", timedelta(hours=1)),  # and its fix
        ("5/15 * * * *", timedelta(minutes=15)),  # "5-59/15"
        ("0,30 * * * *", timedelta(minutes=30)),
        ("0 */6 * * *", timedelta(hours=6)),
        ("0 3 * * *", timedelta(days=1)),
        ("0 0 * * 0", timedelta(days=7)),
        ("0 0 * * 7", timedelta(days=7)),  # 7 is Sunday too
        ("0 0 1 * *", timedelta(days=28)),  # February to March
        ("0 0 1 1 *", timedelta(days=365)),
        ("0 0 29 2 *", timedelta(days=1461)),  # leap days only
        ("59 23 * * *", timedelta(days=1)),
        ("0,59 23,0 * * *", timedelta(minutes=1)),  # 23:59 -> 00:00 across midnight
        ("0 12 * * Fri", timedelta(days=7)),
        ("0 12 1 * Mon", timedelta(days=1)),  # day of month OR day of week (both restricted)
        ("0 12 * jan-mar *", timedelta(days=1)),
        ("TZ=Europe/Berlin 0 2 * * *", timedelta(days=1)),
        ("CRON_TZ=UTC */10 * * * *", timedelta(minutes=10)),
        ("@hourly", timedelta(hours=1)),
        ("@daily", timedelta(days=1)),
        ("@midnight", timedelta(days=1)),
        ("@weekly", timedelta(days=7)),
        ("@monthly", timedelta(days=28)),
        ("@yearly", timedelta(days=365)),
        ("@every 90s", timedelta(seconds=90)),
        ("@every 1h30m", timedelta(minutes=90)),
        ("0 9 ? * MON", timedelta(days=7)),
    ],
)
def test_min_interval(expression: str, interval: timedelta) -> None:
    assert min_interval(expression) == interval


def test_weekday_and_month_day_semantics() -> None:
    both = parse_cron("0 12 13 * Fri")  # the 13th OR any Friday
    assert both.dom_restricted and both.dow_restricted
    assert both.fires_on(datetime(2026, 11, 13).date())  # a Friday the 13th
    assert both.fires_on(datetime(2026, 11, 6).date())  # a Friday
    assert both.fires_on(datetime(2026, 10, 13).date())  # a Tuesday the 13th
    assert not both.fires_on(datetime(2026, 11, 10).date())
    only_dow = parse_cron("0 12 */1 * Fri")  # */1 counts as unrestricted: Fridays only
    assert not only_dow.fires_on(datetime(2026, 10, 13).date())


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", "empty schedule"),
        ("* * * *", "has 4 fields, expected 5"),
        ("* * * * * *", "has 6 fields"),
        ("61 * * * *", "61 is out of range for the minute field"),
        ("* 24 * * *", "out of range for the hour field"),
        ("* * 0 * *", "out of range for the day of month field"),
        ("* * * 13 *", "out of range for the month field"),
        ("* * * * 8", "out of range for the day of week field"),
        ("*/0 * * * *", "step in the minute field must be a positive number"),
        ("5-1 * * * *", "runs backwards"),
        ("1,,2 * * * *", "empty list item"),
        ("L * * * *", "'L' is not a valid minute"),
        ("0 0 30 2 *", "never fires"),
        ("@fortnightly", "unknown descriptor"),
        ("@every", "needs a duration"),
        ("@every 5 minutes", "not a duration"),
        ("@every 0s", "positive duration"),
        ("TZ=UTC", "names a time zone but no schedule"),
    ],
)
def test_invalid_schedules_say_why(expression: str, message: str) -> None:
    with pytest.raises(CronError, match=message):
        parse_cron(expression).min_interval()


@pytest.mark.parametrize(
    ("interval", "text"),
    [
        (timedelta(seconds=30), "30s"),
        (timedelta(minutes=1), "1m"),
        (timedelta(seconds=90), "1m30s"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(hours=6), "6h"),
        (timedelta(days=1), "1d"),
        (timedelta(days=7), "7d"),
        (timedelta(hours=36), "36h"),
    ],
)
def test_describe_interval(interval: timedelta, text: str) -> None:
    assert describe_interval(interval) == text


FRIDAY_0205 = datetime(2026, 11, 20, 2, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "time_zone", "expected"),
    [
        ("0 2 * * 1-5", None, datetime(2026, 11, 23, 2, 0, tzinfo=UTC)),  # over the weekend
        ("0 2 * * *", None, datetime(2026, 11, 21, 2, 0, tzinfo=UTC)),
        ("*/15 * * * *", None, datetime(2026, 11, 20, 2, 15, tzinfo=UTC)),
        ("0 2 * * 1-5", "America/Los_Angeles", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),  # spec.timeZone
        ("TZ=Asia/Tokyo 0 2 * * 1-5", None, datetime(2026, 11, 22, 17, 0, tzinfo=UTC)),  # Monday in Tokyo
        ("CRON_TZ=Europe/Berlin @daily", "Asia/Tokyo", datetime(2026, 11, 20, 23, 0, tzinfo=UTC)),
        ("@every 90m", None, datetime(2026, 11, 20, 3, 35, tzinfo=UTC)),
        ("0 0 29 2 *", None, datetime(2028, 2, 29, 0, 0, tzinfo=UTC)),
        ("0 2 * * *", "No/Such_Zone", None),  # not a guess
    ],
)
def test_next_run(expression: str, time_zone: str | None, expected: datetime | None) -> None:
    assert next_run(expression, FRIDAY_0205, time_zone) == expected


def test_go_durations() -> None:
    assert parse_go_duration("2.5h") == timedelta(minutes=150)
    assert parse_go_duration("1h0m30s") == timedelta(hours=1, seconds=30)
    assert parse_go_duration("500ms") == timedelta(milliseconds=500)


# -- the fast interval computation agrees with a minute-by-minute simulation -----------------------


def _field(low: int, high: int) -> st.SearchStrategy[str]:
    value = st.integers(low, high)
    single = value.map(str)
    span = st.tuples(value, value).map(lambda ab: f"{min(ab)}-{max(ab)}")
    step = st.tuples(st.sampled_from(["*", f"{low}-{high}"]), st.integers(1, 12)).map(
        lambda p: f"{p[0]}/{p[1]}"
    )
    item = st.one_of(st.just("*"), single, span, step)
    return st.lists(item, min_size=1, max_size=3).map(",".join)


SCHEDULES = st.tuples(_field(0, 59), _field(0, 23), _field(1, 28), st.just("*"), _field(0, 6)).map(" ".join)


def _simulated_min_gap(expression: str, days: int) -> timedelta | None:
    """Walk every minute of `days` days from 1 January 2024 and measure the gaps between runs."""
    schedule = parse_cron(expression)
    start = datetime(2024, 1, 1)
    previous, best = None, None
    for day in range(days):
        fires_today = schedule.fires_on((start + timedelta(days=day)).date())
        for minute_of_day in range(24 * 60):
            hour, minute = divmod(minute_of_day, 60)
            if fires_today and hour in schedule.hours and minute in schedule.minutes:
                now = day * 24 * 60 + minute_of_day
                if previous is not None:
                    best = now - previous if best is None else min(best, now - previous)
                previous = now
    return None if best is None else timedelta(minutes=best)


@settings(max_examples=25, deadline=None)
@given(SCHEDULES)
def test_interval_matches_simulation(expression: str) -> None:
    # 35 days from 1 January: every generated day of month (1-28) and weekday occurs.
    simulated = _simulated_min_gap(expression, days=35)
    computed = min_interval(expression)
    if simulated is None:  # a single run in five weeks: one time on one day of the month
        assert computed >= timedelta(days=1)
        return
    assert computed <= simulated, expression  # the eight-year window sees at least as much
    if not parse_cron(expression).dom_restricted:  # then the pattern repeats weekly: exact
        assert computed == simulated, expression


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 0 * * 7", r"7 is out of range for the day of week field \(0-6\)"),
        ("0 0 * * 5-7", "7 is out of range for the day of week field"),
        ("TZ=Europe/Berlin 0 2 * * *", "refuses a TZ= or CRON_TZ= prefix"),
        ("CRON_TZ=UTC @daily", "refuses a TZ= or CRON_TZ= prefix"),
    ],
)
def test_strict_parsing_refuses_what_the_api_server_refuses(expression: str, message: str) -> None:
    parse_cron(expression)  # read leniently from a cluster (Velero, older API servers)
    with pytest.raises(CronError, match=message):
        parse_cron(expression, strict=True)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("² * * * *", "'²' is not a valid minute"),  # str.isdigit() says yes, int() says no
        ("٥ * * * *", "'٥' is not a valid minute"),  # int() reads it as 5; Go does not
        ("*/² * * * *", "step in the minute field must be a positive number"),
        ("@every ٥m", "not a duration"),
        ("@every 99999999999999999h", "longer than a Go duration can be"),
    ],
)
def test_only_what_go_parses_is_a_number(expression: str, message: str) -> None:
    with pytest.raises(CronError, match=message):
        parse_cron(expression)
