"""The release calendar: shipped data, validation, and `--refresh-releases` against a local server
(never the internet), including failures and malformed answers."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import orjson
import pytest

from k8saudit.cli import demo_snapshot_path, main
from k8saudit.engine import run_check
from k8saudit.errors import UsageError
from k8saudit.model import Status
from k8saudit.registry import Context, load_checks
from k8saudit.releases import (
    CalendarError,
    ReleaseCalendar,
    check_releases_url,
    fetch_calendar,
    format_version,
    from_endoflife,
    parse_version,
    refresh_calendar,
)
from tests import factories as f

FETCHED = date(2026, 11, 21)

ENDOFLIFE_V0 = [
    {
        "cycle": "1.37",
        "releaseDate": "2026-08-26",
        "support": "2027-08-28",
        "eol": "2027-10-28",
        "latest": "1.37.3",
        "latestReleaseDate": "2026-11-11",
        "lts": False,
    },
    {
        "cycle": "1.36",
        "releaseDate": "2026-04-22",
        "support": "2027-04-28",
        "eol": "2027-06-28",
        "latest": "1.36.7",
        "latestReleaseDate": "2026-11-11",
        "lts": False,
    },
    {
        "cycle": "1.27",
        "releaseDate": "2023-04-11",
        "support": "2024-04-28",
        "eol": "2024-06-28",
        "latest": "1.27.16",
        "latestReleaseDate": "2024-07-17",
        "lts": False,
    },
]
ENDOFLIFE_V1 = {
    "schema_version": "1.2.0",
    "result": {
        "name": "kubernetes",
        "releases": [
            {
                "name": "1.37",
                "releaseDate": "2026-08-26",
                "eolFrom": "2027-10-28",
                "latest": {"name": "1.37.3", "date": "2026-11-11"},
            }
        ],
    },
}


# -- versions --------------------------------------------------------------------------------------


def test_prereleases_sort_before_their_release_and_after_the_previous_patch() -> None:
    """Semver precedence, so a range "affected before 1.30.3" holds for 1.30.3's pre-releases."""
    texts = [
        "v1.30.2",
        "v1.31.0-alpha.1",
        "v1.31.0-alpha.1.5+0a1b2c3",
        "v1.31.0-beta.0",
        "v1.31.0-rc.0",
        "v1.31.0",
    ]
    ordered = [parse_version(text) for text in texts]
    assert sorted(reversed(ordered)) == ordered  # type: ignore[type-var]
    candidate = parse_version("v1.30.3-rc.0")
    assert candidate is not None
    assert (1, 30, 2) < candidate < (1, 30, 3) and candidate != (1, 30, 3)
    assert candidate[:2] == (1, 30)  # a minor is a minor, pre-release or not


def test_a_prerelease_is_named_as_one() -> None:
    assert format_version(parse_version("v1.30.3-rc.0.12+0a1b2c3d")) == "1.30.3-rc.0.12"  # type: ignore[arg-type]
    assert format_version(parse_version("v1.30.3-eks-adc7111")) == "1.30.3"  # type: ignore[arg-type]
    assert format_version((1, 30, 3)) == "1.30.3"


# -- the shipped calendar --------------------------------------------------------------------------


def test_shipped_calendar_is_complete_and_honest() -> None:
    calendar = ReleaseCalendar.shipped()
    names = [m.minor for m in calendar.minors]
    assert names[0] == (1, 19)
    assert names == [(1, n) for n in range(19, 19 + len(names))], "no minor is missing"
    assert names[-1] >= (1, 37)
    for minor in calendar.minors:
        verified = calendar.latest_verified_on(minor)
        assert verified <= calendar.as_of, f"{minor.name} verified after the calendar's date"
        assert minor.released < minor.end_of_life
    assert "--refresh-releases" in calendar.source


def test_calendar_round_trips_through_a_snapshot_dict() -> None:
    calendar = ReleaseCalendar.shipped()
    assert ReleaseCalendar.from_dict(calendar.to_dict()) == calendar
    old_format = {"as_of": "2025-06-01", "minors": [{"minor": "1.33", "released": "2025-04-23",
                  "end_of_life": "2026-06-28", "latest": "1.33.1"}]}  # fmt: skip
    legacy = ReleaseCalendar.from_dict(old_format)
    assert legacy.minors[0].latest_as_of is None
    assert legacy.latest_verified_on(legacy.minors[0]) == date(2025, 6, 1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"latest": "1.32.4"}, "bad latest version"),
        ({"latest": "1.33.2-rc.0"}, "bad latest version"),  # the newest patch is a release
        ({"minor": "one.two"}, "bad minor"),
        ({"released": "2026-13-01"}, "is not a date"),
        ({"end_of_life": "2024-01-01"}, "is not after its release"),
        ({"latest_as_of": "soon"}, "is not a date"),
    ],
)
def test_calendar_validation_names_the_problem(change: dict, message: str) -> None:
    entry = {"minor": "1.33", "released": "2025-04-23", "end_of_life": "2026-06-28", "latest": "1.33.1"}
    with pytest.raises(CalendarError, match=message):
        ReleaseCalendar.from_dict({"as_of": "2026-01-01", "minors": [{**entry, **change}]})


def test_calendar_rejects_duplicates_and_emptiness() -> None:
    entry = {"minor": "1.33", "released": "2025-04-23", "end_of_life": "2026-06-28", "latest": "1.33.1"}
    with pytest.raises(CalendarError, match="listed twice"):
        ReleaseCalendar.from_dict({"as_of": "2026-01-01", "minors": [entry, entry]})
    with pytest.raises(CalendarError, match="no minor"):
        ReleaseCalendar.from_dict({"as_of": "2026-01-01", "minors": []})


# -- conversion ------------------------------------------------------------------------------------


def test_endoflife_v0_and_v1_answers_convert() -> None:
    calendar = from_endoflife(ENDOFLIFE_V0, FETCHED, "https://mirror.example/k8s.json")
    assert [m.name for m in calendar.minors] == ["1.27", "1.36", "1.37"]
    newest = calendar.release(1, 37)
    assert newest is not None and newest.latest == (1, 37, 3)
    assert newest.end_of_life == date(2027, 10, 28)
    assert calendar.latest_verified_on(newest) == FETCHED == calendar.as_of
    assert calendar.source.startswith("https://mirror.example/k8s.json")
    v1 = from_endoflife(ENDOFLIFE_V1, FETCHED)
    assert v1.release(1, 37).latest == (1, 37, 3)  # type: ignore[union-attr]


# What a mirror frozen in mid-2024 still serves: its newest entry is 1.27.16's patch date.
FROZEN_MIRROR_V0 = [
    {**ENDOFLIFE_V0[2]},
    {
        "cycle": "1.30",
        "releaseDate": "2024-04-17",
        "eol": "2025-06-28",
        "latest": "1.30.3",
        "latestReleaseDate": "2024-07-16",
    },
]


def test_a_frozen_mirror_is_dated_by_its_data_not_the_fetch() -> None:
    calendar = from_endoflife(FROZEN_MIRROR_V0, FETCHED, "https://mirror.example/k8s.json")
    frozen = date(2024, 7, 17)
    assert calendar.as_of == frozen
    assert calendar.latest_verified_on(calendar.release(1, 30)) == frozen  # type: ignore[arg-type]
    assert (
        calendar.source
        == "https://mirror.example/k8s.json (fetched 2026-11-21; its newest entry is of 2024-07-17)"
    )


NO_PATCH_DATES = [{k: v for k, v in row.items() if k != "latestReleaseDate"} for row in ENDOFLIFE_V0]


@pytest.mark.parametrize(
    ("answer", "current"),
    [
        (ENDOFLIFE_V0, True),  # a patch 10 days before the fetch
        ([{**row, "latestReleaseDate": "2026-10-06"} for row in ENDOFLIFE_V0], True),  # 46 days: one slip
        ([{**row, "latestReleaseDate": "2026-09-07"} for row in ENDOFLIFE_V0], True),  # 75 days
        ([{**row, "latestReleaseDate": "2026-09-06"} for row in ENDOFLIFE_V0], False),  # 76 days
        # Without patch dates a minor about every four months is what a kept-up source shows.
        (NO_PATCH_DATES, True),
        # 1.37 of 2026-08-26 is 87 days old; 140 days is one minor cycle, 141 is a missed minor.
        ([{**NO_PATCH_DATES[0], "releaseDate": "2026-07-04"}], True),
        ([{**NO_PATCH_DATES[0], "releaseDate": "2026-07-03"}], False),
        ([{k: v for k, v in row.items() if k != "latestReleaseDate"} for row in FROZEN_MIRROR_V0], False),
        # A patch "dated" after the fetch proves nothing about being kept up.
        ([{**row, "latestReleaseDate": "2027-01-01"} for row in FROZEN_MIRROR_V0], False),
    ],
)
def test_a_fetched_calendar_is_trusted_up_to_the_fetch_only_when_its_data_is_recent(
    answer: list, current: bool
) -> None:
    assert (from_endoflife(answer, FETCHED).as_of == FETCHED) is current


def test_a_calendar_refreshed_after_a_slipped_patch_cycle_passes_the_newest_patch() -> None:
    """The newest patches are 47 days old when the calendar is refreshed (a monthly cycle
    slipped): a cluster on 1.37.3 runs the newest patch, VER-001 does not ask for the refresh
    that was just made."""
    fetched = date(2026, 12, 20)
    answer = [{**row, "latestReleaseDate": "2026-11-03"} for row in ENDOFLIFE_V0]
    calendar = from_endoflife(answer, fetched)
    assert calendar.as_of == fetched
    ctx = Context(datetime.combine(fetched, datetime.min.time(), UTC), calendar)
    [finding] = run_check(load_checks()["VER-001"], f.make_inventory(version="v1.37.3"), ctx)
    assert (finding.status, finding.message) == (Status.PASS, "runs 1.37.3, the newest patch of 1.37")


def test_a_mirror_older_than_the_shipped_calendar_does_not_replace_it() -> None:
    shipped = ReleaseCalendar.shipped()
    frozen = httpx.MockTransport(lambda request: httpx.Response(200, content=orjson.dumps(FROZEN_MIRROR_V0)))
    calendar, note = refresh_calendar(
        shipped, "the shipped calendar", "https://mirror.test/k8s.json", transport=frozen
    )
    assert calendar is shipped
    assert note == (
        "the release calendar from https://mirror.test/k8s.json is of 2024-07-17 (its newest entry), "
        f"older than the shipped calendar as of {shipped.as_of.isoformat()}; using that"
    )


@pytest.mark.parametrize(
    "answer",
    [
        {"message": "Product not found"},
        [],
        ["1.37"],
        [{**ENDOFLIFE_V0[0], "eol": True}],
        [{**ENDOFLIFE_V0[0], "latest": "1.36.2"}],
        [{**ENDOFLIFE_V0[0], "releaseDate": None}],
        [{"cycle": "0.9", "releaseDate": "2015-01-01", "eol": "2016-01-01", "latest": "0.9.1"}],
    ],
)
def test_malformed_answers_are_rejected(answer: object) -> None:
    with pytest.raises(CalendarError):
        from_endoflife(answer, FETCHED)


# -- fetching ---------------------------------------------------------------------------------------


def _mock(status: int, body: bytes) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, content=body))


def test_fetch_through_a_mock_transport() -> None:
    ok = fetch_calendar(
        "https://eol.test/k8s.json", transport=_mock(200, orjson.dumps(ENDOFLIFE_V0)), today=FETCHED
    )
    assert ok.as_of == FETCHED
    with pytest.raises(CalendarError, match="HTTP 503"):
        fetch_calendar("https://eol.test/k8s.json", transport=_mock(503, b"busy"))
    with pytest.raises(CalendarError, match="not JSON"):
        fetch_calendar("https://eol.test/k8s.json", transport=_mock(200, b"<html>"))
    with pytest.raises(CalendarError, match="larger than"):
        fetch_calendar("https://eol.test/k8s.json", transport=_mock(200, b" " * (3 * 1024 * 1024)))


def test_a_mirror_password_is_sent_as_basic_auth_and_never_named() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=orjson.dumps(ENDOFLIFE_V0))

    mirror = "https://k8saudit:mirror-s3cret@artifacts.corp.test/eol/kubernetes.json"
    calendar, note = refresh_calendar(
        ReleaseCalendar.shipped(), "the shipped calendar", mirror, transport=httpx.MockTransport(answer)
    )
    assert seen[0].headers["Authorization"] == "Basic " + base64.b64encode(b"k8saudit:mirror-s3cret").decode()
    assert calendar.source.startswith("https://artifacts.corp.test/eol/kubernetes.json (fetched")
    assert note.startswith(
        "release calendar refreshed from https://artifacts.corp.test/eol/kubernetes.json as of "
    )
    assert "mirror-s3cret" not in str(calendar.to_dict())
    failing = httpx.MockTransport(lambda request: httpx.Response(503))
    _, note = refresh_calendar(ReleaseCalendar.shipped(), "the shipped calendar", mirror, transport=failing)
    assert "HTTP 503 from https://artifacts.corp.test/" in note and "mirror-s3cret" not in note


ROUTES: dict[str, tuple[int, bytes]] = {
    "/kubernetes.json": (200, json.dumps(ENDOFLIFE_V0).encode()),
    "/broken": (500, b"internal error"),
    "/garbage": (200, b"{not json"),
    "/wrong-shape": (200, b'{"releases": "none"}'),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, body = ROUTES.get(self.path, (404, b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass


@pytest.fixture
def release_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/kubernetes.json"


def test_refresh_from_a_local_server(release_server: str) -> None:
    fallback = ReleaseCalendar.shipped()
    calendar, note = refresh_calendar(fallback, "the shipped calendar", f"{release_server}/kubernetes.json")
    assert calendar is not fallback
    assert calendar.release(1, 36).latest == (1, 36, 7)  # type: ignore[union-attr]
    assert "refreshed from" in note


@pytest.mark.parametrize("path", ["/broken", "/garbage", "/wrong-shape", "/missing"])
def test_failed_refresh_falls_back_with_a_note(release_server: str, path: str) -> None:
    fallback = ReleaseCalendar.shipped()
    calendar, note = refresh_calendar(fallback, "the shipped calendar", release_server + path, timeout=5)
    assert calendar is fallback
    assert note.startswith("could not refresh the release calendar")
    assert f"using the shipped calendar as of {fallback.as_of.isoformat()}" in note


def test_unreachable_source_falls_back(release_server: str) -> None:
    fallback = ReleaseCalendar.shipped()
    calendar, note = refresh_calendar(fallback, "the shipped calendar", _closed_port_url(), timeout=5)
    assert calendar is fallback and "ConnectError" in note


# -- the CLI ---------------------------------------------------------------------------------------


def _json_report(capsys, argv: list[str]) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_report_refreshes_the_calendar(capsys, release_server: str) -> None:
    url = f"{release_server}/kubernetes.json"
    data = _json_report(
        capsys,
        [
            "report",
            str(demo_snapshot_path()),
            "--format",
            "json",
            "--refresh-releases",
            "--releases-url",
            url,
        ],
    )
    assert data["calendar"]["source"].startswith(url)
    assert data["calendar"]["age_days"] <= 1
    assert any("refreshed from" in note for note in data["collection"]["notes"])


def test_report_refresh_failure_is_noted_not_fatal(capsys, release_server: str) -> None:
    offline = _json_report(capsys, ["report", str(demo_snapshot_path()), "--format", "json"])
    for url in (f"{release_server}/garbage", _closed_port_url()):
        data = _json_report(
            capsys,
            [
                "report",
                str(demo_snapshot_path()),
                "--format",
                "json",
                "--refresh-releases",
                "--releases-url",
                url,
            ],
        )
        assert data["calendar"] == offline["calendar"]
        notes = data["collection"]["notes"]
        assert any("could not refresh" in n and "calendar saved in the snapshot" in n for n in notes)


def test_demo_text_mentions_the_failed_refresh(capsys, release_server: str) -> None:
    assert main(["demo", "--text", "--refresh-releases", "--releases-url", f"{release_server}/broken"]) == 0
    assert "Note: could not refresh the release calendar (HTTP 500" in capsys.readouterr().out


def test_scan_hands_the_refreshed_calendar_and_its_note_to_the_report(monkeypatch, release_server) -> None:
    import asyncio

    from k8saudit import scan
    from k8saudit.report import CollectionInfo, utcnow
    from tests import factories as f

    inventory = f.make_inventory(version="v1.36.2")
    collection = CollectionInfo(started_at=utcnow(), finished_at=utcnow())

    class FakeCollector:
        def __init__(self, *args: object) -> None:
            pass

        async def collect(self):
            return inventory, collection

    monkeypatch.setattr(scan, "connect", lambda kubeconfig, context: object())
    monkeypatch.setattr(scan, "Collector", FakeCollector)
    refreshed = from_endoflife(ENDOFLIFE_V0, FETCHED)
    report = asyncio.run(scan.scan_cluster(None, None, calendar=refreshed, notes=["refreshed"]))
    assert report.calendar is refreshed
    assert report.collection.notes == ["refreshed"]


def test_scan_command_refreshes_before_connecting(monkeypatch, capsys, release_server) -> None:
    from k8saudit import scan
    from tests.demo import build_report

    seen: dict = {}

    async def fake_scan(kubeconfig, context, settings, progress, *, calendar=None, notes=None, **_):
        seen.update(calendar=calendar, notes=notes)
        return build_report()

    monkeypatch.setattr(scan, "scan_cluster", fake_scan)
    argv = ["scan", "--no-save", "--format", "json", "--refresh-releases", "--releases-url"]
    assert main([*argv, f"{release_server}/kubernetes.json"]) == 0
    assert seen["calendar"].release(1, 37).latest == (1, 37, 3)
    assert main([*argv, f"{release_server}/broken"]) == 0
    assert seen["calendar"] == ReleaseCalendar.shipped()
    assert "could not refresh" in seen["notes"][0] and "the shipped calendar" in seen["notes"][0]
    capsys.readouterr()


def test_the_terminal_ui_scans_with_a_calendar_refreshed_before_it_starts(
    monkeypatch, release_server
) -> None:
    """`k8saudit --refresh-releases` (no command: the context picker, then live scans) fetches
    once, before the UI starts, and hands the calendar and its note to the app."""
    from k8saudit import cli

    seen: dict = {}
    monkeypatch.setattr(cli, "_tui_available", lambda: True)
    monkeypatch.setattr(cli, "_run_tui", lambda **kwargs: seen.update(kwargs) or 0)
    assert main(["--refresh-releases", "--releases-url", f"{release_server}/kubernetes.json"]) == 0
    assert seen["calendar"].release(1, 37).latest == (1, 37, 3)
    assert any("refreshed from" in note for note in seen["notes"])
    seen.clear()
    assert main([]) == 0
    assert seen["calendar"] is None and seen["notes"] == [], "offline unless asked"


def test_calendar_options_work_before_the_command(monkeypatch, capsys, release_server) -> None:
    from k8saudit import scan
    from tests.demo import build_report

    seen: dict = {}

    async def fake_scan(kubeconfig, context, settings, progress, *, calendar=None, notes=None, **_):
        seen.update(calendar=calendar)
        return build_report()

    monkeypatch.setattr(scan, "scan_cluster", fake_scan)
    url = f"{release_server}/kubernetes.json"
    assert main(["--refresh-releases", "--releases-url", url, "scan", "--no-save", "--format", "json"]) == 0
    assert seen["calendar"].release(1, 37).latest == (1, 37, 3)
    capsys.readouterr()


def test_calendar_option_usage_errors(capsys) -> None:
    for argv in (
        ["report", str(demo_snapshot_path()), "--releases-url", "https://mirror.example/x.json"],
        ["report", str(demo_snapshot_path()), "--refresh-releases", "--releases-url", "file:///etc/passwd"],
        ["report", str(demo_snapshot_path()), "--as-recorded", "--refresh-releases"],  # judged then
    ):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.startswith("k8saudit: error:") and err.count("\n") == 1


# -- a malformed --releases-url -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("notaurl", "the scheme must be http or https"),
        ("ftp://mirror.test/k8s.json", "the scheme must be http or https"),
        ("http://[::1", "Invalid port"),
        ("http://mirror.test:abc/k8s.json", "Invalid port"),
        ("https://[zz]/k8s.json", "Invalid IPv6 address"),
        ("http://:80/k8s.json", "it names no host"),
        ("http://mir ror.test/k8s.json", "it contains white space"),
        ("http://[::1]:99999/k8s.json", "port 99999 is out of range"),
    ],
)
def test_a_malformed_releases_url_is_a_one_line_usage_error(url: str, problem: str) -> None:
    with pytest.raises(UsageError) as caught:
        check_releases_url(url)
    assert caught.value.message.startswith(f"--releases-url must be an http(s) URL, not {url!r}: {problem}")
    with pytest.raises(UsageError, match="--releases-url"):
        refresh_calendar(ReleaseCalendar.shipped(), "the shipped calendar", url)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://k8saudit:s3cret@[zz]/k8s.json", "https://***@[zz]/k8s.json"),
        (
            "k8saudit:s3cret@mirror.test/k8s.json",
            "***@mirror.test/k8s.json",
        ),  # no scheme: no userinfo to a parser
        ("https://k8saudit:s3cret@xn--a.test/k8s.json", "https://***@xn--a.test/k8s.json"),  # IDNA error
    ],
)
def test_a_malformed_releases_url_never_names_its_password(url: str, shown: str) -> None:
    with pytest.raises(UsageError) as caught:
        check_releases_url(url)
    assert "s3cret" not in caught.value.message and f"not {shown!r}:" in caught.value.message


def test_good_releases_urls_pass() -> None:
    for url in (
        "https://endoflife.date/api/kubernetes.json",
        "http://[::1]:8080/k8s.json",
        "HTTP://Mirror.test",
    ):
        assert check_releases_url(url) == url


def test_an_invalid_url_is_a_calendar_error_when_fetched_directly() -> None:
    with pytest.raises(CalendarError, match="cannot fetch http://\\[::1: InvalidURL"):
        fetch_calendar("http://[::1")


def test_cli_refuses_a_malformed_releases_url_in_one_line(capsys) -> None:
    snapshot = str(demo_snapshot_path())
    assert main(["report", snapshot, "--refresh-releases", "--releases-url", "http://[::1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("k8saudit: error: --releases-url must be an http(s) URL") and err.count("\n") == 1
