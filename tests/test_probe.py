"""The opt-in exposure probe, against HTTP(S) servers these tests start on 127.0.0.1.

The exposure checks (EXP-*) are built elsewhere; here a small fake check yields findings with the
evidence contract of `k8saudit.probe` (`probe_targets`).
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import trustme

from k8saudit.cli import main
from k8saudit.model import Finding, Severity, Status, Subject, failed, passed, warned
from k8saudit.probe import (
    LOGIN,
    NO_ANSWER,
    OPEN,
    OTHER,
    PROBE_RESULTS,
    PROBE_TARGETS,
    ProbeSettings,
    ProbeTarget,
    probe,
    probe_findings,
    targets_of,
)
from k8saudit.registry import REGISTRY, CheckMeta
from k8saudit.snapshot import load
from tests.replay import ReplayServer, closed_port_url
from tests.test_report_schema import SCHEMA

HOSTILE_TITLE = "Dash\x1b]52;c;ZXZpbA==\x07board [bold]x[/bold]"


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    client_cert: Any = None


@dataclass
class FakeAdminUI:
    """A small web server with the behaviours exposed admin interfaces have."""

    https: bool = False
    seen: list[Seen] = field(default_factory=list)
    huge_bytes_sent: int = 0
    server: ThreadingHTTPServer | None = None
    ca: trustme.CA | None = None

    def url(self, path: str) -> str:
        assert self.server is not None
        scheme = "https" if self.https else "http"
        return f"{scheme}://127.0.0.1:{self.server.server_address[1]}{path}"

    def start(self) -> FakeAdminUI:
        ui = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def reply(self, status: int, body: bytes = b"", **headers: str) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                cert = self.connection.getpeercert() if ui.https else None
                ui.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, cert))
                page = self.path.split("?")[0]
                if page in ("/open", "/"):
                    body = b"<html><head><title>Kubernetes Dashboard</title></head><body>pods</body></html>"
                    self.reply(200, body, Server="nginx/1.25", Set_Cookie="session=SERVER-SESSION-abc")
                elif page == "/basic":
                    self.reply(401, b"no", WWW_Authenticate='Basic realm="kibana"')
                elif page == "/to-login":
                    self.reply(302, Location="/login?next=/")
                elif page == "/login":
                    form = b'<title>Sign in</title><form><input type="password" name="p"></form>'
                    self.reply(200, form)
                elif page == "/off-host":
                    self.reply(302, Location="http://elsewhere.invalid/steal")
                elif page == "/cookie":
                    self.reply(302, Location="/open", Set_Cookie="sid=SERVER-COOKIE-xyz; Path=/")
                elif page == "/hostile":
                    self.reply(200, f"<title>{HOSTILE_TITLE}</title>".encode())
                elif page == "/error":
                    self.reply(500, b"boom")
                elif page == "/slow":
                    time.sleep(3)
                    self.reply(200, b"late")
                elif page == "/huge":
                    self.send_response(200)
                    self.send_header("Content-Length", str(10 * 2**20))
                    self.end_headers()
                    chunk = b"<title>Grafana</title>" + b"x" * 65_514
                    try:
                        for _ in range(160):
                            self.wfile.write(chunk)
                            ui.huge_bytes_sent += len(chunk)
                    except OSError:
                        pass
                else:
                    self.reply(404)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if self.https:
            self.ca = trustme.CA()
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.ca.issue_cert("127.0.0.1").configure_cert(context)
            self.ca.configure_trust(context)
            context.verify_mode = ssl.CERT_OPTIONAL  # records a client certificate if one were sent
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def admin_ui() -> Iterator[FakeAdminUI]:
    ui = FakeAdminUI().start()
    yield ui
    ui.stop()


@pytest.fixture
def netrc_with_credentials(tmp_path: Path, monkeypatch) -> None:
    """Credentials for 127.0.0.1 in the environment: the probe must not pick them up."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login admin password NETRC-PASSWORD-1\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # a proxy would be refused: not used
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")


def finding_for(*urls: str, status: Status = Status.FAIL, interface: str = "Kubernetes Dashboard") -> Finding:
    make = {Status.FAIL: failed, Status.WARN: warned, Status.PASS: passed}[status]
    finding = make(
        Subject("Service", "ops", "dashboard"),
        "exposes Kubernetes Dashboard to anyone who can reach it",
        **{PROBE_TARGETS: [{"url": u, "interface": interface} for u in urls]},
    )
    finding.check_id = "EXP-900"
    return finding


def assert_no_credentials_sent(ui: FakeAdminUI) -> None:
    assert ui.seen, "the probe reached the server"
    for request in ui.seen:
        assert "authorization" not in request.headers, request
        assert "cookie" not in request.headers, request
        assert "proxy-authorization" not in request.headers
        assert request.client_cert in (None, {}), "no client certificate is presented"


# -- the probe itself -----------------------------------------------------------------------------


async def test_what_each_kind_of_answer_means(admin_ui: FakeAdminUI, netrc_with_credentials) -> None:
    paths = ["/open", "/basic", "/to-login", "/off-host", "/error", "/cookie", "/hostile"]
    results = await probe([ProbeTarget(admin_ui.url(p), "ui") for p in paths], ProbeSettings(timeout_s=5))
    by_path = {r.url.rsplit("/", 1)[1]: r for r in results}

    open_ = by_path["open"]
    assert (open_.access, open_.status, open_.title) == (OPEN, 200, "Kubernetes Dashboard")
    assert "nginx/1.25" in open_.headers["server"]
    assert "set-cookie" not in open_.headers, "a session cookie is a credential: never recorded"
    assert "answered 200 without authentication" in open_.summary()

    assert (by_path["basic"].access, by_path["basic"].status) == (LOGIN, 401)
    assert by_path["basic"].headers["www-authenticate"] == 'Basic realm="kibana"'
    login = by_path["to-login"]
    assert (login.access, login.status, login.title) == (LOGIN, 200, "Sign in")
    assert login.final_url.endswith("/login?next=/")
    off = by_path["off-host"]
    assert (off.access, off.status) == (OTHER, 302) and "elsewhere.invalid" in off.summary()
    assert (by_path["error"].access, by_path["error"].status) == (OTHER, 500)
    assert by_path["cookie"].access == OPEN
    assert by_path["hostile"].title == " ".join(HOSTILE_TITLE.split()), "kept as data; renderers escape it"

    assert [s.path for s in admin_ui.seen].count("/open") == 2  # /open and /cookie -> /open
    assert not any("steal" in s.path for s in admin_ui.seen), "never follows a redirect off-host"
    assert_no_credentials_sent(admin_ui)


async def test_reads_only_a_few_kilobytes(admin_ui: FakeAdminUI) -> None:
    [result] = await probe([ProbeTarget(admin_ui.url("/huge"))], ProbeSettings(max_body_bytes=4096))
    assert (result.access, result.title) == (OPEN, "Grafana")
    time.sleep(0.2)
    assert admin_ui.huge_bytes_sent < 10 * 2**20, "the connection was closed early, not drained"


async def test_timeouts_and_refusals_are_results_not_errors(admin_ui: FakeAdminUI) -> None:
    targets = [ProbeTarget(admin_ui.url("/slow")), ProbeTarget(closed_port_url().replace("https", "http"))]
    slow, refused = await probe(targets, ProbeSettings(timeout_s=0.5))
    assert (slow.access, slow.error) == (NO_ANSWER, "timed out")
    assert (refused.access, refused.error) == (NO_ANSWER, "connection refused")
    assert "did not answer (connection refused)" in refused.summary()


async def test_https_without_verification_and_without_a_client_certificate(netrc_with_credentials) -> None:
    ui = FakeAdminUI(https=True).start()
    try:
        [result] = await probe([ProbeTarget(ui.url("/open"))])
    finally:
        ui.stop()
    assert (result.access, result.title) == (OPEN, "Kubernetes Dashboard"), "a self-signed UI still counts"
    assert_no_credentials_sent(ui)


def test_only_well_formed_http_targets_are_accepted() -> None:
    good = [
        {"url": "http://203.0.113.7:30080/", "interface": "Dashboard"},
        {"scheme": "https", "host": "dash.example.com", "port": 443, "path": "/ui"},
        {"scheme": "http", "host": "2001:db8::1", "port": 8080},
    ]
    assert [ProbeTarget.from_evidence(e).url for e in good] == [  # type: ignore[union-attr]
        "http://203.0.113.7:30080/",
        "https://dash.example.com/ui",
        "http://[2001:db8::1]:8080/",
    ]
    for bad in (
        {"url": "file:///etc/passwd"},
        {"url": "ftp://host/"},
        {"url": "http://user:pass@host/"},
        {"url": "http:///nohost"},
        {"scheme": "gopher", "host": "h"},
        {"host": ""},
        "http://host/",
        {"url": 5},
    ):
        assert ProbeTarget.from_evidence(bad) is None, bad


def test_targets_come_from_failing_and_warning_findings_deduplicated_and_capped() -> None:
    urls = [f"http://10.0.0.{i}:30080/" for i in range(30)]
    findings = [
        finding_for(*urls[:20]),
        finding_for(*urls[10:30], status=Status.WARN),
        finding_for("http://10.9.9.9/", status=Status.PASS),
    ]
    targets, skipped = targets_of(findings, limit=20)
    assert [t.url for t in targets] == urls[:20] and skipped == 10
    assert "http://10.9.9.9/" not in {t.url for t in targets_of(findings, 100)[0]}


async def test_results_are_attached_to_every_finding_naming_the_address(admin_ui: FakeAdminUI) -> None:
    shared = admin_ui.url("/open")
    findings = [finding_for(shared, admin_ui.url("/basic")), finding_for(shared, status=Status.WARN)]
    run = await probe_findings(findings, ProbeSettings(limit=20))
    assert len(run.results) == 2 and [s.path for s in admin_ui.seen].count("/open") == 1
    for finding in findings:
        assert finding.message.endswith(
            f"probe confirmed: {shared} answered 200 without authentication, title 'Kubernetes Dashboard'"
        )
        assert finding.evidence[PROBE_RESULTS][0]["access"] == OPEN
        assert finding.status in (Status.FAIL, Status.WARN), "the probe adds evidence, the check decides"
    again = findings[0].message
    from k8saudit.probe import attach

    attach(findings, run)
    assert findings[0].message == again, "attaching twice changes nothing"
    assert "tried 2 address(es)" in run.note() and "127.0.0.1" in run.note()


# -- through the CLI -----------------------------------------------------------------------------


@pytest.fixture
def fake_exposure_check(monkeypatch) -> list[str]:
    """A stand-in for the exposure checks: one failing finding per URL in the returned list."""
    urls: list[str] = []

    def exposed(inv: Any, ctx: Any) -> Iterator[Finding]:
        for i, url in enumerate(urls):
            yield failed(
                Subject("Service", "ops", f"dashboard-{i}"),
                "exposes Kubernetes Dashboard to anyone who can reach it",
                **{PROBE_TARGETS: [{"url": url, "interface": "Kubernetes Dashboard"}]},
            )

    meta = CheckMeta(
        id="EXP-900",
        title="fake exposure check for the probe tests",
        area="exposure",
        severity=Severity.CRITICAL,
        rationale="test",
        remediation="test",
        references=("https://example.com",),
        inputs=("services",),
        function=exposed,
    )
    monkeypatch.setitem(REGISTRY, "EXP-900", meta)
    return urls


def scan(kubeconfig: Path, out: Path, *extra: str) -> int:
    return main(["scan", "--kubeconfig", str(kubeconfig), "-o", str(out), "-q", "--format", "json", *extra])


def test_never_probes_unless_asked(
    replay_server: ReplayServer, admin_ui: FakeAdminUI, fake_exposure_check: list[str], tmp_path: Path, capsys
) -> None:
    fake_exposure_check.append(admin_ui.url("/open"))
    assert scan(replay_server.write_kubeconfig(tmp_path / "k"), tmp_path / "s.json") == 0
    report = json.loads(capsys.readouterr().out)
    assert admin_ui.seen == []
    assert "probe" not in report["collection"]
    assert not any("probe" in note for note in report["collection"]["notes"])
    assert main(["scan", "--kubeconfig", "x", "--probe-limit", "3"]) == 1
    assert "--probe-limit and --probe-timeout need --probe" in capsys.readouterr().err


def test_scan_probe_records_evidence_that_survives_the_snapshot(
    replay_server: ReplayServer,
    admin_ui: FakeAdminUI,
    fake_exposure_check: list[str],
    tmp_path: Path,
    capsys,
    netrc_with_credentials,
    monkeypatch,
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # the cluster connection honours the environment
    fake_exposure_check.extend(admin_ui.url(p) for p in ("/open", "/basic", "/open?again=1"))
    out = tmp_path / "s.json"
    assert scan(replay_server.write_kubeconfig(tmp_path / "k"), out, "--probe", "--probe-limit", "2") == 0
    report = json.loads(capsys.readouterr().out)
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    assert not list(validator.iter_errors(report)), "the documented report schema holds"
    probe_run = report["collection"]["probe"]
    assert [r["url"] for r in probe_run["results"]] == [admin_ui.url("/open"), admin_ui.url("/basic")]
    assert probe_run["skipped"] == 1 and probe_run["limit"] == 2
    note = next(n for n in report["collection"]["notes"] if n.startswith("exposure probe"))
    assert "tried 2 address(es)" in note and "1 more not probed (--probe-limit 2)" in note
    fake = [x for x in report["findings"] if x["check_id"] == "EXP-900"]
    assert "probe confirmed" in fake[0]["message"] and fake[0]["evidence"][PROBE_RESULTS][0]["status"] == 200
    assert "asks for credentials (401" in fake[1]["message"]
    assert PROBE_RESULTS not in fake[2]["evidence"], "beyond the limit: not probed"
    assert len(admin_ui.seen) == 2
    assert_no_credentials_sent(admin_ui)

    # Offline, the checks run again and the probe's results come back from the snapshot.
    assert main(["report", str(out)]) == 0
    text = capsys.readouterr().out
    assert "probe confirmed" in text and "Note: exposure probe (--probe)" in text
    assert load(out).collection.probe is not None
    assert len(admin_ui.seen) == 2, "reports never probe"


def test_hostile_titles_are_inert_in_the_text_report(
    replay_server: ReplayServer, admin_ui: FakeAdminUI, fake_exposure_check: list[str], tmp_path: Path, capsys
) -> None:
    fake_exposure_check.append(admin_ui.url("/hostile"))
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "k")
    assert main(["scan", "--kubeconfig", str(kubeconfig), "--no-save", "-q", "--probe"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b]52;c;" in out


def test_the_real_exposure_check_feeds_the_probe(
    replay_server: ReplayServer, admin_ui: FakeAdminUI, tmp_path: Path, capsys, monkeypatch
) -> None:
    """EXP-001 on a Weave Scope LoadBalancer whose address is a local server: probed end to end."""
    from tests import factories as fx

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    port = int(admin_ui.url("/").rsplit(":", 1)[1].split("/")[0])
    scope = fx.container("app", "weaveworks/scope:1.13.2", ports=[4040])
    deployment = fx.deployment("weave-scope-app", "weave", containers=[scope])
    pod = fx.pod("weave-scope-app-1", "weave", labels={"app": "weave-scope-app"}, containers=[scope])
    service = fx.service("weave-scope-app", "weave", type="LoadBalancer", ports=[port])
    service["status"]["loadBalancer"] = {"ingress": [{"ip": "127.0.0.1"}]}
    replay_server.add_objects("apps", "v1", "deployments", [deployment])
    replay_server.add_objects("", "v1", "pods", [pod])
    replay_server.add_objects("", "v1", "services", [service])
    assert scan(replay_server.write_kubeconfig(tmp_path / "k"), tmp_path / "s.json", "--probe") == 0
    report = json.loads(capsys.readouterr().out)
    [finding] = [
        x
        for x in report["findings"]
        if x["check_id"] == "EXP-001" and x["subject"]["name"] == "weave-scope-app"
    ]
    assert finding["status"] == "warn", "a loopback address counts as not public, so warn"
    [result] = finding["evidence"][PROBE_RESULTS]
    assert result["url"] == admin_ui.url("/") and result["interface"] == "Weave Scope"
    assert result["status"] == 200 and result["access"]
    assert "probe" in finding["message"]
    assert_no_credentials_sent(admin_ui)
