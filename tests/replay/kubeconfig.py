"""Write real kubeconfig files for tests: token, client certificate, exec plugin or token file.

The exec plugin is a small Python script run with ``sys.executable``. It speaks
``client.authentication.k8s.io/v1`` and hands out the tokens listed in a side file one by one —
each call returns the next token, the last one repeats — with an ``expirationTimestamp``, so a
test can expire the first token on the server and watch the client fetch a fresh one.
"""

from __future__ import annotations

import base64
import json
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

AuthKind = Literal["token", "cert", "exec", "token-file", "none"]

EXEC_API_VERSION = "client.authentication.k8s.io/v1"

EXEC_PLUGIN_SOURCE = '''\
"""Test exec credential plugin written by tests/replay/kubeconfig.py."""
import datetime
import fcntl
import json
import sys

with open(sys.argv[1], "r+") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    state = json.load(f)
    calls = state.get("calls", 0)
    entries = state["tokens"]
    entry = entries[min(calls, len(entries) - 1)]
    state["calls"] = calls + 1
    f.seek(0)
    f.truncate()
    json.dump(state, f)

if isinstance(entry, str):
    entry = {"token": entry}
ttl = entry.get("expires_in", state.get("expires_in", 3600))
expiry = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=ttl)
json.dump(
    {
        "apiVersion": "@API_VERSION@",
        "kind": "ExecCredential",
        "status": {
            "token": entry["token"],
            "expirationTimestamp": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    },
    sys.stdout,
)
'''.replace("@API_VERSION@", EXEC_API_VERSION)


@dataclass
class ContextSpec:
    """One context (with its own cluster and user entries) of a kubeconfig.

    ``exec_tokens`` entries are a token string or ``{"token": ..., "expires_in": seconds}``.
    """

    name: str
    server: str
    ca_pem: bytes | None = None
    insecure: bool = False
    auth: AuthKind = "token"
    token: str | None = None
    client_cert_pem: bytes | None = None
    client_key_pem: bytes | None = None
    exec_tokens: Sequence[str | dict[str, Any]] | None = None
    exec_expires_in: int = 3600
    namespace: str | None = None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def exec_tokens_path(kubeconfig: str | Path, context: str) -> Path:
    """The side file holding the exec plugin's tokens for ``context``."""
    kubeconfig = Path(kubeconfig)
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in context)
    return kubeconfig.with_name(f"{kubeconfig.name}.{safe}.exec-tokens.json")


def exec_plugin_calls(kubeconfig: str | Path, context: str) -> int:
    """How many times the exec plugin of ``context`` has been run."""
    return json.loads(exec_tokens_path(kubeconfig, context).read_text()).get("calls", 0)


def set_exec_tokens(kubeconfig: str | Path, context: str, tokens: Sequence[str | dict[str, Any]]) -> None:
    """Replace the tokens the exec plugin hands out from now on (its call count restarts)."""
    path = exec_tokens_path(kubeconfig, context)
    state = json.loads(path.read_text())
    state.update(tokens=list(tokens), calls=0)
    path.write_text(json.dumps(state))


def _user_entry(spec: ContextSpec, kubeconfig: Path) -> dict[str, Any]:
    if spec.auth == "none":
        return {}
    if spec.auth == "token":
        if spec.token is None:
            raise ValueError(f"context {spec.name}: auth='token' needs a token")
        return {"token": spec.token}
    if spec.auth == "token-file":
        if spec.token is None:
            raise ValueError(f"context {spec.name}: auth='token-file' needs a token")
        token_file = kubeconfig.with_name(f"{kubeconfig.name}.{spec.name}.token")
        # No trailing newline: the kubernetes Python client does not strip one.
        token_file.write_text(spec.token)
        return {"tokenFile": str(token_file)}
    if spec.auth == "cert":
        if spec.client_cert_pem is None or spec.client_key_pem is None:
            raise ValueError(f"context {spec.name}: auth='cert' needs a client cert and key")
        return {
            "client-certificate-data": _b64(spec.client_cert_pem),
            "client-key-data": _b64(spec.client_key_pem),
        }
    if spec.auth == "exec":
        tokens = list(spec.exec_tokens or ([spec.token] if spec.token else []))
        if not tokens:
            raise ValueError(f"context {spec.name}: auth='exec' needs exec_tokens or a token")
        script = kubeconfig.with_name(f"{kubeconfig.name}.exec-plugin.py")
        script.write_text(EXEC_PLUGIN_SOURCE)
        side = exec_tokens_path(kubeconfig, spec.name)
        side.write_text(json.dumps({"tokens": tokens, "calls": 0, "expires_in": spec.exec_expires_in}))
        return {
            "exec": {
                "apiVersion": EXEC_API_VERSION,
                "command": sys.executable,
                "args": [str(script), str(side)],
                "interactiveMode": "Never",
                "provideClusterInfo": False,
            }
        }
    raise ValueError(f"unknown auth kind: {spec.auth!r}")


def write_kubeconfig(
    path: str | Path, contexts: Sequence[ContextSpec], current_context: str | None = None
) -> Path:
    """Write a kubeconfig with one cluster and one user per context; returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not contexts:
        raise ValueError("a kubeconfig needs at least one context")
    names = [c.name for c in contexts]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate context names: {names}")
    clusters, users, ctx_entries = [], [], []
    for spec in contexts:
        cluster: dict[str, Any] = {"server": spec.server}
        if spec.insecure:
            cluster["insecure-skip-tls-verify"] = True
        elif spec.ca_pem is not None:
            cluster["certificate-authority-data"] = _b64(spec.ca_pem)
        clusters.append({"name": f"{spec.name}-cluster", "cluster": cluster})
        users.append({"name": f"{spec.name}-user", "user": _user_entry(spec, path)})
        context: dict[str, Any] = {"cluster": f"{spec.name}-cluster", "user": f"{spec.name}-user"}
        if spec.namespace:
            context["namespace"] = spec.namespace
        ctx_entries.append({"name": spec.name, "context": context})
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": clusters,
        "users": users,
        "contexts": ctx_entries,
        "current-context": current_context or contexts[0].name,
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    path.chmod(0o600)
    return path


def closed_port_url() -> str:
    """An ``https://127.0.0.1:PORT`` URL where nothing listens (for an unreachable cluster).

    The port was free a moment ago; nothing in the tests binds ephemeral ports explicitly, so it
    stays closed in practice.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"https://127.0.0.1:{port}"
