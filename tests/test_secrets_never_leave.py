"""Secrets never leave the cluster: canaries planted everywhere a secret can hide must not appear
in the snapshot, any report format, any log record (DEBUG included) or any error message.

Formats are read from the CLI parser, so formats added later (markdown, sarif, junit…) are
covered without touching this test. The TUI's screen text is covered by the TUI's own tests
(screens/ render the same report; see tests/test_tui*.py once it lands).
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import logging
from pathlib import Path

import pytest
import yaml

from k8saudit.cli import build_parser, main
from k8saudit.connection import CredentialLogFilter, connect, scrub_credentials
from k8saudit.redact import LAST_APPLIED
from tests import factories as f
from tests.replay import ReplayServer

CANARIES = {
    "secret data": "CANARY-secret-data-0a1b",
    "secret stringData": "CANARY-secret-stringdata-2c3d",
    "pod env literal": "CANARY-pod-env-4e5f",
    "deployment env literal": "CANARY-deploy-env-6a7b",
    "flag value": "CANARY-flag-value-8c9d",
    "flag=value": "CANARY-flag-eq-0e1f",
    "last-applied Secret manifest": "CANARY-last-applied-2a3b",
    "last-applied Deployment manifest": "CANARY-last-applied-deploy-4c5d",
    "ConfigMap outside the allow-list": "CANARY-configmap-6e7f",
    "ConfigMap binaryData": "CANARY-configmap-binary-8a9b",
    "Secret sent in full by a server ignoring metadata-only": "CANARY-full-secret-0c1d",
    "kubeconfig token": "CANARY-kubeconfig-token-2e3f",
}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def forms(canary: str) -> tuple[str, ...]:
    """A canary as it could leak: plain, base64 (Secret data), JSON-escaped inside a manifest."""
    return canary, b64(canary), json.dumps(canary)[1:-1]


def plant(srv: ReplayServer) -> None:
    c = CANARIES
    applied_secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "applied", "namespace": "shop"},
        "stringData": {"password": c["last-applied Secret manifest"]},
    }
    srv.add_objects(
        "",
        "v1",
        "secrets",
        [
            {
                "metadata": {"name": "canary", "namespace": "shop"},
                "data": {"token": b64(c["secret data"])},
                "stringData": {"password": c["secret stringData"]},
                "type": "Opaque",
            },
            {
                "metadata": {
                    "name": "applied",
                    "namespace": "shop",
                    "annotations": {LAST_APPLIED: json.dumps(applied_secret)},
                },
                "data": {"password": b64(c["last-applied Secret manifest"])},
            },
        ],
    )
    leaky = f.container(
        "app",
        env=[{"name": "API_TOKEN", "value": c["pod env literal"]}],
        args=["--db-password", c["flag value"], f"--api-key={c['flag=value']}"],
    )
    srv.add_objects("", "v1", "pods", [f.pod("leaky", "shop", containers=[leaky])])
    deploy_env = [{"name": "DB_PASSWORD", "value": c["deployment env literal"]}]
    applied_deployment = f.deployment("api", "shop", containers=[f.container("api", env=deploy_env)])
    applied_deployment["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = c[
        "last-applied Deployment manifest"
    ]
    deployment = f.deployment(
        "api",
        "shop",
        containers=[f.container("api", env=deploy_env)],
        annotations={LAST_APPLIED: json.dumps({"apiVersion": "apps/v1", **applied_deployment})},
    )
    srv.add_objects("apps", "v1", "deployments", [deployment])
    srv.add_objects(
        "",
        "v1",
        "configmaps",
        [
            f.configmap(
                "app-config",
                "shop",
                data={"DATABASE_URL": f"postgres://app:{c['ConfigMap outside the allow-list']}@db:5432/app"},
                binaryData={"keystore": b64(c["ConfigMap binaryData"])},
            )
        ],
    )
    srv.add_token(c["kubeconfig token"], "admin")


def serve_full_secrets(srv: ReplayServer) -> None:
    """An API server (or a proxy in front of it) that ignores the metadata-only Accept header."""
    full = {
        "apiVersion": "v1",
        "kind": "SecretList",
        "metadata": {"resourceVersion": "1"},
        "items": [
            {
                "metadata": {"name": "full", "namespace": "shop"},
                "data": {"key": b64(CANARIES["Secret sent in full by a server ignoring metadata-only"])},
                "type": "Opaque",
            }
        ],
    }
    srv.fail("/api/v1/secrets", 200, times=None, body=full)


def format_choices(command: str) -> list[str]:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    fmt = next(a for a in subparsers.choices[command]._actions if a.dest == "format")
    return list(fmt.choices)


def assert_clean(where: str, text: str, extra_secrets: tuple[str, ...] = ()) -> None:
    for vector, canary in CANARIES.items():
        for form in forms(canary):
            assert form not in text, f"{vector} leaked into {where}"
    for secret in extra_secrets:
        assert secret not in text, f"a credential leaked into {where}"
    assert "Bearer " not in text, f"an Authorization header leaked into {where}"


def log_text(records: list[logging.LogRecord]) -> str:
    parts = []
    for record in records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        if record.exc_text:
            parts.append(record.exc_text)
    return "\n".join(parts)


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # root at DEBUG: httpx, httpcore, kubernetes, asyncio, all
    return caplog


def files_under(root: Path) -> dict[str, str]:
    texts = {}
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            texts[str(path)] = data.decode("utf-8", errors="replace")
    return texts


@pytest.mark.parametrize("full_secrets", [False, True], ids=["metadata-only", "server-sends-values"])
def test_canaries_never_leave_the_cluster(
    replay_server: ReplayServer, tmp_path: Path, capsys, debug_logs, full_secrets: bool
) -> None:
    plant(replay_server)
    if full_secrets:
        serve_full_secrets(replay_server)
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "kubeconfig", token=CANARIES["kubeconfig token"])
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    snapshot = out_dir / "snap.json.gz"
    for fmt in format_choices("scan"):
        code = main(["scan", "--kubeconfig", str(kubeconfig), "-o", str(snapshot), "-q", "--format", fmt])
        assert code == 0, fmt
        out, err = capsys.readouterr()
        assert out.strip(), f"scan --format {fmt} printed nothing"
        assert_clean(f"scan --format {fmt} stdout", out)
        assert_clean(f"scan --format {fmt} stderr", err)
    for fmt in format_choices("report"):
        assert main(["report", str(snapshot), "--format", fmt]) == 0
        out, err = capsys.readouterr()
        assert_clean(f"report --format {fmt}", out + err)
    for path, text in files_under(out_dir).items():
        assert_clean(path, text)
    raw = gzip.decompress(snapshot.read_bytes()).decode()
    assert "API_TOKEN" in raw and "DATABASE_URL" in raw and "keystore" in raw, "names and keys are kept"
    listed = ('"full"',) if full_secrets else ('"canary"', '"applied"')
    assert all(name in raw for name in listed), "Secrets are listed by name"
    assert_clean("the log records", log_text(debug_logs.records))
    assert any(r.name.startswith("httpcore") for r in debug_logs.records), "DEBUG logging was on"


def test_client_key_never_leaves_the_process(
    replay_server: ReplayServer, tmp_path: Path, capsys, debug_logs
) -> None:
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "kubeconfig", auth="cert")
    user = yaml.safe_load(kubeconfig.read_text())["users"][0]["user"]
    key_pem = base64.b64decode(user["client-key-data"]).decode()
    key_lines = tuple(line for line in key_pem.splitlines() if line and not line.startswith("-----"))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for fmt in format_choices("scan"):
        args = ["scan", "--kubeconfig", str(kubeconfig), "-o", str(out_dir / "s.json"), "-q", "--format", fmt]
        assert main(args) == 0
        out, err = capsys.readouterr()
        assert_clean(f"scan --format {fmt}", out + err, (*key_lines, user["client-key-data"]))
    for path, text in files_under(out_dir).items():
        assert_clean(path, text, key_lines)
    assert_clean("the log records", log_text(debug_logs.records), key_lines)
    assert {r.auth for r in replay_server.requests} == {"cert"}


def test_connection_repr_holds_no_credential(replay_server: ReplayServer, tmp_path: Path) -> None:
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "kubeconfig", token=CANARIES["kubeconfig token"])
    connection = connect(str(kubeconfig))
    assert_clean("repr(Connection)", repr(connection) + repr(connection.auth) + str(vars(connection)))


def test_rejected_credentials_are_not_quoted_in_errors(
    replay_server: ReplayServer, tmp_path: Path, capsys, debug_logs
) -> None:
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "kubeconfig", token="CANARY-wrong-token-1a2b")
    assert main(["scan", "--kubeconfig", str(kubeconfig), "--no-save", "-q"]) == 2
    err = capsys.readouterr().err
    assert "401 Unauthorized" in err
    for text in (err, log_text(debug_logs.records)):
        assert "CANARY-wrong-token-1a2b" not in text and "Bearer " not in text


def test_a_failing_plugin_mid_scan_is_not_echoed_to_the_terminal(
    replay_server: ReplayServer, tmp_path: Path, capsys, monkeypatch, debug_logs
) -> None:
    """The kubernetes package logs a failing exec plugin's stderr (where a half-done plugin may
    print its token) when it refreshes a token; that log must never reach the user."""
    from k8saudit.connection import KubeAuth
    from tests.replay.kubeconfig import set_exec_tokens

    kubeconfig = replay_server.write_kubeconfig(
        tmp_path / "kubeconfig", auth="exec", exec_tokens=["t1"], identity="admin", exec_expires_in=60
    )
    monkeypatch.setattr(KubeAuth, "REFRESH_CHECK_S", 0.0)  # check expiry on every request
    connection = connect(str(kubeconfig))
    # From now on the plugin fails, printing a secret on stderr.
    script = kubeconfig.with_name(f"{kubeconfig.name}.exec-plugin.py")
    script.write_text("import sys\nsys.stderr.write('CANARY-plugin-token-3c4d')\nsys.exit(1)\n")
    set_exec_tokens(kubeconfig, "replay", ["t1"])
    import asyncio

    from k8saudit.collector import Collector

    inventory, _ = asyncio.run(Collector(connection).collect())
    assert inventory.coverage_of("pods").state == "ok", "the current token is kept and still works"
    _, err = capsys.readouterr()
    assert "CANARY-plugin-token-3c4d" not in err + log_text(debug_logs.records)


@pytest.mark.parametrize(
    "message",
    [
        "send_request_headers.started headers=[(b'Authorization', b'Bearer CANARY-hdr-5e6f')]",
        "Authorization: Bearer CANARY-hdr-5e6f",
        "retrying with authorization=Basic CANARY-hdr-5e6f",
    ],
)
def test_log_filter_scrubs_authorization_values_from_http_loggers(message: str, caplog) -> None:
    """Defence in depth, should httpx/httpcore ever log request headers."""
    from k8saudit.connection import install_log_scrubber

    install_log_scrubber()
    caplog.set_level(logging.DEBUG)
    for name in ("httpcore.http11", "httpx", "kubernetes", ""):
        logging.getLogger(name).debug("%s", message)
    assert len(caplog.records) == 4
    assert all("CANARY-hdr-5e6f" not in r.getMessage() for r in caplog.records)
    assert (
        scrub_credentials("GET /apis/rbac.authorization.k8s.io/v1")
        == "GET /apis/rbac.authorization.k8s.io/v1"
    )
    assert isinstance(logging.getLogger("httpcore.http11").filters[0], CredentialLogFilter)
