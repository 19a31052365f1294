"""The exposure probe from the TUI (`p`): never without the confirmation dialog, which lists
exactly the addresses to contact; run in a worker; its answers on every finding naming those
addresses, kept with the report (notes, saved snapshot) exactly as `scan --probe` keeps them.

The cluster is the HTTPS replay API server; the exposed admin UI is a fake one on 127.0.0.1
(`tests/probe_support.py`) that records every request, so the tests can say what was sent.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.widgets import Input

from k8saudit.cli import demo_snapshot_path
from k8saudit.model import Status
from k8saudit.probe import OPEN, PROBE_RESULTS, PROBE_TARGETS, ProbeSettings
from k8saudit.report import Report
from k8saudit.snapshot import load
from screens.app import K8sAuditApp
from screens.detail import DetailScreen
from screens.dialogs import HelpScreen, PathDialog
from screens.findings import FindingsScreen
from screens.jobs import WaiverOptions
from screens.overview import OverviewScreen
from screens.probe import ProbeDialog
from screens.waivers import WaiverDialog
from tests import factories as fx
from tests.probe_support import FakeAdminUI, assert_no_credentials_sent
from tests.replay import ReplayServer
from tests.tui_support import FIXED_NOW, SIZE, make_app, open_dialog, screen_text, wait_for

TOKEN = "admin-token"  # the replay kubeconfig's bearer token: must never reach the admin UI
UI_NOTE = "exposure probe (UI, p on EXP-001 Service weave/weave-scope-app)"


def serve_exposed_weave_scope(srv: ReplayServer, ui: FakeAdminUI) -> str:
    """Weave Scope behind a LoadBalancer whose address is the fake UI: EXP-001 names its URL."""
    port = int(ui.url("/").rsplit(":", 1)[1].split("/")[0])
    scope = fx.container("app", "weaveworks/scope:1.13.2", ports=[4040])
    service = fx.service("weave-scope-app", "weave", type="LoadBalancer", ports=[port])
    service["status"]["loadBalancer"] = {"ingress": [{"ip": "127.0.0.1"}]}
    srv.add_objects(
        "apps", "v1", "deployments", [fx.deployment("weave-scope-app", "weave", containers=[scope])]
    )
    pod = fx.pod("weave-scope-app-1", "weave", labels={"app": "weave-scope-app"}, containers=[scope])
    srv.add_objects("", "v1", "pods", [pod])
    srv.add_objects("", "v1", "services", [service])
    return ui.url("/")


async def findings_cursor_on(pilot, app: K8sAuditApp, check_id: str, name: str) -> FindingsScreen:
    """The findings screen filtered to `name`, the cursor on that finding of `check_id`."""
    await pilot.press("f", "slash", *name, "enter")
    screen = app.screen
    assert isinstance(screen, FindingsScreen)
    target = next(
        i
        for i in screen.rows_shown
        if screen.index.findings[i].check_id == check_id and screen.index.findings[i].subject.name == name
    )
    await pilot.press("home", *(["down"] * screen.rows_shown.index(target)))
    assert screen.highlighted == target
    return screen


def assert_nothing_secret_sent(ui: FakeAdminUI) -> None:
    assert_no_credentials_sent(ui)
    for request in ui.seen:
        values = " ".join(request.headers.values())
        assert TOKEN not in values and "NETRC-PASSWORD" not in values, request


@pytest.fixture
def probing_env(netrc_with_credentials, monkeypatch) -> None:
    """Credentials and a proxy in the environment (the probe must use neither); the cluster
    connection honours the environment, so the replay server on 127.0.0.1 bypasses the proxy."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")


async def test_p_confirms_probes_in_a_worker_and_keeps_the_answers_like_scan_probe(
    replay_server: ReplayServer, admin_ui: FakeAdminUI, tmp_path: Path, probing_env
) -> None:
    url = serve_exposed_weave_scope(replay_server, admin_ui)
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "config")
    app = make_app(kubeconfig=str(kubeconfig), debounce_s=0.0, probe_settings=ProbeSettings(timeout_s=10))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview", tries=1500)
        assert admin_ui.seen == [], "a scan never probes"
        report = app.report
        assert report is not None and report.collection.probe is None

        findings = await findings_cursor_on(pilot, app, "EXP-001", "weave-scope-app")
        position = findings.highlighted
        assert position is not None
        await pilot.press("p")
        assert isinstance(app.screen, ProbeDialog)
        text = screen_text(app)
        assert "Probe EXP-001 on Service weave/weave-scope-app?" in text
        assert "one plain GET to this address" in text and f"{url}  (Weave Scope)" in text
        assert "No credentials are sent" in text
        assert admin_ui.seen == [], "nothing is contacted before the user confirms"

        await pilot.press("enter")
        assert isinstance(app.screen, FindingsScreen)
        await wait_for(pilot, lambda: app.report is not report, "the probe's answers", tries=1500)

        # the same code path as scan --probe: results on the finding, the run on the collection
        probed = app.report
        assert probed is not None and app.index is not None and app.index.report is probed
        finding = probed.findings[position]
        [result] = finding.evidence[PROBE_RESULTS]
        assert (result["url"], result["access"], result["status"]) == (url, OPEN, 200)
        assert finding.message.endswith(
            f"probe confirmed: {url} answered 200 without authentication, title 'Kubernetes Dashboard'"
        )
        assert finding.status is Status.WARN, "the probe adds evidence; the check decides"
        assert probed.scores.to_dict() == report.scores.to_dict()
        assert PROBE_RESULTS not in report.findings[position].evidence, "the scanned report is not changed"
        assert probed.collection.probe is not None and [r.url for r in probed.collection.probe.results] == [
            url
        ]
        assert any(
            n.startswith(f"{UI_NOTE} at {FIXED_NOW:%Y-%m-%d %H:%M} UTC") for n in probed.collection.notes
        )
        assert [s.path for s in admin_ui.seen] == ["/"], "one GET to the one address listed"
        assert_nothing_secret_sent(admin_ui)

        # the findings table searches the new message; the detail shows it and the evidence
        assert findings.index is app.index and findings.highlighted == position
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        await pilot.pause()
        assert "probe confirmed:" in screen_text(app)
        await pilot.press("tab", "end")  # the detail pane, scrolled to the evidence
        await pilot.pause()
        text = screen_text(app)
        assert "probe_results:" in text and "access: open" in text and "status: 200" in text

        # the overview says when and what was probed
        await pilot.press("o")
        await pilot.pause()
        assert f"note: {UI_NOTE}" in screen_text(app)

        # saved from the TUI, the snapshot keeps the run; re-evaluated, the answers come back
        dialog = await open_dialog(pilot, app, "s", PathDialog)
        saved = tmp_path / "probed.json.gz"
        dialog.query_one(Input).value = str(saved)
        await pilot.press("enter")
        await wait_for(pilot, saved.exists, "the snapshot")
    reopened = load(saved).report()
    assert reopened.collection.probe is not None
    assert [r.url for r in reopened.collection.probe.results] == [url]
    assert any(n.startswith(UI_NOTE) for n in reopened.collection.notes)
    again = next(f for f in reopened.findings if f.key == finding.key)
    assert again.evidence[PROBE_RESULTS] == finding.evidence[PROBE_RESULTS]
    assert again.message == finding.message
    assert len(admin_ui.seen) == 1, "opening a snapshot never probes"


def demo_with_targets(ui: FakeAdminUI, weave: str, grafana: str) -> Report:
    """The demo report, its two probeable EXP-001 findings pointed at the fake admin UI (new
    evidence dicts: a loaded finding's is shared and refuses changes)."""
    report = load(demo_snapshot_path()).report(today=FIXED_NOW.date())
    for finding in report.findings:
        if finding.check_id == "EXP-001" and finding.subject.name == "weave-scope-app":
            finding.evidence = {
                **finding.evidence,
                PROBE_TARGETS: [{"url": ui.url(weave), "interface": "Weave Scope"}],
            }
        elif (
            finding.check_id == "EXP-001"
            and finding.subject.name == "grafana"
            and finding.evidence.get(PROBE_TARGETS)
        ):
            finding.evidence = {
                **finding.evidence,
                PROBE_TARGETS: [{"url": ui.url(grafana), "interface": "Grafana"}],
            }
    return report


def recorded_notices(app: K8sAuditApp) -> list[str]:
    """The messages the app notifies from now on, in order (each still shown)."""
    notices: list[str] = []
    original = app.notify

    def record(message: str, **kwargs) -> None:
        notices.append(message)
        original(message, **kwargs)

    app.notify = record  # type: ignore[method-assign]
    return notices


async def test_never_probes_without_confirmation(admin_ui: FakeAdminUI) -> None:
    report = demo_with_targets(admin_ui, "/open", "/basic")
    app = make_app(report=report, debounce_s=0.0)
    async with app.run_test(size=SIZE) as pilot:
        await findings_cursor_on(pilot, app, "EXP-001", "weave-scope-app")
        for cancel in ("escape", "n"):
            await pilot.press("p")
            assert isinstance(app.screen, ProbeDialog)
            await pilot.press(cancel)
            assert isinstance(app.screen, FindingsScreen)
        await pilot.press("x")
        # from the detail too: the dialog first, esc contacts nothing
        await findings_cursor_on(pilot, app, "EXP-001", "grafana")
        await pilot.press("enter", "p")
        assert isinstance(app.screen, ProbeDialog)
        assert admin_ui.url("/basic") in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, DetailScreen)
        await pilot.pause(0.2)
        assert admin_ui.seen == []
        assert app.report is report and report.collection.probe is None
        assert not any("exposure probe" in n for n in report.collection.notes)
        assert not any(PROBE_RESULTS in f.evidence for f in report.findings)


async def test_findings_without_addresses_get_a_one_line_notice(admin_ui: FakeAdminUI) -> None:
    report = demo_with_targets(admin_ui, "/open", "/basic")
    passing = next(f for f in report.findings if f.key[0] == "EXP-001" and f.subject.name == "payments-api")
    assert passing.status is Status.PASS
    passing.evidence = {
        **passing.evidence,
        PROBE_TARGETS: [{"url": admin_ui.url("/open")}],
    }  # named, but the check passed
    app = make_app(report=report, debounce_s=0.0)
    async with app.run_test(size=SIZE) as pilot:
        notices = recorded_notices(app)
        cases = [
            ("RBAC-001", "jenkins-admin", "Nothing to probe: this finding names no address."),
            ("EXP-001", "churn-notebook", "Nothing to probe: this finding names no address."),
            ("EXP-001", "payments-api", "Nothing to probe: only failing or warning findings are."),
        ]
        for check_id, name, notice in cases:
            await findings_cursor_on(pilot, app, check_id, name)
            await pilot.press("p")
            assert isinstance(app.screen, FindingsScreen), "no dialog"
            assert notices[-1] == notice and "\n" not in notice
            await pilot.press("x")
        await pilot.pause(0.1)
        assert admin_ui.seen == []


async def test_the_demo_is_never_probed_and_r_says_there_is_no_cluster() -> None:
    """The demo's load balancer names look real (and may resolve): `p` refuses with a notice.
    `r` on a snapshot said nothing at all (the binding was off); now it says why."""
    app = make_app(snapshot=demo_snapshot_path(), demo=True)
    async with app.run_test(size=SIZE) as pilot:
        notices = recorded_notices(app)
        await wait_for(pilot, lambda: app.report is not None, "the demo")
        await findings_cursor_on(pilot, app, "EXP-001", "weave-scope-app")
        await pilot.press("p")
        assert isinstance(app.screen, FindingsScreen), "no dialog"
        assert notices[-1] == "Nothing to probe: the demo cluster's addresses are made up."
        await pilot.press("r")
        assert notices[-1].startswith("No cluster to rescan: this report comes from a snapshot")


async def test_the_answers_reach_every_finding_naming_the_address_and_probing_again_replaces_them(
    admin_ui: FakeAdminUI,
) -> None:
    report = demo_with_targets(admin_ui, "/open", "/open")  # two findings, one address
    app = make_app(report=report, debounce_s=0.0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await findings_cursor_on(pilot, app, "EXP-001", "weave-scope-app")
        weave = screen.highlighted
        grafana = next(
            i
            for i, f in enumerate(report.findings)
            if f.check_id == "EXP-001" and f.subject.name == "grafana" and f.evidence.get(PROBE_TARGETS)
        )
        for attempt in (1, 2):
            await pilot.press("p")
            assert isinstance(app.screen, ProbeDialog)
            if attempt == 2:
                assert "Probed before at" in screen_text(app)
            shown = app.report
            await pilot.press("y")
            await wait_for(pilot, lambda: app.report is not shown, "the answers", tries=1500)  # noqa: B023
        probed = app.report
        assert probed is not None and weave is not None
        for i in (weave, grafana):
            finding = probed.findings[i]
            assert len(finding.evidence[PROBE_RESULTS]) == 1, "the newer answer replaced the older one"
            assert finding.message.count("probe confirmed") == 1
        assert probed.collection.probe is not None and len(probed.collection.probe.results) == 1
        assert sum(n.startswith("exposure probe (UI") for n in probed.collection.notes) == 2, "one per pass"
        assert [s.path for s in admin_ui.seen] == ["/open", "/open"]


async def test_a_waiver_written_while_the_probe_runs_keeps_both(
    admin_ui: FakeAdminUI, tmp_path: Path
) -> None:
    """The waivers are applied again (a new report) while the probe waits for its answer: the
    answer is attached to the report shown by then, and the waiver stays."""
    report = demo_with_targets(admin_ui, "/gate", "/basic")
    # The probe must still wait when the waiver lands: the default 3 s timeout is shorter than the
    # steps below take on a slow machine (it then answers "timed out" first).
    app = make_app(
        report=report,
        debounce_s=0.0,
        waivers=WaiverOptions(str(tmp_path / "waivers.toml")),
        probe_settings=ProbeSettings(timeout_s=60),
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = await findings_cursor_on(pilot, app, "EXP-001", "weave-scope-app")
        weave = screen.highlighted
        await pilot.press("p", "enter")
        await wait_for(pilot, lambda: [s.path for s in admin_ui.seen] == ["/gate"], "the probe in flight")

        await pilot.press("x")
        screen = await findings_cursor_on(pilot, app, "RBAC-001", "jenkins-admin")
        jenkins = screen.highlighted
        dialog = await open_dialog(pilot, app, "w", WaiverDialog)
        dialog.query_one("#waiver-reason", Input).value = "replaced by Argo CD"
        dialog.query_one("#waiver-owner", Input).value = "team-ci"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.report.findings[jenkins].waived, "the waiver")
        assert PROBE_RESULTS not in app.report.findings[weave].evidence

        admin_ui.gate.set()
        await wait_for(
            pilot, lambda: PROBE_RESULTS in app.report.findings[weave].evidence, "the answers", tries=1500
        )
        assert app.report.findings[jenkins].waived, "the waiver is still applied"
        assert app.index is not None and app.index.report is app.report
        assert isinstance(app.screen, FindingsScreen) and app.screen.index is app.index


async def test_quitting_mid_probe_stops_the_probe_thread(admin_ui: FakeAdminUI) -> None:
    report = demo_with_targets(admin_ui, "/gate", "/basic")
    app = make_app(report=report, debounce_s=0.0, probe_settings=ProbeSettings(timeout_s=60))
    async with app.run_test(size=SIZE) as pilot:
        await findings_cursor_on(pilot, app, "EXP-001", "weave-scope-app")
        await pilot.press("p", "enter")
        await wait_for(pilot, lambda: bool(admin_ui.seen), "the probe in flight")
        job = app._probe_job
        assert job is not None
        await pilot.press("p")  # one probe at a time: no second dialog
        assert isinstance(app.screen, FindingsScreen)
        await pilot.press("q")
    assert await asyncio.to_thread(job.done.wait, 10), "the probe thread is still running"
    assert job.cancelled


async def test_the_probe_key_is_in_the_help_and_the_palette(admin_ui: FakeAdminUI) -> None:
    app = make_app(report=demo_with_targets(admin_ui, "/open", "/basic"), debounce_s=0.0)
    async with app.run_test(size=SIZE) as pilot:
        await findings_cursor_on(pilot, app, "EXP-001", "weave-scope-app")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "Probe the finding's exposed addresses" in text and "Probe dialog" in text
        await pilot.press("escape", "colon", *"probe")
        await pilot.pause(0.3)
        assert "Probe the finding's exposed addresses" in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ProbeDialog), "the dialog, from the palette")
        await pilot.press("escape")
        assert admin_ui.seen == []


async def test_a_hostile_page_title_is_shown_literally(admin_ui: FakeAdminUI) -> None:
    """The admin UI's answer is data too: its title (markup, an OSC 52) in the notification, the
    message and the evidence is shown, never obeyed."""
    report = demo_with_targets(admin_ui, "/hostile", "/basic")
    app = make_app(report=report, debounce_s=0.0)
    async with app.run_test(size=SIZE) as pilot:
        await findings_cursor_on(pilot, app, "EXP-001", "weave-scope-app")
        await pilot.press("enter", "p", "enter")
        await wait_for(pilot, lambda: app.report is not report, "the answers", tries=1500)
        await pilot.pause()
        text = screen_text(app)  # the detail's message
        assert "'Dash\\x1b]52;c;ZXZpbA==\\x07board [bold]x[/bold]'" in text
        assert "\x1b" not in text and "\x07" not in text
        [notice] = [n for n in app._notifications if n.message.startswith("Probe:")]
        assert "board [bold]x[/bold]" in notice.message and not notice.markup
        assert "\x1b" not in notice.message and "\x07" not in notice.message
        await pilot.press("tab", "end")
        await pilot.pause()
        text = screen_text(app)
        assert 'title: "Dash\\e]52;c;ZXZpbA==\\aboard [bold]x[/bold]"' in text
        assert "\x1b" not in text and "\x07" not in text
