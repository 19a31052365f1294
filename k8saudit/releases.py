"""The Kubernetes release calendar: minors, release and end-of-life dates, newest patches.

It ships with the package (`k8saudit/data/releases.json`) so audits work offline; the report says
how old it is, because "the newest patch" is only as true as the calendar. Each minor may carry
`latest_as_of`, the day its newest patch was last confirmed: a calendar assembled from several
sources knows some branches more recently than others, and the checks say so.

`refresh_calendar()` replaces the shipped data with a public machine-readable source
(endoflife.date by default) when the user asks for it (`--refresh-releases`). This is the only
network I/O outside the collector; checks never do any.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

import httpx
import orjson

from k8saudit import __version__
from k8saudit.errors import UsageError
from k8saudit.redact import without_userinfo

# A Kubernetes pre-release is `-alpha.N`, `-beta.N` or `-rc.N`, then `.N` for a build N commits
# past that tag (`v1.30.3-rc.0.12+0a1b2c3d`), then the end, `+` or `-dirty`.
# Distribution suffixes (`-eks-adc7111`, `-gke.1217000`, `+k3s1`, `+rke2r1`, `+vmware.1`,
# OpenShift's `+b49f9d1`) are not pre-releases, and neither is k3s's `-rc1+k3s1`: a k3s release
# candidate packages the upstream release itself.
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-((?:alpha|beta|rc)\.\d+(?:\.\d+)?)(?=$|[+-]))?")
_MINOR = re.compile(r"^(\d+)\.(\d+)$")
_PRERELEASE_STAGES = ("alpha", "beta", "rc")  # in the order they are cut


class Version(tuple[int, int, int]):
    """A Kubernetes version: (major, minor, patch), plus `prerelease` (`rc.0`, `alpha.1.12`) for
    the builds cut before that release, "" for the release itself.

    Ordered as semver orders it: a pre-release precedes its release (1.30.2 < 1.30.3-rc.0 <
    1.30.3), so "affected before 1.30.3" holds for a 1.30.3 release candidate too. Plain
    (major, minor, patch) tuples compare as releases; slices (`version[:2]`) are plain tuples.
    """

    prerelease: str

    def __new__(cls, major: int, minor: int, patch: int, prerelease: str = "") -> Version:
        version = super().__new__(cls, (major, minor, patch))
        version.prerelease = prerelease
        return version

    def __getnewargs__(self) -> tuple[int, int, int, str]:  # copy and pickle
        return (*self, self.prerelease)

    def __repr__(self) -> str:
        return f"Version({self[0]}, {self[1]}, {self[2]}, {self.prerelease!r})"

    @property
    def release(self) -> Version:
        """The release this version is, or precedes."""
        return Version(*self)

    def _compare(self, other: object, op: Callable[[object, object], bool]) -> bool:
        if not isinstance(other, tuple) or len(other) != 3:
            return NotImplemented  # e.g. `>= (1, 28)`: plain tuple order, as before
        return op(_precedence(self), _precedence(other))

    def __eq__(self, other: object) -> bool:
        return self._compare(other, operator.eq)

    def __ne__(self, other: object) -> bool:
        return self._compare(other, operator.ne)

    def __lt__(self, other: object) -> bool:
        return self._compare(other, operator.lt)

    def __le__(self, other: object) -> bool:
        return self._compare(other, operator.le)

    def __gt__(self, other: object) -> bool:
        return self._compare(other, operator.gt)

    def __ge__(self, other: object) -> bool:
        return self._compare(other, operator.ge)

    __hash__ = tuple.__hash__  # equal versions are equal tuples: the tuple's hash stays valid


def _prerelease(version: tuple[int, int, int]) -> str:
    return version.prerelease if isinstance(version, Version) else ""


def _precedence(version: tuple[int, int, int]) -> tuple[int, ...]:
    """Sort key: a release after all its pre-releases; those by stage, number, then commits."""
    prerelease = _prerelease(version)
    if not prerelease:
        return (*version, 1)
    stage, *numbers = prerelease.split(".")
    return (*version, 0, _PRERELEASE_STAGES.index(stage), *map(int, numbers))


ENDOFLIFE_URL = "https://endoflife.date/api/kubernetes.json"
REFRESH_TIMEOUT_S = 10.0
MAX_REFRESH_BYTES = 2 * 1024 * 1024  # the real answer is ~10 KiB; anything this big is not it


class CalendarError(ValueError):
    """A release calendar that cannot be used: unreadable, malformed or inconsistent."""


def parse_version(text: str) -> Version | None:
    """`v1.29.3-eks-adc7111` -> 1.29.3, `v1.30.3-rc.0.12+0a1b2c3d` -> 1.30.3-rc.0.12 (a
    pre-release); None when it is not a Kubernetes version string."""
    match = _VERSION.match(text.strip()) if isinstance(text, str) else None
    if not match:
        return None
    major, minor, patch, prerelease = match.groups()
    return Version(int(major), int(minor), int(patch or 0), prerelease or "")


def format_version(version: tuple[int, int, int]) -> str:
    """`1.30.3`, or `1.30.3-rc.0` for a pre-release (the distribution suffix is left out)."""
    text = f"{version[0]}.{version[1]}.{version[2]}"
    prerelease = _prerelease(version)
    return f"{text}-{prerelease}" if prerelease else text


@dataclass(frozen=True, slots=True)
class MinorRelease:
    minor: tuple[int, int]
    released: date
    end_of_life: date
    latest: Version
    latest_as_of: date | None = None  # when `latest` was confirmed newest; None: the calendar's as_of

    @property
    def name(self) -> str:
        return f"{self.minor[0]}.{self.minor[1]}"


@dataclass(frozen=True, slots=True)
class ReleaseCalendar:
    minors: tuple[MinorRelease, ...]  # oldest first
    as_of: date
    source: str

    @classmethod
    def shipped(cls) -> ReleaseCalendar:
        raw = resources.files("k8saudit.data").joinpath("releases.json").read_bytes()
        return cls.from_dict(orjson.loads(raw))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReleaseCalendar:
        """Validate and build a calendar; any inconsistency is a CalendarError (a ValueError)."""
        if not isinstance(data, dict):
            raise CalendarError("the release calendar is not an object")
        entries = data.get("minors")
        if not isinstance(entries, list) or not entries:
            raise CalendarError("the release calendar lists no minor releases")
        minors = [_minor_from_dict(entry) for entry in entries]
        return cls.build(minors, _date(data.get("as_of"), "as_of"), str(data.get("source", "")))

    @classmethod
    def build(cls, minors: list[MinorRelease], as_of: date, source: str) -> ReleaseCalendar:
        minors = sorted(minors, key=lambda m: m.minor)
        names = [m.name for m in minors]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise CalendarError(f"minor {duplicates[0]} is listed twice")
        return cls(tuple(minors), as_of, source)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "as_of": self.as_of.isoformat(),
            "minors": [_minor_to_dict(m) for m in self.minors],
        }

    def release(self, major: int, minor: int) -> MinorRelease | None:
        for m in self.minors:
            if m.minor == (major, minor):
                return m
        return None

    def newest_released(self, on: date) -> MinorRelease:
        """The newest minor already released on `on` (the calendar may list announced ones)."""
        released = [m for m in self.minors if m.released <= on]
        return released[-1] if released else self.minors[0]

    def latest_verified_on(self, minor: MinorRelease) -> date:
        """The day `minor.latest` was last known to be that branch's newest patch."""
        return minor.latest_as_of or self.as_of

    def age_days(self, on: date) -> int:
        return (on - self.as_of).days


def _date(value: object, what: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise CalendarError(f"{what} is not a date: {str(value)[:40]!r}") from None


def _minor_from_dict(entry: object) -> MinorRelease:
    if not isinstance(entry, dict):
        raise CalendarError("a minor release entry is not an object")
    name = str(entry.get("minor", ""))
    match = _MINOR.match(name)
    if not match:
        raise CalendarError(f"bad minor {name[:20]!r} (expected e.g. '1.31')")
    minor = (int(match.group(1)), int(match.group(2)))
    latest = parse_version(str(entry.get("latest", "")))
    if latest is None or latest.prerelease or latest[:2] != minor:  # the newest patch is a release
        raise CalendarError(f"{name}: bad latest version {str(entry.get('latest'))[:20]!r}")
    released = _date(entry.get("released"), f"{name} released")
    end_of_life = _date(entry.get("end_of_life"), f"{name} end_of_life")
    if end_of_life <= released:
        raise CalendarError(f"{name}: end of life {end_of_life} is not after its release {released}")
    latest_as_of = entry.get("latest_as_of")
    return MinorRelease(
        minor,
        released,
        end_of_life,
        latest,
        _date(latest_as_of, f"{name} latest_as_of") if latest_as_of else None,
    )


def _minor_to_dict(m: MinorRelease) -> dict[str, Any]:
    data: dict[str, Any] = {
        "minor": m.name,
        "released": m.released.isoformat(),
        "end_of_life": m.end_of_life.isoformat(),
        "latest": format_version(m.latest),
    }
    if m.latest_as_of is not None:
        data["latest_as_of"] = m.latest_as_of.isoformat()
    return data


# -- refresh from a public source ------------------------------------------------------------------


def from_endoflife(data: object, fetched_on: date, source: str = ENDOFLIFE_URL) -> ReleaseCalendar:
    """Convert an endoflife.date answer into a calendar, validating every field.

    Accepts the v0 list (`/api/kubernetes.json`: `cycle`, `releaseDate`, `eol`, `latest`) and the
    v1 document (`/api/v1/products/kubernetes`: `result.releases[]` with `name`, `releaseDate`,
    `eolFrom`, `latest.name`). What it says is taken as true on the day its data shows it was
    last kept up, `fetched_on` for a source kept current (`answer_as_of`): a mirror frozen two
    years ago must not make a two-year-old patch "the newest".
    """
    if isinstance(data, dict) and isinstance(data.get("result"), dict):
        items = data["result"].get("releases")
        rows = [_v1_row(item) for item in items] if isinstance(items, list) else None
    elif isinstance(data, list):
        rows = [_v0_row(item) for item in data]
    else:
        rows = None
    if not rows:
        raise CalendarError("the answer is not an endoflife.date release list")
    rows = [row for row in rows if _MINOR.match(row[0]) and not row[0].startswith("0.")]
    if not rows:  # pre-1.0 or oddly named cycles are of no use to an audit
        raise CalendarError("the answer lists no Kubernetes minor release")
    minors = [
        _minor_from_dict({"minor": cycle, "released": released, "end_of_life": eol, "latest": latest})
        for cycle, released, eol, latest, _ in rows
    ]
    as_of = answer_as_of(minors, [_patch_date(row) for row in rows], fetched_on)
    minors = [replace(m, latest_as_of=as_of) for m in minors]
    dated = "" if as_of == fetched_on else f"; its newest entry is of {as_of.isoformat()}"
    return ReleaseCalendar.build(minors, as_of, f"{source} (fetched {fetched_on.isoformat()}{dated})")


# Whether a fetched source is kept up, from its newest date. Kubernetes cuts patches of every
# supported branch about monthly, but a cycle slips or is skipped now and then (around the
# holidays, or waiting for a fix), so six or seven weeks between patches happens: a kept-up source
# has a patch younger than two missed monthly cycles plus slack. The cut-off must stay well
# above VER-001's `newest_patch_max_age_days` (45), or a calendar refreshed a day after a slipped
# cycle would be dated back and VER-001 would ask for the refresh just made. Minors come every
# 17 to 19 weeks (1.30 to 1.34 were 118 to 133 days apart): without patch dates, a kept-up
# source has a minor from the last 140 days, and one that missed a minor has none.
CURRENT_PATCH_DAYS = 75
CURRENT_MINOR_DAYS = 140


def answer_as_of(minors: list[MinorRelease], patch_dates: list[date | None], fetched_on: date) -> date:
    """The day a fetched calendar was last kept up: `fetched_on` when its newest patch (or,
    without patch dates, its newest minor) is recent enough for a source that follows every
    release; else that newest date, so the checks judge the calendar as old as its data."""
    patches = [d for d in patch_dates if d is not None and d <= fetched_on]
    if patches:
        newest, current_days = max(patches), CURRENT_PATCH_DAYS
    else:
        newest = max((m.released for m in minors if m.released <= fetched_on), default=fetched_on)
        current_days = CURRENT_MINOR_DAYS
    return fetched_on if (fetched_on - newest).days <= current_days else newest


def _patch_date(row: tuple[str, Any, Any, Any, Any]) -> date | None:
    """A row's newest-patch date, None when it has none or not a date (it is optional)."""
    try:
        return date.fromisoformat(str(row[4]))
    except ValueError:
        return None


def _v0_row(item: object) -> tuple[str, Any, Any, Any, Any]:
    if not isinstance(item, dict):
        raise CalendarError("a release entry is not an object")
    eol = item.get("eol")
    if isinstance(eol, bool):  # a bare true/false has no date: unusable for an audit
        raise CalendarError(f"{item.get('cycle')}: end of life has no date")
    cycle = str(item.get("cycle", ""))
    return cycle, item.get("releaseDate"), eol, item.get("latest"), item.get("latestReleaseDate")


def _v1_row(item: object) -> tuple[str, Any, Any, Any, Any]:
    if not isinstance(item, dict):
        raise CalendarError("a release entry is not an object")
    latest = item.get("latest")
    name, patch_date = (
        (latest.get("name"), latest.get("date")) if isinstance(latest, dict) else (latest, None)
    )
    return str(item.get("name", "")), item.get("releaseDate"), item.get("eolFrom"), name, patch_date


def fetch_calendar(
    url: str = ENDOFLIFE_URL,
    *,
    timeout: float = REFRESH_TIMEOUT_S,
    transport: httpx.BaseTransport | None = None,
    verify: Any = True,
    today: date | None = None,
) -> ReleaseCalendar:
    """GET `url` and convert it; every failure is one CalendarError line.

    A mirror's `user:password@` is sent (httpx makes it basic auth), never named: the messages
    and the calendar's source, which a snapshot keeps, say the address without it."""
    fetched_on = today or datetime.now(UTC).date()
    shown = without_userinfo(url)[0]
    headers = {"Accept": "application/json", "User-Agent": f"k8saudit/{__version__}"}
    try:
        with (
            httpx.Client(
                timeout=timeout, transport=transport, verify=verify, follow_redirects=True
            ) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code != 200:
                raise CalendarError(f"HTTP {response.status_code} from {shown}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_REFRESH_BYTES:
                    raise CalendarError(f"the answer from {shown} is larger than {MAX_REFRESH_BYTES} bytes")
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # InvalidURL is no HTTPError
        raise CalendarError(f"cannot fetch {shown}: {type(exc).__name__}: {exc}") from None
    try:
        data = orjson.loads(bytes(body))
    except orjson.JSONDecodeError:
        raise CalendarError(f"the answer from {shown} is not JSON") from None
    return from_endoflife(data, fetched_on, shown)


def check_releases_url(url: str) -> str:
    """`url` if the calendar can be fetched from it; else one UsageError line saying why (naming
    the URL without its `user:password@` part)."""
    try:
        problem = _url_problem(httpx.URL(url), url)
    except (httpx.InvalidURL, ValueError) as exc:  # an IDNA error is a UnicodeError, not InvalidURL
        problem = str(exc)
    if problem:
        raise UsageError(f"--releases-url must be an http(s) URL, not {_shown_url(url)!r}: {problem}")
    return url


def _shown_url(url: str) -> str:
    """A URL that is not one, shortened for a message, with anything before an `@` in its
    authority hidden: typed without its scheme, `user:password@host` is no userinfo to a URL
    parser, yet still a password."""
    scheme, separator, rest = url.partition("://") if "://" in url else ("", "", url)
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rpartition("@")[2]
    return f"{scheme}{separator}{authority}{slash}{path}"[:120]


def _url_problem(parsed: httpx.URL, url: str) -> str | None:
    if parsed.scheme not in ("http", "https"):
        return "the scheme must be http or https"
    if not parsed.host:
        return "it names no host"
    if any(c.isspace() for c in url):
        return "it contains white space"
    if parsed.port is not None and not 0 < parsed.port < 65536:
        return f"port {parsed.port} is out of range (1-65535)"
    return None


def refresh_calendar(
    fallback: ReleaseCalendar,
    fallback_name: str,
    url: str = ENDOFLIFE_URL,
    **fetch_options: Any,
) -> tuple[ReleaseCalendar, str]:
    """The refreshed calendar and a note saying so, or `fallback` and a note saying why not (the
    fetch failed, or what it brought is older than `fallback`: a stale mirror).

    A failed fetch never raises: an audit must not fail because a public website is down. A
    `url` that is no http(s) URL is a typo to fix, not a fetch that failed: a UsageError.
    """
    check_releases_url(url)
    try:
        calendar = fetch_calendar(url, **fetch_options)
    except CalendarError as exc:
        reason = " ".join(str(exc).split())[:240]
        return fallback, (
            f"could not refresh the release calendar ({reason}); "
            f"using {fallback_name} as of {fallback.as_of.isoformat()}"
        )
    shown = without_userinfo(url)[0]
    if calendar.as_of < fallback.as_of:
        return fallback, (
            f"the release calendar from {shown} is of {calendar.as_of.isoformat()} (its newest "
            f"entry), older than {fallback_name} as of {fallback.as_of.isoformat()}; using that"
        )
    return calendar, f"release calendar refreshed from {shown} as of {calendar.as_of.isoformat()}"
