"""A small cron schedule parser: how often does a CronJob (or a Velero Schedule) fire?

It follows the dialect both Kubernetes and Velero use (robfig/cron's standard parser): five
fields (minute, hour, day of month, month, day of week), `*`, `?`, ranges, steps, lists, month
and weekday names, the `@hourly`-style descriptors, `@every <duration>`, and a leading
`TZ=`/`CRON_TZ=` zone. When day of month and day of week are both restricted, a day matches
if either does (classic cron); `*`, `?` and `*/1` count as unrestricted.

The questions the checks ask are "what is the shortest gap between two runs?" (the Zalando
CronJob that spawned pods until the API server fell over fired every 15 minutes in office hours,
and a job that fires every minute can pile up hundreds of pods before anyone looks) and "when
should the next run after this one have happened?" (a weekday backup legitimately skips the
weekend, so a Friday backup is not stale on Monday morning).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY = 24 * 60


class CronError(ValueError):
    """A schedule that Kubernetes/Velero would reject, or that never fires."""


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]
    lenient_high: int | None = None  # a larger value accepted too (7: Sunday in many crons)


_MONTH_NAMES = {
    name: i
    for i, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}
_DAY_NAMES = {name: i for i, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}

_FIELDS = (
    _Field("minute", 0, 59, {}),
    _Field("hour", 0, 23, {}),
    _Field("day of month", 1, 31, {}),
    _Field("month", 1, 12, _MONTH_NAMES),
    _Field("day of week", 0, 6, _DAY_NAMES, lenient_high=7),
)
# What the API server accepts in a new CronJob (robfig/cron's standard parser): no 7 for Sunday.
_STRICT_FIELDS = tuple(replace(spec, lenient_high=None) for spec in _FIELDS)

_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", re.ASCII)  # Go: ASCII digits
_GO_MAX_DURATION_S = (2**63 - 1) / 1e9  # an int64 of nanoseconds
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}

# Firing days are enumerated over a fixed eight-year window (two leap days), so the answer never
# depends on today's date and a "29 February" schedule still has two runs to measure.
_WINDOW_START = date(2024, 1, 1)
_WINDOW_DAYS = (date(2032, 1, 1) - _WINDOW_START).days


@dataclass(frozen=True, slots=True)
class CronSchedule:
    """A parsed schedule: the sets of values each field allows (or a fixed `@every` interval)."""

    expression: str
    minutes: frozenset[int] = frozenset()
    hours: frozenset[int] = frozenset()
    days_of_month: frozenset[int] = frozenset()
    months: frozenset[int] = frozenset()
    days_of_week: frozenset[int] = frozenset()
    dom_restricted: bool = False
    dow_restricted: bool = False
    every: timedelta | None = None  # set for "@every 5m"
    time_zone: str | None = None  # from a leading TZ=/CRON_TZ=

    def fires_on(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        dom = day.day in self.days_of_month
        dow = (day.isoweekday() % 7) in self.days_of_week  # cron: Sunday is 0
        if self.dom_restricted and self.dow_restricted:
            return dom or dow
        return dom and dow

    def min_interval(self) -> timedelta:
        """The shortest time between two consecutive runs."""
        if self.every is not None:
            return self.every
        return _min_interval(self)

    def next_run(self, after: datetime, zone: tzinfo) -> datetime:
        """The first run strictly after `after` (an aware datetime), in UTC; `zone` is the wall
        clock the schedule is read in."""
        if self.every is not None:
            return (after + self.every).astimezone(UTC)
        start = after.astimezone(zone).date()
        times = sorted(time(h, m) for h in self.hours for m in self.minutes)
        for offset in range(_WINDOW_DAYS + 1):
            day = start + timedelta(days=offset)
            if not self.fires_on(day):
                continue
            for at in times:
                # A time a DST change skips or repeats takes its first reading: an hour off at most.
                run = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
                if run > after:
                    return run
        raise CronError(f"{self.expression!r} never fires (no such date)")


def parse_cron(expression: str, *, strict: bool = False) -> CronSchedule:
    """Parse a CronJob/Velero schedule; `CronError` says what is wrong with it.

    `strict` accepts only what the API server accepts in a new CronJob: day of week 0-6, and no
    `TZ=` prefix (it takes `spec.timeZone` instead). Schedules read from a cluster are parsed
    leniently, as they may predate those rules or come from Velero."""
    if not isinstance(expression, str) or not expression.strip():
        raise CronError("empty schedule")
    text = expression.strip()
    time_zone = None
    if text.startswith(("TZ=", "CRON_TZ=")):
        if strict:
            raise CronError(
                f"{expression!r}: the API server refuses a TZ= or CRON_TZ= prefix in a new CronJob"
            )
        prefix, _, text = text.partition(" ")
        time_zone = prefix.partition("=")[2]
        text = text.strip()
        if not text:
            raise CronError(f"{expression!r} names a time zone but no schedule")
    if text.startswith("@"):
        return replace(_parse_descriptor(expression, text), time_zone=time_zone)
    fields = text.split()
    if len(fields) != len(_FIELDS):
        raise CronError(f"{expression!r} has {len(fields)} fields, expected 5")
    specs = _STRICT_FIELDS if strict else _FIELDS
    parsed = [_parse_field(raw, spec) for raw, spec in zip(fields, specs, strict=True)]
    (minutes, _), (hours, _), (dom, dom_star), (months, _), (dow, dow_star) = parsed
    return CronSchedule(
        expression=expression,
        minutes=minutes,
        hours=hours,
        days_of_month=dom,
        months=months,
        days_of_week=dow,
        dom_restricted=not dom_star,
        dow_restricted=not dow_star,
        time_zone=time_zone,
    )


def min_interval(expression: str) -> timedelta:
    """Shortest gap between runs of `expression` (cached: many CronJobs share a schedule)."""
    return _cached_interval(expression)


def describe_interval(interval: timedelta) -> str:
    """`timedelta(minutes=15)` -> "15m"; `timedelta(days=1)` -> "1d"."""
    seconds = int(interval.total_seconds())
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    if seconds >= 3600:
        hours, minutes = divmod(seconds // 60, 60)
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    if seconds >= 60:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    return f"{seconds}s"


def next_run(expression: str, after: datetime, time_zone: str | None = None) -> datetime | None:
    """When `expression` fires next after `after` (aware), in UTC; None when its zone is unknown here.

    The wall clock is the schedule's own `TZ=` prefix, else `time_zone` (a CronJob's
    `spec.timeZone`), else UTC: the local time of the kube-controller-manager and Velero
    containers, which read schedules without a zone. A zone this machine's tz database lacks
    gives None rather than a guess."""
    schedule = parse_cron(expression)
    name = schedule.time_zone or time_zone
    try:
        zone = ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return schedule.next_run(after, zone)


@lru_cache(maxsize=4096)
def _cached_interval(expression: str) -> timedelta:
    return parse_cron(expression).min_interval()


def _parse_descriptor(expression: str, text: str) -> CronSchedule:
    word, _, rest = text.partition(" ")
    word = word.lower()
    if word == "@every":
        every = parse_go_duration(rest.strip())
        if every <= timedelta(0):
            raise CronError(f"{expression!r}: @every needs a positive duration")
        return CronSchedule(expression=expression, every=every)
    if word not in _DESCRIPTORS or rest.strip():
        raise CronError(f"{expression!r}: unknown descriptor {word!r}")
    inner = parse_cron(_DESCRIPTORS[word])
    return CronSchedule(
        expression=expression,
        minutes=inner.minutes,
        hours=inner.hours,
        days_of_month=inner.days_of_month,
        months=inner.months,
        days_of_week=inner.days_of_week,
        dom_restricted=inner.dom_restricted,
        dow_restricted=inner.dow_restricted,
    )


def parse_go_duration(text: str) -> timedelta:
    """A Go duration string ("1h30m", "90s", "2.5h") as used by `@every`."""
    if not text:
        raise CronError("@every needs a duration such as 1h30m")
    position, seconds = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if position != len(text):
        raise CronError(f"{text!r} is not a duration such as 1h30m")
    if seconds > _GO_MAX_DURATION_S:  # Go refuses it; a timedelta would overflow
        raise CronError(f"{text!r} is longer than a Go duration can be (about 292 years)")
    return timedelta(seconds=seconds)


def _parse_field(raw: str, spec: _Field) -> tuple[frozenset[int], bool]:
    """The values one field allows, and whether it is unrestricted (`*`, `?`, `*/1`)."""
    values: set[int] = set()
    star = False
    for part in raw.split(","):
        part_values, part_star = _parse_part(part, spec)
        values |= part_values
        star = star or part_star
    if spec.name == "day of week" and 7 in values:  # be lenient: 7 is Sunday in many crons
        values = (values - {7}) | {0}
    return frozenset(values), star


def _parse_part(part: str, spec: _Field) -> tuple[set[int], bool]:
    if not part:
        raise CronError(f"empty list item in the {spec.name} field")
    range_text, slash, step_text = part.partition("/")
    step = 1
    if slash:
        if not _is_number(step_text) or int(step_text) == 0:
            raise CronError(f"{part!r}: the step in the {spec.name} field must be a positive number")
        step = int(step_text)
    star = False
    if range_text in ("*", "?"):
        low, high = spec.low, spec.high
        star = step == 1
    elif "-" in range_text:
        first, _, last = range_text.partition("-")
        low, high = _value(first, spec), _value(last, spec)
        if low > high:
            raise CronError(f"{part!r}: the range in the {spec.name} field runs backwards")
    else:
        low = _value(range_text, spec)
        high = spec.high if slash else low  # "5/15" means "5-max/15"
    return set(range(low, high + 1, step)), star


def _value(text: str, spec: _Field) -> int:
    lowered = text.lower()
    if lowered in spec.names:
        return spec.names[lowered]
    if not _is_number(text):
        raise CronError(f"{text!r} is not a valid {spec.name}")
    value = int(text)
    if not spec.low <= value <= (spec.lenient_high or spec.high):
        raise CronError(f"{value} is out of range for the {spec.name} field ({spec.low}-{spec.high})")
    return value


def _is_number(text: str) -> bool:
    """ASCII digits only, as in Go's parser: `str.isdigit` also takes "²" (which int() refuses)
    and "٥" (which int() reads as 5)."""
    return text.isascii() and text.isdigit()


def _min_interval(schedule: CronSchedule) -> timedelta:
    times = sorted(h * 60 + m for h in schedule.hours for m in schedule.minutes)
    gaps = [b - a for a, b in pairwise(times)]
    days = _firing_days(schedule)
    if not days:
        raise CronError(f"{schedule.expression!r} never fires (no such date)")
    # From the last run of one firing day to the first run of the next one.
    gaps.extend(
        (later - earlier) * MINUTES_PER_DAY + times[0] - times[-1] for earlier, later in pairwise(days)
    )
    if not gaps:  # one run in eight years: at least that long
        return timedelta(days=_WINDOW_DAYS)
    return timedelta(minutes=min(gaps))


def _firing_days(schedule: CronSchedule) -> list[int]:
    """Day numbers (from the window start) on which the schedule fires."""
    if not schedule.dom_restricted and not schedule.dow_restricted and len(schedule.months) == 12:
        return list(range(_WINDOW_DAYS))  # every day: skip the calendar walk
    return [
        offset for offset in range(_WINDOW_DAYS) if schedule.fires_on(_WINDOW_START + timedelta(days=offset))
    ]
