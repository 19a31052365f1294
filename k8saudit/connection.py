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
import ipaddress
import logging
import os
import re
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from isal import isal_zlib

from k8saudit.errors import ConnectionFailure, check_input_file
from k8saudit.redact import without_userinfo

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
    found = [str(p) for p in _kubeconfig_files(paths)]
    if not found:
        shown = ", ".join(str(p) for p in paths)
        hint = "" if explicit else " (set KUBECONFIG or pass --kubeconfig)"
        raise ConnectionFailure(f"no kubeconfig found at {shown}{hint}")
    current = ""
    for path in found:
        data = _validate_kubeconfig_file(path)
        current = current or str(data.get("current-context") or "")
    return os.pathsep.join(found), current


def _kubeconfig_files(paths: list[Path]) -> list[Path]:
    """Those of `paths` that are files; a directory (`--kubeconfig ~/.kube`, not its config file:
    kubectl refuses it too) or a path that cannot be looked at is one ConnectionFailure line."""
    for path in paths:
        check_input_file(path, "a kubeconfig file", ConnectionFailure)
    return [p for p in paths if p.is_file()]


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
    files, current = _existing_kubeconfig(kubeconfig)
    return _context_infos(_merged_kubeconfig(files), current)


def _merged_kubeconfig(files: str) -> dict[str, Any]:
    """The kubeconfig files (joined with os.pathsep) merged as the kubernetes package merges them."""
    from kubernetes.config.kube_config import KubeConfigMerger

    merged = KubeConfigMerger(files).config
    return merged.value if merged is not None else {}


def _entries(config: dict[str, Any], section: str) -> dict[str, dict[str, Any]]:
    """A merged kubeconfig's `clusters`, `contexts` or `users`, by name: each entry's body (the
    mapping under `cluster`, `context` or `user`). Of two entries with one name the first counts,
    as in the kubernetes loader's lookup."""
    body = section.removesuffix("s")
    entries: dict[str, dict[str, Any]] = {}
    for node in config.get(section) or []:
        entries.setdefault(node.value["name"], node.value.get(body) or {})
    return entries


def _context_infos(config: dict[str, Any], current: str) -> list[ContextInfo]:
    clusters = _entries(config, "clusters")
    users = _entries(config, "users")
    infos = []
    for node in config.get("contexts") or []:
        entry = node.value
        ctx = entry.get("context") or {}
        cluster = str(ctx.get("cluster", ""))
        user = str(ctx.get("user", ""))
        server, userinfo = without_userinfo(str(clusters.get(cluster, {}).get("server", "")))
        auth = _auth_kind(users.get(user, {}))
        infos.append(
            ContextInfo(
                name=str(entry["name"]),
                cluster=cluster,
                server=server,
                user=user,
                namespace=str(ctx.get("namespace", "")),
                current=entry["name"] == current,
                auth="basic (in URL)" if auth == "none" and userinfo else auth,
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
    proxy: str | None = field(default=None, repr=False)  # a proxy URL may hold a password
    tls_server_name: str | None = None
    client_cert_file: str | None = None  # a certificate, never the key: read to explain rejections
    plugin: _Plugin | None = None

    @property
    def label(self) -> str:
        """How messages name this cluster: the server and the context."""
        return f"{self.server} (context {self.context!r})"

    def client(self, timeout: httpx.Timeout, max_connections: int = 16) -> httpx.AsyncClient:
        install_log_scrubber()
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        transport = httpx.AsyncHTTPTransport(
            verify=self.ssl_context, limits=limits, proxy=self.proxy, trust_env=False
        )
        return httpx.AsyncClient(
            base_url=self.server,
            auth=self.auth,
            timeout=timeout,
            transport=GunzipWithIsal(transport),
            headers={"User-Agent": "k8saudit (read-only audit)", "Accept-Encoding": "gzip"},
            follow_redirects=False,
            trust_env=False,
            event_hooks={"request": [self._set_tls_server_name]} if self.tls_server_name else None,
        )

    async def _set_tls_server_name(self, request: httpx.Request) -> None:
        """kubeconfig `tls-server-name`: the name sent in SNI and checked against the server's
        certificate, when it differs from the host in the URL (e.g. an API server reached by IP)."""
        request.extensions["sni_hostname"] = self.tls_server_name

    @property
    def notes(self) -> list[str]:
        if self.insecure:
            return ["TLS verification disabled by insecure-skip-tls-verify in the kubeconfig"]
        return []

    def unreachable_message(self, exc: BaseException | None, attempts: int) -> str:
        """The one-line error when the first request cannot get an answer: what failed, for
        which cluster, and the likely fix."""
        kind, detail = diagnose_transport_error(exc) if exc is not None else ("other", "")
        expiry = self._client_cert_expiry() if kind in _MAYBE_CLIENT_CERT else None
        if expiry is not None:
            return (
                f"{self.label} rejected the client certificate: it expired on {expiry}; "
                "renew it or fetch a fresh kubeconfig for this cluster"
            )
        tries = f" ({attempts} attempts)" if attempts > 1 else ""
        if self.proxy and kind in ("refused", "dns", "timeout", "closed", "other"):
            # The proxy may be what failed: name it (never its credentials).
            proxy = httpx.URL(self.proxy).copy_with(username=None, password=None)
            tries += f" through the proxy {proxy} (HTTPS_PROXY, NO_PROXY or the kubeconfig's proxy-url)"
        host = httpx.URL(self.server).host
        messages = {
            "dns": f"cannot resolve {host}, the API server of context {self.context!r} ({self.server}): "
            "check the server address in the kubeconfig, your DNS, or the VPN this cluster needs",
            "refused": f"connection refused by {self.label}{tries}: nothing listens there; check that the "
            "API server is up and the address and port are right (a VPN, tunnel or port-forward may be "
            "down)",
            "untrusted": f"TLS verification of {self.label} failed: its certificate is not signed by the CA "
            "the kubeconfig trusts (certificate-authority-data); fetch a current kubeconfig for this "
            "cluster (k8saudit never falls back to an unverified connection)",
            "hostname": f"TLS verification of {self.label} failed: the server's certificate is not valid "
            f"for {host}; use an address the certificate names, or set tls-server-name in the kubeconfig",
            "client-cert": f"{self.label} rejected the client certificate ({detail}); fetch a fresh "
            "kubeconfig for this cluster",
            "timeout": f"{self.label} did not answer in time{tries}: the server or the network path to "
            "it is down or overloaded; retry, or raise --timeout",
            "closed": f"{self.label} closed the connection without answering{tries}: "
            + (
                "it may have rejected the client certificate; "
                if self.client_cert_file
                else "a proxy or load balancer may be cutting it; "
            )
            + "check that the address is the API server's",
        }
        return messages.get(kind, f"cannot reach {self.label}{tries}: {detail}")

    def unauthorized_message(self) -> str:
        how = f"the exec plugin {self.plugin.command!r}" if self.plugin else "the kubeconfig"
        return (
            f"authentication to {self.server} failed (401 Unauthorized) with context {self.context!r}: "
            f"the credentials from {how} were rejected (expired, revoked, or for another cluster); "
            "log in again or refresh the kubeconfig"
        )

    def not_kubernetes_message(self, version_answer: str) -> str:
        return (
            f"{self.label} does not look like a Kubernetes API server: /version answered "
            f"{version_answer}, and API discovery found no API; check the server address in the "
            "kubeconfig (a web server or a proxy may be answering in its place)"
        )

    def deadline_message(self, deadline_s: float) -> str:
        return (
            f"{self.label} did not answer within the overall deadline ({deadline_s:g}s): the API server "
            "may be overloaded or a proxy is holding the request; retry, or raise --deadline"
        )

    def _client_cert_expiry(self) -> str | None:
        """When the configured client certificate expired ("2024-05-01 12:00 UTC"), or None."""
        if not self.client_cert_file:
            return None
        try:  # the stdlib's own certificate decoder; no extra dependency for one date
            not_after = ssl._ssl._test_decode_cert(self.client_cert_file)["notAfter"]  # type: ignore[attr-defined]
            expires = ssl.cert_time_to_seconds(not_after)
        except (AttributeError, KeyError, OSError, ValueError, ssl.SSLError):
            return None
        if expires > time.time():
            return None
        return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(expires))


class KubeAuth(httpx.Auth):
    """Adds the current credential; on a 401, reloads it once (exec plugins mint a fresh token).

    The kubernetes package re-runs an exec plugin whenever its token is within five minutes of
    expiry, on every credential lookup. A plugin handing out short-lived tokens would then run
    (blocking, as a subprocess) for every request, so that check happens at most every
    `REFRESH_CHECK_S` seconds; a token rejected in between is refreshed by the 401 path.
    """

    REFRESH_CHECK_S = 30.0

    def __init__(
        self,
        load: Callable[[], Any],
        configuration: Any,
        plugin: _Plugin | None = None,
        server_userinfo: str | None = None,
    ) -> None:
        self._load = load  # rebuilds a kubernetes Configuration from scratch
        self._configuration = configuration
        self._plugin = plugin
        self._server_userinfo = server_userinfo  # used only when the user has no credential
        self._lock = threading.Lock()
        self._generation = 0
        self._next_refresh_check = time.monotonic() + self.REFRESH_CHECK_S

    def __repr__(self) -> str:
        return "KubeAuth(<credentials hidden>)"

    def _header(self) -> tuple[int, str | None]:
        with self._lock:
            configuration = self._configuration
            hook = configuration.refresh_api_key_hook
            if hook is not None and time.monotonic() >= self._next_refresh_check:
                self._next_refresh_check = time.monotonic() + self.REFRESH_CHECK_S
                # A failing plugin is logged by the kubernetes package, its output included:
                # captured, never printed. The current token is kept; a 401 will tell.
                with contextlib.suppress(ConnectionFailure), _captured_kubernetes_errors(self._plugin):
                    hook(configuration)
            key = configuration.api_key.get("BearerToken")
            prefix = configuration.api_key_prefix.get("BearerToken")
            return self._generation, (f"{prefix} {key}" if prefix and key else key) or self._server_userinfo

    def _reload(self, seen_generation: int) -> None:
        with self._lock:
            if self._generation != seen_generation:
                return  # another request already fetched a fresh credential
            with _captured_kubernetes_errors(self._plugin):
                self._configuration = self._load()
            self._generation += 1
            self._next_refresh_check = time.monotonic() + self.REFRESH_CHECK_S

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


# -- logs never carry a credential ----------------------------------------------------------------

_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s'\",)\]]+")
_AUTHORIZATION = re.compile(r"(?i)(\bauthorization\b['\"]?\s*[:=,]\s*(?-i:b)?['\"]?)[^'\"\r\n]+")
# The HTTP stack's loggers (a filter sees only records logged on its own logger, not on children),
# and the root logger, where the kubernetes package logs.
_SCRUBBED_LOGGERS = (
    "",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "hpack",
    "kubernetes",
)


class GunzipWithIsal(httpx.AsyncBaseTransport):
    """Inflates gzip answers with ISA-L instead of httpx's zlib decoder. kube-apiserver gzips
    every list page over 128 KiB; at 100k pods that is 602 MiB to inflate, which takes zlib
    0.55 s and ISA-L 0.24 s (`python -m bench.inflate`). Other encodings pass through to httpx."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if response.headers.get("content-encoding", "").strip().lower() != "gzip":
            return response
        headers = [(name, value) for name, value in response.headers.raw if name.lower() not in _ENCODED]
        stream = _Inflated(response.stream)  # type: ignore[arg-type]
        return httpx.Response(
            response.status_code, headers=headers, stream=stream, extensions=response.extensions
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


# The headers that describe the gzipped bytes, not the inflated ones handed on.
_ENCODED = frozenset({b"content-encoding", b"content-length"})


class _Inflated(httpx.AsyncByteStream):
    def __init__(self, gzipped: httpx.AsyncByteStream) -> None:
        self._gzipped = gzipped

    async def __aiter__(self) -> AsyncIterator[bytes]:
        inflater = isal_zlib.decompressobj(wbits=31)  # gzip framing
        try:
            async for chunk in self._gzipped:
                yield inflater.decompress(chunk)
            yield inflater.flush()
        except isal_zlib.error as exc:  # labelled gzip and is not: a broken proxy
            raise httpx.DecodingError(f"the body is labelled gzip but is not: {exc}") from exc

    async def aclose(self) -> None:
        await self._gzipped.aclose()


def scrub_credentials(text: str) -> str:
    """`text` with bearer tokens and Authorization header values replaced."""
    text = _BEARER.sub(r"\1 <redacted>", text)
    return _AUTHORIZATION.sub(r"\1<redacted>", text)


class CredentialLogFilter(logging.Filter):
    """Defence in depth: today neither httpx nor httpcore logs request headers, even at DEBUG; if
    a version ever does, the Authorization header still never reaches a log handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's problem, not ours
            return True
        scrubbed = scrub_credentials(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


_LOG_FILTER = CredentialLogFilter()


def install_log_scrubber() -> None:
    for name in _SCRUBBED_LOGGERS:
        logger = logging.getLogger(name)
        if _LOG_FILTER not in logger.filters:
            logger.addFilter(_LOG_FILTER)


class _LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dataclass(frozen=True, slots=True)
class _Plugin:
    """The exec credential plugin of a context, as far as messages may name it (no arguments:
    they can carry secrets)."""

    context: str
    command: str
    install_hint: str = ""


# The capture swaps the root logger's handlers: two threads loading credentials at once (a fleet
# scan connects in worker threads) would see each other's messages, so they take turns.
_CAPTURE_LOCK = threading.Lock()


@contextlib.contextmanager
def _captured_kubernetes_errors(plugin: _Plugin | None = None) -> Iterator[None]:
    """The config loader logs exec-plugin failures instead of raising: turn them into errors."""
    with _CAPTURE_LOCK, _capturing(plugin):
        yield


@contextlib.contextmanager
def _capturing(plugin: _Plugin | None) -> Iterator[None]:
    from kubernetes.config.config_exception import ConfigException

    capture = _LogCapture()
    root = logging.getLogger()
    previous_handlers, previous_propagate = root.handlers[:], root.propagate
    root.handlers = [capture]
    try:
        yield
    except ConfigException as exc:
        raise ConnectionFailure(f"kubeconfig: {_without_entries(_first_line(exc))}") from None
    except FileNotFoundError as exc:
        raise ConnectionFailure(f"kubeconfig refers to a missing file: {exc.filename}") from None
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ConnectionFailure(f"kubeconfig cannot be used: {_without_entries(_first_line(exc))}") from None
    finally:
        root.handlers = previous_handlers
        root.propagate = previous_propagate
    if capture.messages:
        raise ConnectionFailure(_plugin_failure(capture.messages[0], plugin))


_EXIT_STATUS = re.compile(r"^exec: process returned (-?\d+)")


def _plugin_failure(logged: str, plugin: _Plugin | None) -> str:
    """One line for a failed exec credential plugin.

    The plugin's own output is never repeated: a plugin that fails half-way may print the very
    token it was about to hand over, and this line ends up in terminals, CI logs and tickets.
    """
    if plugin is None:
        return "the credential plugin failed; run it by hand to see why"
    who = f"the exec credential plugin {plugin.command!r} of context {plugin.context!r}"
    hint = f" ({_first_line(plugin.install_hint)})" if plugin.install_hint else ""
    if "No such file or directory" in logged or "WinError 2" in logged:
        return f"{who} is not installed or not on PATH: install it{hint} or fix users[].exec.command"
    if "Permission denied" in logged:
        return f"{who} cannot be run (permission denied): make it executable"
    status = _EXIT_STATUS.match(logged)
    if status:
        return (
            f"{who} failed with exit status {status.group(1)}: run it by hand to see why (its output "
            "is not shown here because it may contain credentials); often a login has expired"
        )
    if "decode process output" in logged or "malformed response" in logged or "missing" in logged:
        return f"{who} printed no usable ExecCredential: run it by hand to check its output"
    if "api version" in logged:
        return f"{who} speaks another client.authentication.k8s.io version than the kubeconfig asks for"
    return f"{who} failed: run it by hand to see why"


# The kubernetes loader names where it found a problem by printing the kubeconfig entry itself,
# a Python dict or list holding its tokens, passwords and client secrets:
# "Expected key id-token in /home/me/.kube/config/{'name': 'oidc', 'user': {...}}".
_ENTRY_REPR = re.compile(r"/?[{\[].*", re.DOTALL)


def _without_entries(message: str) -> str:
    """`message` without the kubeconfig entries it prints (credentials), saying so."""
    cut = _ENTRY_REPR.sub("", message).rstrip(" :/")
    return cut if cut == message else f"{cut} (the entry is not shown: it may hold credentials)"


def _first_line(value: object) -> str:
    text = str(value).strip().splitlines()
    return text[0][:300] if text else type(value).__name__


def connect(kubeconfig: str | None = None, context: str | None = None) -> Connection:
    """A Connection for `context` (default: current) of the kubeconfig, or the in-cluster config."""
    if context == IN_CLUSTER or (context is None and kubeconfig is None and _in_cluster_only()):
        return _connect_in_cluster()
    files, current_context = _existing_kubeconfig(kubeconfig)
    config = _merged_kubeconfig(files)
    contexts = _context_infos(config, current_context)
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
    _check_context_references(config, chosen)

    def load() -> Any:
        from kubernetes.client import Configuration
        from kubernetes.config import load_kube_config

        configuration = Configuration()
        load_kube_config(
            config_file=files, context=chosen, client_configuration=configuration, persist_config=False
        )
        return configuration

    plugin = _plugin_of(config, chosen)
    with _captured_kubernetes_errors(plugin):
        configuration = load()
    return _connection(chosen, configuration, load, plugin)


def _check_context_references(config: dict[str, Any], context: str) -> None:
    """Refuse a context naming a cluster or user the kubeconfig lacks, before any request. The
    kubernetes loader goes on without credentials for an unknown user, so every request would be
    a 401 reported as rejected credentials; an unknown cluster fails in the loader's own words.
    (A context naming no user at all is legitimate: anonymous or proxy-authenticated access.)"""
    references = _entries(config, "contexts").get(context, {})
    for section in ("clusters", "users"):
        role = section.removesuffix("s")
        name = references.get(role)
        if not name:
            continue
        if not isinstance(name, str):  # an inline user instead of a name: never echoed, it may hold a token
            raise ConnectionFailure(
                f"context {context!r}: its {role} must be the name of an entry of {section}"
            )
        if name not in _entries(config, section):
            raise ConnectionFailure(
                f"context {context!r} names {role} {name!r}, which is not in the kubeconfig"
            )


def _plugin_of(config: dict[str, Any], context: str) -> _Plugin | None:
    user_name = _entries(config, "contexts").get(context, {}).get("user")
    exec_config = _entries(config, "users").get(user_name, {}).get("exec")
    if not isinstance(exec_config, dict):
        return None
    command = Path(str(exec_config.get("command", "?"))).name
    return _Plugin(context, command, str(exec_config.get("installHint") or ""))


def _in_cluster_only() -> bool:
    has_kubeconfig = bool(_kubeconfig_files(kubeconfig_paths()))
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


def _connection(
    name: str, configuration: Any, load: Callable[[], Any], plugin: _Plugin | None = None
) -> Connection:
    server = str(configuration.host or "").rstrip("/")
    if not server.startswith(("https://", "http://")):
        raise ConnectionFailure(f"context {name!r} has no usable server address")
    server, userinfo = without_userinfo(server)
    insecure = not configuration.verify_ssl
    return Connection(
        context=name,
        server=server,
        insecure=insecure,
        ssl_context=_ssl_context(configuration, insecure),
        auth=KubeAuth(load, configuration, plugin, userinfo),
        proxy=_proxy_for(configuration, server),
        tls_server_name=getattr(configuration, "tls_server_name", None),
        client_cert_file=configuration.cert_file or None,
        plugin=plugin,
    )


def _proxy_for(configuration: Any, server: str) -> str | None:
    """The proxy to the API server: the kubeconfig's `proxy-url`, else HTTPS_PROXY/HTTP_PROXY
    from the environment, unless NO_PROXY names the server (host, domain suffix, `*`, or a
    CIDR range, as kubectl reads it)."""
    proxy = configuration.proxy or None
    no_proxy = getattr(configuration, "no_proxy", None)
    if proxy and no_proxy and _bypasses_proxy(httpx.URL(server).host, str(no_proxy)):
        return None
    return proxy


def _bypasses_proxy(host: str, no_proxy: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        if address is not None and "/" in entry:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        name = entry.split(":", 1)[0] if entry.count(":") == 1 else entry  # "host:port"
        name = name.lstrip(".")
        if host == name or host.endswith(f".{name}"):
            return True
    return False


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


# Failures where a rejected client certificate is a likely cause (the server drops the
# connection during or right after the TLS handshake).
_MAYBE_CLIENT_CERT = frozenset({"closed", "client-cert", "other"})


def diagnose_transport_error(exc: BaseException) -> tuple[str, str]:
    """(kind, detail) of a failure to talk to the API server. Kinds: dns, refused, untrusted,
    hostname, client-cert, timeout, closed, other."""
    chain = list(_exception_chain(exc))
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, socket.gaierror) for e in chain) or any(
        s in text for s in ("name or service not known", "nodename nor servname", "name resolution")
    ):
        return "dns", "unknown host"
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "connection refused" in text:
        return "refused", "connection refused"
    if "certificate_verify_failed" in text or "certificate verify failed" in text:
        if "hostname" in text or "ip address mismatch" in text:
            return "hostname", "certificate not valid for this host"
        return "untrusted", "certificate not trusted by the kubeconfig's CA"
    for marker, detail in (
        ("certificate expired", "certificate expired"),
        ("certificate_expired", "certificate expired"),
        ("bad certificate", "bad certificate"),
        ("certificate required", "certificate required"),
        ("unknown ca", "certificate signed by a CA it does not trust"),
    ):
        if marker in text:
            return "client-cert", detail
    if isinstance(exc, httpx.TimeoutException):
        return "timeout", "timed out"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "closed", "closed the connection unexpectedly"
    return "other", type(exc).__name__


def describe_transport_error(exc: BaseException, server: str) -> str:
    """One short line for a failed request (coverage messages; the server is named once)."""
    kind, detail = diagnose_transport_error(exc)
    return {
        "dns": f"cannot resolve the API server host of {server}",
        "refused": f"connection refused by {server}",
        "untrusted": f"TLS verification of {server} failed: {detail}",
        "hostname": f"TLS verification of {server} failed: hostname mismatch",
        "client-cert": f"{server} rejected the client certificate: {detail}",
        "timeout": f"timed out talking to {server}",
        "closed": f"{server} closed the connection unexpectedly",
    }.get(kind, f"cannot reach {server}: {detail}")


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__
