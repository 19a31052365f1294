"""Every way of not reaching the cluster: exit code 2 and ONE line saying what failed, for which
context or server, and the likely fix. Never a traceback, never a credential, never a silent
fallback to an unverified connection."""

from __future__ import annotations

import base64
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml

from k8saudit.cli import main
from tests.replay import ReplayServer, closed_port_url

TOKEN_CANARY = "CANARY-kubeconfig-token-5d1e"
PLUGIN_CANARY = "CANARY-plugin-stderr-token-77c2"


def edit_kubeconfig(path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    document = yaml.safe_load(path.read_text())
    change(document)
    path.write_text(yaml.safe_dump(document))
    return path


def set_user(path: Path, user: dict[str, Any]) -> Path:
    return edit_kubeconfig(path, lambda d: d["users"][0].__setitem__("user", user))


def set_cluster(path: Path, **fields: Any) -> Path:
    return edit_kubeconfig(path, lambda d: d["clusters"][0]["cluster"].update(fields))


def exec_user(command: str, *args: str, install_hint: str | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": command,
        "args": list(args),
        "interactiveMode": "Never",
    }
    if install_hint:
        config["installHint"] = install_hint
    return {"exec": config}


@dataclass
class Case:
    """A broken setup: returns (kubeconfig, extra CLI args); `expected` are fragments of the line."""

    setup: Callable[[ReplayServer, Path], tuple[Path, list[str]]]
    expected: tuple[str, ...]


def _missing(srv: ReplayServer, tmp: Path) -> tuple[Path, list[str]]:
    return tmp / "absent-kubeconfig", []


def _directory(srv: ReplayServer, tmp: Path) -> tuple[Path, list[str]]:
    path = tmp / ".kube"
    srv.write_kubeconfig(path / "config")
    return path, []


def _not_yaml(srv: ReplayServer, tmp: Path) -> tuple[Path, list[str]]:
    path = tmp / "config"
    path.write_text(f"users: [{{token: {TOKEN_CANARY}\n")
    return path, []


def _not_a_kubeconfig(srv: ReplayServer, tmp: Path) -> tuple[Path, list[str]]:
    path = tmp / "config"
    path.write_text(f"clusters: {{token: {TOKEN_CANARY}}}\n")
    return path, []


def _unknown_context(srv: ReplayServer, tmp: Path) -> tuple[Path, list[str]]:
    return srv.write_kubeconfig(tmp / "config", token=TOKEN_CANARY), ["--context", "nope"]


def _plugin_not_installed(srv: ReplayServer, tmp: Path) -> tuple[Path, list[str]]:
    path = srv.write_kubeconfig(tmp / "config")
    hint = "Install aws-iam-authenticator: https://docs.aws.amazon.com/eks/latest/userguide/"
    return set_user(path, exec_user("k8saudit-no-such-plugin", "token", install_hint=hint)), []


def _plugin_fails(srv: ReplayServer, tmp: Path) -> tuple[Path, list[str]]:
    # A plugin that dies half-way, printing the token it was about to hand over.
    script = f"import sys; sys.stderr.write('refresh failed for token {PLUGIN_CANARY}\\n'); sys.exit(3)"
    return set_user(srv.write_kubeconfig(tmp / "config"), exec_user(sys.executable, "-c", script)), []


def _plugin_prints_garbage(srv: ReplayServer, tmp: Path) -> tuple[Path, list[str]]:
    script = f"print('token={PLUGIN_CANARY}')"
    return set_user(srv.write_kubeconfig(tmp / "config"), exec_user(sys.executable, "-c", script)), []


def _unknown_host(srv: ReplayServer, tmp: Path) -> tuple[Path, list[str]]:
    return set_cluster(srv.write_kubeconfig(tmp / "config"), server="https://kube.example.invalid:6443"), []


def _refused(srv: ReplayServer, tmp: Path) -> tuple[Path, list[str]]:
    path = srv.write_kubeconfig(
        tmp / "config", extra_contexts=[{"name": "down", "server": closed_port_url()}]
    )
    return path, ["--context", "down"]


def _untrusted_ca(srv: ReplayServer, tmp: Path) -> tuple[Path, list[str]]:
    foreign = base64.b64encode(trustme.CA().cert_pem.bytes()).decode()
    return set_cluster(srv.write_kubeconfig(tmp / "config"), **{"certificate-authority-data": foreign}), []


def _expired_client_certificate(srv: ReplayServer, tmp: Path) -> tuple[Path, list[str]]:
    cert = srv.issue_client_cert("admin", expired=True)
    user = {
        "client-certificate-data": base64.b64encode(cert.cert_path.read_bytes()).decode(),
        "client-key-data": base64.b64encode(cert.key_path.read_bytes()).decode(),
    }
    return set_user(srv.write_kubeconfig(tmp / "config"), user), []


def _rejected_token(srv: ReplayServer, tmp: Path) -> tuple[Path, list[str]]:
    return srv.write_kubeconfig(tmp / "config", token=TOKEN_CANARY), []


def _server_hangs(srv: ReplayServer, tmp: Path) -> tuple[Path, list[str]]:
    srv.hang()  # accepts connections, never answers: the overall deadline ends the wait
    return srv.write_kubeconfig(tmp / "config"), ["--deadline", "1"]


def _oidc_without_id_token(srv: ReplayServer, tmp: Path) -> tuple[Path, list[str]]:
    provider = {
        "name": "oidc",
        "config": {"client-id": "k", "client-secret": TOKEN_CANARY, "refresh-token": TOKEN_CANARY},
    }
    return set_user(srv.write_kubeconfig(tmp / "config"), {"auth-provider": provider}), []


def _token_at_the_wrong_level(srv: ReplayServer, tmp: Path) -> tuple[Path, list[str]]:
    def misplace(document: dict[str, Any]) -> None:
        document["users"][0] = {"name": document["users"][0]["name"], "token": TOKEN_CANARY}

    return edit_kubeconfig(srv.write_kubeconfig(tmp / "config"), misplace), []


CASES: dict[str, Case] = {
    "missing kubeconfig": Case(_missing, ("no kubeconfig found at", "absent-kubeconfig")),
    "kubeconfig is a directory": Case(_directory, (".kube is a directory; expected a kubeconfig file",)),
    "kubeconfig not YAML": Case(_not_yaml, ("is not valid YAML (line ",)),
    "not a kubeconfig": Case(_not_a_kubeconfig, ("'clusters' must be a list of named entries",)),
    # The kubernetes loader prints the whole entry, secrets and all, to say where it looked.
    "oidc entry without id-token": Case(
        _oidc_without_id_token, ("Expected key id-token", "the entry is not shown: it may hold credentials")
    ),
    "token at the wrong level": Case(
        _token_at_the_wrong_level, ("Expected key user", "the entry is not shown: it may hold credentials")
    ),
    "unknown context": Case(_unknown_context, ("context 'nope' not found", "known: replay")),
    "exec plugin not installed": Case(
        _plugin_not_installed,
        ("'k8saudit-no-such-plugin'", "context 'replay'", "not installed or not on PATH", "Install aws-iam"),
    ),
    "exec plugin fails": Case(
        _plugin_fails, ("exec credential plugin", "context 'replay'", "exit status 3", "run it by hand")
    ),
    "exec plugin prints garbage": Case(_plugin_prints_garbage, ("printed no usable ExecCredential",)),
    "unknown host": Case(
        _unknown_host, ("cannot resolve kube.example.invalid", "context 'replay'", "check the server address")
    ),
    "connection refused": Case(
        _refused, ("connection refused by https://127.0.0.1:", "(context 'down')", "API server is up")
    ),
    "untrusted server certificate": Case(
        _untrusted_ca,
        ("TLS verification of https://127.0.0.1", "not signed by the CA", "never falls back"),
    ),
    "expired client certificate": Case(
        _expired_client_certificate, ("rejected the client certificate", "expired on", "renew it")
    ),
    "rejected token": Case(
        _rejected_token, ("401 Unauthorized", "context 'replay'", "log in again or refresh the kubeconfig")
    ),
    "server never answers": Case(
        _server_hangs, ("did not answer within the overall deadline (1s)", "context 'replay'", "--deadline")
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_connection_failure_is_one_clear_line_and_exit_2(
    replay_server: ReplayServer, tmp_path: Path, capsys, name: str
) -> None:
    case = CASES[name]
    kubeconfig, args = case.setup(replay_server, tmp_path)
    code = main(["scan", "--kubeconfig", str(kubeconfig), "--no-save", "-q", *args])
    out, err = capsys.readouterr()
    replay_server.unhang()
    assert code == 2, (name, err)
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("k8saudit: error: "), err
    for fragment in case.expected:
        assert fragment in err, (fragment, err)
    for secret in (TOKEN_CANARY, PLUGIN_CANARY, "admin-token", "Traceback", "BEGIN"):
        assert secret not in err, (secret, err)


def test_tls_failure_never_falls_back_to_an_unverified_connection(
    replay_server: ReplayServer, tmp_path: Path, capsys
) -> None:
    kubeconfig, _ = _untrusted_ca(replay_server, tmp_path)
    assert main(["scan", "--kubeconfig", str(kubeconfig), "--no-save", "-q"]) == 2
    assert replay_server.requests == [], "no HTTP request may follow a failed TLS verification"


def test_hostname_mismatch_is_named(tmp_path: Path, capsys) -> None:
    # The server certificate names 127.0.0.1 and localhost; 127.0.0.2 reaches the same host.
    with ReplayServer(host="127.0.0.2") as srv:
        kubeconfig = srv.write_kubeconfig(tmp_path / "config")
        assert main(["scan", "--kubeconfig", str(kubeconfig), "--no-save", "-q"]) == 2
        assert srv.requests == []
    err = capsys.readouterr().err
    assert "not valid for 127.0.0.2" in err and "tls-server-name" in err, err


def test_a_dead_proxy_is_named_without_its_credentials(
    replay_server: ReplayServer, tmp_path: Path, capsys, monkeypatch
) -> None:
    proxy = closed_port_url().replace("https://", "http://proxyuser:PROXY-PASSWORD-9f@")
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "config")
    assert main(["scan", "--kubeconfig", str(kubeconfig), "--no-save", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "through the proxy http://127.0.0.1:" in err, err
    assert "PROXY-PASSWORD-9f" not in err and "proxyuser" not in err


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "127.0.0.0/8", "localhost,127.0.0.1:6443,127.0.0.1", "*"])
def test_no_proxy_is_honoured(
    replay_server: ReplayServer, tmp_path: Path, capsys, monkeypatch, no_proxy: str
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", closed_port_url().replace("https", "http"))
    monkeypatch.setenv("NO_PROXY", no_proxy)
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "config")
    assert main(["scan", "--kubeconfig", str(kubeconfig), "--no-save", "-q"]) == 0, capsys.readouterr().err
