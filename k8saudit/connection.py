"""From a kubeconfig context (or the pod's in-cluster config) to an httpx client.

The `kubernetes` package's config loader does the parsing and the credential work (files and
inline data, tokens, token files, client certificates, exec plugins, auth providers). Everything
it produces is turned into one `httpx.AsyncClient`: an `ssl.SSLContext` for the CA and client
certificate, and an `httpx.Auth` that adds the bearer token and fetches a fresh one when the
server answers 401 (an exec plugin's token that expired mid-scan).

Credentials never leave this module: not in messages, not in repr, not in snapshots.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import ssl
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from k8saudit.errors import ConnectionFailure

IN_CLUSTER = "in-cluster"
_DEFAULT_KUBECONFIG = "~/.kube/config"


@dataclass(frozen=True, slots=True)
class ContextInfo:
    """A kubeconfig context as the context picker shows it: never a credential."""

    name: str
    cluster: str
    server: str
    user: str
    namespace: str
    current: bool
    auth: str  # how the user authenticates: token, client-certificate, exec: <cmd>, …


def kubeconfig_paths(explicit: str | None = None) -> list[Path]:
    """The kubeconfig files in effect: `--kubeconfig`, else every file in $KUBECONFIG, else ~/.kube/config."""
    raw = explicit or os.environ.get("KUBECONFIG") or _DEFAULT_KUBECONFIG
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p]


def _existing_kubeconfig(explicit: str | None) -> tuple[str, str]:
    """The kubeconfig files to merge (joined with os.pathsep) and the current context.

    Like kubectl, the first file that sets `current-context` wins (the kubernetes package's
    merger lets the last one win).
    """
    paths = kubeconfig_paths(explicit)
    found = [str(p) for p in paths if p.is_file()]
    if not found:
        shown = ", ".join(str(p) for p in paths)
        hint = "" if explicit else " (set KUBECONFIG or pass --kubeconfig)"
        raise ConnectionFailure(f"no kubeconfig found at {shown}{hint}")
    current = ""
    for path in found:
        data = _validate_kubeconfig_file(path)
        current = current or str(data.get("current-context") or "")
    return os.pathsep.join(found), current


def _validate_kubeconfig_file(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as exc:
        raise ConnectionFailure(f"cannot read kubeconfig {path}: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" (line {where.line + 1})" if where is not None else ""
        raise ConnectionFailure(f"kubeconfig {path} is not valid YAML{at}") from None
    if not isinstance(data, dict):
        raise ConnectionFailure(f"kubeconfig {path} is not a kubeconfig (expected a mapping)")
    for section in ("clusters", "contexts", "users"):
        entries = data.get(section)
        if entries is not None and not (
            isinstance(entries, list) and all(isinstance(e, dict) and "name" in e for e in entries)
        ):
            raise ConnectionFailure(f"kubeconfig {path}: '{section}' must be a list of named entries")
    return data


def list_contexts(kubeconfig: str | None = None) -> list[ContextInfo]:
    """Every context of the merged kubeconfig with its server and user name, current first."""
    from kubernetes.config.kube_config import KubeConfigMerger

    files, current = _existing_kubeconfig(kubeconfig)
    merged = KubeConfigMerger(files).config
    config = merged.value if merged is not None else {}
    clusters = {c.value["name"]: c.value.get("cluster") or {} for c in config.get("clusters") or []}
    users = {u.value["name"]: u.value.get("user") or {} for u in config.get("users") or []}
    infos = []
    for node in config.get("contexts") or []:
        entry = node.value
        ctx = entry.get("context") or {}
        cluster = str(ctx.get("cluster", ""))
        user = str(ctx.get("user", ""))
        infos.append(
            ContextInfo(
                name=str(entry["name"]),
                cluster=cluster,
                server=str(clusters.get(cluster, {}).get("server", "")),
                user=user,
                namespace=str(ctx.get("namespace", "")),
                current=entry["name"] == current,
                auth=_auth_kind(users.get(user, {})),
            )
        )
    infos.sort(key=lambda i: (not i.current, i.name))
    return infos


def _auth_kind(user: dict[str, Any]) -> str:
    if "exec" in user:
        return f"exec: {Path(str((user['exec'] or {}).get('command', '?'))).name}"
    if "auth-provider" in user:
        return f"auth-provider: {(user['auth-provider'] or {}).get('name', '?')}"
    if "token" in user or "tokenFile" in user:
        return "token"
    if "client-certificate" in user or "client-certificate-data" in user:
        return "client certificate"
    if "username" in user:
        return "basic"
    return "none"


@dataclass
class Connection:
    """Where and how to talk to one cluster. Build with `connect()`."""

    context: str
    server: str
    insecure: bool
    ssl_context: ssl.SSLContext = field(repr=False)
    auth: KubeAuth = field(repr=False)
    proxy: str | None = None
    tls_server_name: str | None = None

    def client(self, timeout: httpx.Timeout, max_connections: int = 16) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.server,
            verify=self.ssl_context,
            auth=self.auth,
            timeout=timeout,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            proxy=self.proxy,
            headers={"User-Agent": "k8saudit (read-only audit)"},
            follow_redirects=False,
            trust_env=False,
        )

    @property
    def notes(self) -> list[str]:
        if self.insecure:
            return ["TLS verification disabled by insecure-skip-tls-verify in the kubeconfig"]
        return []


class KubeAuth(httpx.Auth):
    """Adds the current credential; on a 401, reloads it once (exec plugins mint a fresh token)."""

    def __init__(self, load: Callable[[], Any], configuration: Any) -> None:
        self._load = load  # rebuilds a kubernetes Configuration from scratch
        self._configuration = configuration
        self._lock = threading.Lock()
        self._generation = 0

    def __repr__(self) -> str:
        return "KubeAuth(<credentials hidden>)"

    def _header(self) -> tuple[int, str | None]:
        with self._lock:
            return self._generation, self._configuration.get_api_key_with_prefix("BearerToken")

    def _reload(self, seen_generation: int) -> None:
        with self._lock:
            if self._generation != seen_generation:
                return  # another request already fetched a fresh credential
            with _captured_kubernetes_errors():
                self._configuration = self._load()
            self._generation += 1

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        generation, header = self._header()
        if header:
            request.headers["Authorization"] = header
        response = yield request
        if response.status_code != 401 or header is None:
            return
        try:
            self._reload(generation)
        except ConnectionFailure:
            return  # keep the 401: the caller reports it
        _, fresh = self._header()
        if fresh and fresh != header:
            request.headers["Authorization"] = fresh
            yield request


class _LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


# The capture swaps the root logger's handlers: two threads loading credentials at once (a fleet
# scan connects in worker threads) would see each other's messages, so they take turns.
_CAPTURE_LOCK = threading.Lock()


@contextlib.contextmanager
def _captured_kubernetes_errors() -> Iterator[None]:
    """The config loader logs exec-plugin failures instead of raising: turn them into errors."""
    with _CAPTURE_LOCK, _capturing():
        yield


@contextlib.contextmanager
def _capturing() -> Iterator[None]:
    from kubernetes.config.config_exception import ConfigException

    capture = _LogCapture()
    root = logging.getLogger()
    previous_handlers, previous_propagate = root.handlers[:], root.propagate
    root.handlers = [capture]
    try:
        yield
    except ConfigException as exc:
        raise ConnectionFailure(f"kubeconfig: {_first_line(exc)}") from None
    except FileNotFoundError as exc:
        raise ConnectionFailure(f"kubeconfig refers to a missing file: {exc.filename}") from None
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ConnectionFailure(f"kubeconfig cannot be used: {_first_line(exc)}") from None
    finally:
        root.handlers = previous_handlers
        root.propagate = previous_propagate
    if capture.messages:
        raise ConnectionFailure(f"credential plugin failed: {_first_line(capture.messages[0])}")


def _first_line(value: object) -> str:
    text = str(value).strip().splitlines()
    return text[0][:300] if text else type(value).__name__


def connect(kubeconfig: str | None = None, context: str | None = None) -> Connection:
    """A Connection for `context` (default: current) of the kubeconfig, or the in-cluster config."""
    if context == IN_CLUSTER or (context is None and kubeconfig is None and _in_cluster_only()):
        return _connect_in_cluster()
    files, _ = _existing_kubeconfig(kubeconfig)
    contexts = list_contexts(kubeconfig)
    names = [c.name for c in contexts]
    known = ", ".join(names[:10]) or "none"
    if context is None:
        current = [c.name for c in contexts if c.current]
        if not current:
            raise ConnectionFailure(f"kubeconfig has no current context; pass --context (known: {known})")
        context = current[0]
    elif context not in names:
        raise ConnectionFailure(f"context {context!r} not found in kubeconfig (known: {known})")
    chosen = context

    def load() -> Any:
        from kubernetes.client import Configuration
        from kubernetes.config import load_kube_config

        configuration = Configuration()
        load_kube_config(
            config_file=files, context=chosen, client_configuration=configuration, persist_config=False
        )
        return configuration

    with _captured_kubernetes_errors():
        configuration = load()
    return _connection(chosen, configuration, load)


def _in_cluster_only() -> bool:
    has_kubeconfig = any(p.is_file() for p in kubeconfig_paths())
    return not has_kubeconfig and bool(os.environ.get("KUBERNETES_SERVICE_HOST"))


def _connect_in_cluster() -> Connection:
    def load() -> Any:
        from kubernetes.client import Configuration
        from kubernetes.config import load_incluster_config

        configuration = Configuration()
        load_incluster_config(client_configuration=configuration)
        return configuration

    with _captured_kubernetes_errors():
        configuration = load()
    return _connection(IN_CLUSTER, configuration, load)


def _connection(name: str, configuration: Any, load: Callable[[], Any]) -> Connection:
    server = str(configuration.host or "").rstrip("/")
    if not server.startswith(("https://", "http://")):
        raise ConnectionFailure(f"context {name!r} has no usable server address")
    insecure = not configuration.verify_ssl
    return Connection(
        context=name,
        server=server,
        insecure=insecure,
        ssl_context=_ssl_context(configuration, insecure),
        auth=KubeAuth(load, configuration),
        proxy=configuration.proxy or None,
        tls_server_name=getattr(configuration, "tls_server_name", None),
    )


def _ssl_context(configuration: Any, insecure: bool) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=configuration.ssl_ca_cert or None)
        if configuration.cert_file:
            context.load_cert_chain(configuration.cert_file, configuration.key_file or None)
    except (ssl.SSLError, OSError) as exc:
        raise ConnectionFailure(
            f"cannot load the kubeconfig's TLS certificates: {_first_line(exc)}"
        ) from None
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def describe_transport_error(exc: BaseException, server: str) -> str:
    """One line for a failure to reach the API server, naming the likely cause."""
    chain = list(_exception_chain(exc))
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, socket.gaierror) for e in chain) or any(
        s in text for s in ("name or service not known", "nodename nor servname", "name resolution")
    ):
        return f"cannot resolve the API server host of {server}"
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "connection refused" in text:
        return f"connection refused by {server}"
    if "certificate_verify_failed" in text or "certificate verify failed" in text:
        reason = (
            "hostname mismatch" if "hostname" in text else "certificate not trusted by the kubeconfig's CA"
        )
        return f"TLS verification of {server} failed: {reason}"
    if "certificate expired" in text or "certificate_expired" in text:
        return f"{server} rejected the client certificate: certificate expired"
    if "bad certificate" in text or "certificate required" in text or "unknown ca" in text:
        return f"{server} rejected the client certificate"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out talking to {server}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"{server} closed the connection unexpectedly"
    return f"cannot reach {server}: {type(exc).__name__}"


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__
