"""A fake kube-apiserver for tests: real socket, real TLS, real recorded responses.

The server runs an asyncio loop in a background thread (one loop serves any number of keep-alive
connections; slow, dropped and hung answers are coroutines, not blocked threads). It answers from:

- the discovery documents recorded from a kube-apiserver v1.24 (editable: version, extra API
  groups such as ``velero.io/v1``, removed group-versions);
- a :class:`~tests.replay.store.ResourceStore` seeded with every recorded list, served with real
  ``limit``/``continue`` paging, metadata-only lists on request, and single-object GETs;
- the recorded error bodies (401, 403, 404, 410) and the recorded SelfSubjectRulesReview.

Everything a test needs to break the conversation is on :class:`ReplayServer`: ``forbid``,
``fail``, ``expire_continue``, ``slow``, ``drop``, ``corrupt``, ``hang``, ``expire_token``; and
``enforce_rbac(identity)`` makes RBAC over the stored roles and bindings decide what an identity
may read (:mod:`tests.replay.rbac`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import gzip
import hashlib
import http
import ssl
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson
import trustme

from . import kubeconfig as kc
from .faults import Fault, FaultTable, RequestTarget
from .rbac import RBAC_GROUP, Authorizer, RequestAttributes, groups_of
from .recorded import Recordings, load_recordings
from .store import (
    Collection,
    ContinueError,
    ResourceStore,
    decode_continue,
    encode_continue,
    gc_paused,
)

DEFAULT_TOKENS = {"admin-token": "admin"}
DEFAULT_VERBS = ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"]
# kube-apiserver gzips answers above 128 KiB when the client accepts gzip (APIResponseCompression).
GZIP_THRESHOLD = 128 * 1024
JSON = "application/json"
SECRET_VALUE_PREFIX = "replay-secret-value"

_PARTIAL_ACCEPT = "as=partialobjectmetadata"
_BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_NOT_ALLOWED = "the server does not allow this method on the requested resource"


@dataclass
class RequestRecord:
    """One request as the server saw it. The credential itself is never stored."""

    method: str
    path: str
    params: dict[str, str]
    accept: str
    identity: str | None
    auth: str | None  # "token", "cert" or None (unauthenticated)
    user_agent: str
    time: float
    status: int | None = None  # None until answered (e.g. while hung)
    fault: str | None = None  # the fault kind that shaped the answer, if any


class ClientCert(NamedTuple):
    """PEM files of a client certificate; unpacks as ``(cert_path, key_path)``."""

    cert_path: Path
    key_path: Path


@dataclass
class _Request:
    method: str
    target: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class _Response:
    status: int
    body: bytes
    content_type: str = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ResourcePath:
    """A parsed ``/api/...`` or ``/apis/...`` path."""

    group: str
    version: str
    resource: str | None = None  # None: the group-version discovery document
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None


def parse_resource_path(path: str) -> ResourcePath | None:
    segs = [s for s in path.split("/") if s]
    if len(segs) >= 2 and segs[0] == "api":
        group, version, rest = "", segs[1], segs[2:]
    elif len(segs) >= 3 and segs[0] == "apis":
        group, version, rest = segs[1], segs[2], segs[3:]
    else:
        return None
    if not rest:
        return ResourcePath(group, version)
    if (
        rest[0] == "namespaces"
        and len(rest) >= 3
        and not (len(rest) == 3 and rest[2] in ("status", "finalize"))
    ):
        return ResourcePath(
            group,
            version,
            resource=rest[2],
            namespace=rest[1],
            name=rest[3] if len(rest) > 3 else None,
            subresource="/".join(rest[4:]) or None,
        )
    return ResourcePath(
        group,
        version,
        resource=rest[0],
        name=rest[1] if len(rest) > 1 else None,
        subresource="/".join(rest[2:]) or None,
    )


def _status(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None, **meta: Any
) -> bytes:
    body: dict[str, Any] = {"apiVersion": "v1", "code": code}
    if details:
        body["details"] = details
    body.update(kind="Status", message=message, metadata=meta, reason=reason, status="Failure")
    return orjson.dumps(body)


def _default_fault_body(status: int, retry_after: float | int | None) -> tuple[bytes, str]:
    if status == 404:
        return b"404 page not found\n", "text/plain; charset=utf-8"
    known = {
        400: ("BadRequest", "the server rejected our request for an unknown reason"),
        409: ("Conflict", "the server reported a conflict"),
        429: ("TooManyRequests", "Too many requests, please try again later."),
        500: (
            "InternalError",
            'an error on the server ("") has prevented the request from succeeding',
        ),
        503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
        504: ("Timeout", "the server was unable to return a response in the time allotted"),
    }
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    reason, message = known.get(status, (phrase.replace(" ", ""), phrase))
    details = {"retryAfterSeconds": int(retry_after)} if retry_after is not None else None
    return _status(status, reason, message, details), JSON


def _peer_common_name(peercert: Any) -> str | None:
    if not peercert:
        return None
    for rdn in peercert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return None


def _storage_version_hash(group: str, version: str, kind: str) -> str:
    return base64.b64encode(hashlib.sha256(f"{group}/{version}/{kind}".encode()).digest()[:8]).decode()


class ReplayServer:
    """Fake kube-apiserver over HTTPS on 127.0.0.1 (see the module docstring).

    Use as ``with ReplayServer() as srv:`` or ``start()``/``stop()``. ``tokens`` maps bearer
    tokens to identities (default ``{"admin-token": "admin"}``).
    """

    def __init__(
        self,
        tokens: Mapping[str, str] | None = None,
        *,
        fixtures: str | Path | None = None,
        load_recorded: bool = True,
        compress: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.recordings: Recordings = load_recordings(str(fixtures) if fixtures else None)
        self.host, self._want_port, self.compress = host, port, compress
        self._lock = threading.RLock()
        self._tokens: dict[str, str] = dict(DEFAULT_TOKENS if tokens is None else tokens)
        self._expired_tokens: set[str] = set()
        self._requests: list[RequestRecord] = []
        self.errors: list[str] = []  # unexpected exceptions inside the server (a test bug)
        self._faults = FaultTable()
        self._tmp = tempfile.TemporaryDirectory(prefix="k8saudit-replay-")
        self.tmp_path = Path(self._tmp.name)

        self._ca = trustme.CA(organization_name="k8saudit replay CA")
        self._server_cert = self._ca.issue_cert("127.0.0.1", "localhost", common_name="kube-apiserver")
        self.ca_pem_bytes: bytes = self._ca.cert_pem.bytes()
        self.ca_pem_path: Path = self.tmp_path / "ca.pem"
        self.ca_pem_path.write_bytes(self.ca_pem_bytes)

        self._init_discovery()
        self.store = ResourceStore()
        # Identities whose requests RBAC decides (identity -> extra groups); others are admins.
        self._rbac_enforced: dict[str, tuple[str, ...]] = {}
        self.authorizer = Authorizer(lambda resource: self.store.objects((RBAC_GROUP, "v1", resource)))
        if load_recorded:
            self._load_recorded_objects()

        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._hang_event: asyncio.Event | None = None
        self._hung = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._closing = False
        self.port: int | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("ReplayServer is not started")
        return f"https://{self.host}:{self.port}"

    def __enter__(self) -> ReplayServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> ReplayServer:
        if self._thread is not None:
            raise RuntimeError("ReplayServer already started")
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(self._loop_exception)
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="replay-server", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._astart(), loop).result(timeout=30)
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or loop.is_closed():
            self._tmp.cleanup()
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._astop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        if not thread.is_alive():
            loop.close()
        self._tmp.cleanup()

    def _server_ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._server_cert.configure_cert(ctx)
        self._ca.configure_trust(ctx)
        # Client certificates are optional (token auth needs none) but verified when sent: an
        # expired or foreign certificate fails the handshake, as on a real apiserver.
        ctx.verify_mode = ssl.CERT_OPTIONAL
        return ctx

    async def _astart(self) -> None:
        self._hang_event = asyncio.Event()
        if not self._hung:
            self._hang_event.set()
        self._server = await asyncio.start_server(
            self._serve_connection,
            self.host,
            self._want_port,
            ssl=self._server_ssl_context(),
            backlog=1024,
            ssl_handshake_timeout=30,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _astop(self) -> None:
        self._closing = True
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()

    def _loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, (ConnectionError, ssl.SSLError, asyncio.CancelledError, TimeoutError)):
            return  # clients going away, rejected handshakes: part of the job
        self.errors.append(f"{context.get('message')}: {exc!r}")

    # ------------------------------------------------------------------ auth

    def add_token(self, token: str, identity: str) -> None:
        with self._lock:
            self._tokens[token] = identity
            self._expired_tokens.discard(token)

    def expire_token(self, token: str) -> None:
        """From now on ``token`` gets 401, as when a token expires mid-scan."""
        with self._lock:
            self._expired_tokens.add(token)

    def issue_client_cert(
        self, identity: str, expired: bool = False, groups: str | None = None
    ) -> ClientCert:
        """A client certificate (CN = identity, O = groups) signed by the server's CA.

        ``expired=True``: notAfter is in the past, so the TLS handshake rejects it.
        """
        now = datetime.datetime.now(datetime.UTC)
        validity = (
            {
                "not_before": now - datetime.timedelta(days=30),
                "not_after": now - datetime.timedelta(days=1),
            }
            if expired
            else {}
        )
        leaf = self._ca.issue_cert(
            "client.replay.invalid", common_name=identity, organization_name=groups, **validity
        )
        stem = hashlib.sha256(f"{identity}/{expired}/{uuid.uuid4()}".encode()).hexdigest()[:12]
        cert_path = self.tmp_path / f"client-{stem}.crt"
        key_path = self.tmp_path / f"client-{stem}.key"
        cert_path.write_bytes(leaf.cert_chain_pems[0].bytes())
        key_path.write_bytes(leaf.private_key_pem.bytes())
        return ClientCert(cert_path, key_path)

    def _authenticate(
        self, headers: Mapping[str, str], cert_identity: str | None
    ) -> tuple[str | None, str | None]:
        # kube-apiserver tries x509 before bearer tokens; the first that succeeds wins.
        if cert_identity:
            return cert_identity, "cert"
        scheme, _, value = headers.get("authorization", "").partition(" ")
        token = value.strip()
        if scheme.lower() == "bearer" and token:
            with self._lock:
                identity = None if token in self._expired_tokens else self._tokens.get(token)
            if identity:
                return identity, "token"
        return None, None

    def enforce_rbac(self, identity: str, groups: Sequence[str] = ()) -> None:
        """From now on, requests by ``identity`` are authorized by RBAC over the stored roles and
        bindings (see :mod:`tests.replay.rbac`), as a member of ``groups`` plus
        ``system:authenticated``: what no binding allows gets the real 403 answer."""
        with self._lock:
            self._rbac_enforced[identity] = tuple(groups)

    def _groups(self, identity: str) -> tuple[str, ...] | None:
        with self._lock:
            extra = self._rbac_enforced.get(identity)
        return None if extra is None else groups_of(identity, extra)

    @staticmethod
    def _attributes(
        request: _Request, rpath: ResourcePath | None, identity: str, groups: tuple[str, ...]
    ) -> RequestAttributes:
        method = request.method.lower()
        if rpath is None or rpath.resource is None:  # discovery, /version, /healthz...
            return RequestAttributes(identity, groups, method, False, path=request.path)
        if request.method == "GET":
            watching = request.params.get("watch") in ("1", "true")
            verb = "watch" if watching else ("get" if rpath.name else "list")
        else:
            verb = {"post": "create", "put": "update", "patch": "patch"}.get(method, method)
            if verb == "delete" and not rpath.name:
                verb = "deletecollection"
        return RequestAttributes(
            identity,
            groups,
            verb,
            True,
            api_group=rpath.group,
            resource=rpath.resource,
            subresource=rpath.subresource or "",
            namespace=rpath.namespace or "",
            name=rpath.name or "",
        )

    # ------------------------------------------------------------------ discovery

    def _init_discovery(self) -> None:
        self._version: dict[str, Any] = {}
        self._api: dict[str, Any] = {}
        self._apis: dict[str, Any] = {}
        self._gv_docs: dict[tuple[str, str], dict[str, Any]] = {}
        for rec in self.recordings.discovery():
            if rec.path == "/version":
                self._version = rec.body_copy()
            elif rec.path == "/api":
                self._api = rec.body_copy()
            elif rec.path == "/apis":
                self._apis = rec.body_copy()
            else:
                parsed = parse_resource_path(rec.path)
                assert parsed is not None and parsed.resource is None, rec.path
                self._gv_docs[(parsed.group, parsed.version)] = rec.body_copy()
        self._discovery_changed()

    def _discovery_changed(self) -> None:
        resources: dict[Collection, dict[str, Any]] = {}
        for (group, version), doc in self._gv_docs.items():
            for res in doc.get("resources", ()):
                if "/" not in res["name"]:
                    resources[(group, version, res["name"])] = res
        with self._lock:
            self._resources = resources
            self._discovery_cache: dict[str, bytes] = {}

    def _served_versions(self, group: str) -> list[str]:
        if group == "":
            return list(self._api.get("versions", []))
        for g in self._apis.get("groups", []):
            if g["name"] == group:
                return [v["version"] for v in g["versions"]]
        return []

    def _discovery_document(self, path: str) -> dict[str, Any] | None:
        if path in ("/version", "/version/"):  # the kubernetes client asks for "/version/"
            return self._version
        if path == "/api":
            return self._api
        if path == "/apis":
            return self._apis
        segs = [s for s in path.split("/") if s]
        if len(segs) == 2 and segs[0] == "apis":
            for g in self._apis.get("groups", []):
                if g["name"] == segs[1]:
                    return {"apiVersion": "v1", "kind": "APIGroup", **g}
            return None
        parsed = parse_resource_path(path)
        if parsed is None or parsed.resource is not None:
            return None
        if parsed.version not in self._served_versions(parsed.group):
            return None
        return self._gv_docs.get((parsed.group, parsed.version))

    def _discovery_bytes(self, path: str) -> bytes | None:
        with self._lock:
            cached = self._discovery_cache.get(path)
            if cached is None:
                doc = self._discovery_document(path)
                if doc is None:
                    return None
                cached = self._discovery_cache[path] = orjson.dumps(doc)
            return cached

    def set_version(self, git_version: str | None = None, **fields: Any) -> None:
        """Override ``/version``: ``git_version="v1.29.3"`` also sets major/minor; other keyword
        arguments set fields by their JSON name (``platform="linux/arm64"``)."""
        with self._lock:
            if git_version is not None:
                self._version["gitVersion"] = git_version
                core = git_version.lstrip("v").split("+")[0].split("-")[0].split(".")
                if len(core) >= 2:
                    self._version["major"], self._version["minor"] = core[0], core[1]
            self._version.update(fields)
        self._discovery_changed()

    def serve_group(
        self,
        group: str,
        version: str,
        resources: Sequence[Mapping[str, Any]],
        *,
        preferred: bool = False,
    ) -> None:
        """Serve a (custom) API group-version: in ``/apis``, its own ``/apis/G/V`` document and
        list/get routes for its resources. Each resource is ``{"name", "kind", "namespaced"}``
        plus optional ``verbs``, ``singularName``, ``shortNames``, ``categories``."""
        docs = []
        for res in resources:
            entry: dict[str, Any] = {
                "kind": res["kind"],
                "name": res["name"],
                "namespaced": bool(res.get("namespaced", True)),
                "singularName": res.get("singularName", res["kind"].lower()),
                "storageVersionHash": res.get(
                    "storageVersionHash", _storage_version_hash(group, version, res["kind"])
                ),
                "verbs": list(res.get("verbs", DEFAULT_VERBS)),
            }
            for optional in ("shortNames", "categories"):
                if optional in res:
                    entry[optional] = list(res[optional])
            docs.append(entry)
        group_version = f"{group}/{version}" if group else version
        with self._lock:
            self._gv_docs[(group, version)] = {
                "apiVersion": "v1",
                "groupVersion": group_version,
                "kind": "APIResourceList",
                "resources": docs,
            }
            if group == "":
                if version not in self._api.setdefault("versions", []):
                    self._api["versions"].append(version)
            else:
                self._add_group_version(group, version, preferred)
        self._discovery_changed()

    def _add_group_version(self, group: str, version: str, preferred: bool) -> None:
        gv = {"groupVersion": f"{group}/{version}", "version": version}
        groups = self._apis.setdefault("groups", [])
        for g in groups:
            if g["name"] == group:
                if all(v["version"] != version for v in g["versions"]):
                    g["versions"].append(gv)
                if preferred:
                    g["preferredVersion"] = dict(gv)
                return
        groups.append({"name": group, "preferredVersion": dict(gv), "versions": [gv]})

    def remove_group_version(self, group: str, version: str) -> None:
        """Stop serving ``group/version`` (from ``/apis`` or ``/api``, its document and routes),
        as an older or newer apiserver would."""
        with self._lock:
            self._gv_docs.pop((group, version), None)
            if group == "":
                self._api["versions"] = [v for v in self._api.get("versions", []) if v != version]
            else:
                kept = []
                for g in self._apis.get("groups", []):
                    if g["name"] == group:
                        g["versions"] = [v for v in g["versions"] if v["version"] != version]
                        if not g["versions"]:
                            continue
                        if g["preferredVersion"]["version"] == version:
                            g["preferredVersion"] = dict(g["versions"][0])
                    kept.append(g)
                self._apis["groups"] = kept
        self._discovery_changed()

    def resource_info(self, group: str, version: str, resource: str) -> dict[str, Any] | None:
        """The discovery entry of a served resource (``None`` if not served)."""
        with self._lock:
            if version not in self._served_versions(group):
                return None
            return self._resources.get((group, version, resource))

    # ------------------------------------------------------------------ objects

    def _load_recorded_objects(self) -> None:
        max_rv = 1
        for rec in self.recordings.full_lists():
            parsed = parse_resource_path(rec.path)
            assert parsed is not None and parsed.resource is not None, rec.path
            items = rec.body_copy()["items"]
            if parsed.resource == "secrets":
                items = [self._full_secret(item) for item in items]
            self.store.set((parsed.group, parsed.version, parsed.resource), items)
            max_rv = max(max_rv, int(rec.body["metadata"].get("resourceVersion", "1")))
        # The recorded lists all carry the same resourceVersion; keep it so continue tokens match.
        self.store.resource_version = max_rv

    @staticmethod
    def _full_secret(item: dict[str, Any]) -> dict[str, Any]:
        """A full Secret from a recorded PartialObjectMetadata item: the data keys come from its
        managedFields (``f:data``), the values are synthetic."""
        meta = item["metadata"]
        keys: list[str] = []
        for mf in meta.get("managedFields", ()):
            for field_name in (mf.get("fieldsV1") or {}).get("f:data", {}):
                if field_name.startswith("f:") and field_name[2:] not in keys:
                    keys.append(field_name[2:])
        data = {
            k: base64.b64encode(f"{SECRET_VALUE_PREFIX}:{meta['name']}:{k}".encode()).decode()
            for k in keys or ["value"]
        }
        return {"data": data, "metadata": meta, "type": "Opaque"}

    def add_objects(self, group: str, version: str, resource: str, items: Iterable[dict[str, Any]]) -> int:
        """Add objects (same namespace/name replaces). The store keeps its own serialized copy:
        changing ``items`` afterwards has no effect."""
        return self.store.add((group, version, resource), items)

    def set_objects(self, group: str, version: str, resource: str, items: Iterable[dict[str, Any]]) -> int:
        """Replace the whole collection."""
        return self.store.set((group, version, resource), items)

    def remove_object(
        self, group: str, version: str, resource: str, name: str, namespace: str | None = None
    ) -> bool:
        return self.store.remove((group, version, resource), name, namespace)

    def objects(
        self, group: str, version: str, resource: str, namespace: str | None = None
    ) -> list[dict[str, Any]]:
        """Copies of the stored objects in list order."""
        return self.store.objects((group, version, resource), namespace)

    def load(
        self, collections: Mapping[Collection, Iterable[dict[str, Any]]], *, replace: bool = False
    ) -> None:
        """Add (or with ``replace=True`` replace) several collections, e.g. from
        :func:`tests.replay.generate.generate_cluster`."""
        with gc_paused():
            for collection, items in collections.items():
                (self.store.set if replace else self.store.add)(collection, items)

    # ------------------------------------------------------------------ faults

    def forbid(
        self,
        resource_path_or_resource_name: str,
        identity: str | None = None,
        times: int | None = None,
    ) -> Fault:
        """403 Forbidden (recorded Status shape, message naming user and resource)."""
        return self._faults.add(
            Fault("forbid", resource_path_or_resource_name, identity=identity, times=times)
        )

    def fail(
        self,
        path: str | None,
        status: int,
        times: int | None = 1,
        retry_after: float | int | None = None,
        body: bytes | str | Mapping[str, Any] | None = None,
        identity: str | None = None,
        continued_only: bool = False,
    ) -> Fault:
        """Answer ``status`` (429 with ``Retry-After``, 500, 503, 404 ...) with a Status body (404:
        the recorded plain-text body) unless ``body`` is given. ``continued_only``: only requests
        for page 2 onwards (carrying a ``continue`` token)."""
        return self._faults.add(
            Fault(
                "fail",
                path,
                identity=identity,
                times=times,
                status=status,
                retry_after=retry_after,
                body=body,
                continued_only=continued_only,
            )
        )

    def expire_continue(self, path: str | None, times: int | None = 1, identity: str | None = None) -> Fault:
        """410 Expired (the recorded body, with a fresh continue token) for requests carrying a
        ``continue`` token."""
        return self._faults.add(Fault("expire_continue", path, identity=identity, times=times))

    def slow(
        self,
        path: str | None,
        seconds: float,
        times: int | None = None,
        identity: str | None = None,
    ) -> Fault:
        """Wait ``seconds`` before answering."""
        return self._faults.add(Fault("slow", path, identity=identity, times=times, seconds=seconds))

    def drop(
        self,
        path: str | None,
        times: int | None = 1,
        identity: str | None = None,
        continued_only: bool = False,
    ) -> Fault:
        """Send the headers and part of the body, then close the connection without TLS
        close_notify. ``continued_only``: only pages after the first."""
        return self._faults.add(
            Fault("drop", path, identity=identity, times=times, continued_only=continued_only)
        )

    def corrupt(
        self,
        path: str | None,
        times: int | None = 1,
        mode: str = "truncated",
        identity: str | None = None,
        continued_only: bool = False,
    ) -> Fault:
        """200 with a body that is truncated JSON (``mode="truncated"``), not JSON at all
        (``mode="invalid"``) or labelled ``Content-Encoding: gzip`` without being gzip
        (``mode="gzip"``: a broken compressing proxy); Content-Length matches what is sent.
        ``continued_only``: only pages after the first."""
        if mode not in ("truncated", "invalid", "gzip"):
            raise ValueError("mode must be 'truncated', 'invalid' or 'gzip'")
        return self._faults.add(
            Fault("corrupt", path, identity=identity, times=times, mode=mode, continued_only=continued_only)
        )

    def hang(self) -> None:
        """Accept connections and read requests but answer nothing until :meth:`unhang`."""
        self._set_hung(True)

    def unhang(self) -> None:
        self._set_hung(False)

    def _set_hung(self, hung: bool) -> None:
        self._hung = hung
        loop, event = self._loop, self._hang_event
        if loop is None or event is None or loop.is_closed():
            return
        setter = event.clear if hung else event.set
        with contextlib.suppress(RuntimeError):  # loop stopping
            loop.call_soon_threadsafe(setter)
            # Make the change visible before returning to the caller.
            asyncio.run_coroutine_threadsafe(asyncio.sleep(0), loop).result(timeout=10)

    def clear_faults(self) -> None:
        """Remove every fault and end a hang."""
        self._faults.clear()
        self.unhang()

    def pending_faults(self) -> list[Fault]:
        return self._faults.pending()

    # ------------------------------------------------------------------ request log

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def requests_to(self, path: str, method: str | None = None) -> list[RequestRecord]:
        return [r for r in self.requests if r.path == path and (method is None or r.method == method)]

    # ------------------------------------------------------------------ kubeconfig

    def context_spec(
        self,
        name: str = "replay",
        *,
        auth: kc.AuthKind = "token",
        token: str | None = "admin-token",
        identity: str | None = None,
        exec_tokens: Sequence[str | dict[str, Any]] | None = None,
        exec_expires_in: int = 3600,
        insecure: bool = False,
        server: str | None = None,
        namespace: str | None = None,
    ) -> kc.ContextSpec:
        """A kubeconfig context for this server. ``identity``: register the context's token(s)
        under that identity (token auth) / the client certificate's CN (cert auth, default
        ``admin``)."""
        spec = kc.ContextSpec(
            name=name,
            server=server or self.url,
            ca_pem=None if insecure else self.ca_pem_bytes,
            insecure=insecure,
            auth=auth,
            token=token,
            exec_tokens=exec_tokens,
            exec_expires_in=exec_expires_in,
            namespace=namespace,
        )
        if auth == "cert":
            cert = self.issue_client_cert(identity or "admin")
            spec.client_cert_pem = cert.cert_path.read_bytes()
            spec.client_key_pem = cert.key_path.read_bytes()
        elif identity is not None:
            for entry in list(exec_tokens or ()) + ([token] if token else []):
                self.add_token(entry if isinstance(entry, str) else entry["token"], identity)
        return spec

    def write_kubeconfig(
        self,
        path: str | Path,
        *,
        context: str = "replay",
        auth: kc.AuthKind = "token",
        token: str | None = "admin-token",
        identity: str | None = None,
        exec_tokens: Sequence[str | dict[str, Any]] | None = None,
        exec_expires_in: int = 3600,
        insecure: bool = False,
        namespace: str | None = None,
        extra_contexts: Sequence[kc.ContextSpec | Mapping[str, Any]] = (),
    ) -> Path:
        """Write a kubeconfig whose current context points at this server.

        ``extra_contexts``: more contexts, as ContextSpec or as keyword dicts for
        :meth:`context_spec` (e.g. ``{"name": "down", "server": kc.closed_port_url()}``).
        """
        specs = [
            self.context_spec(
                context,
                auth=auth,
                token=token,
                identity=identity,
                exec_tokens=exec_tokens,
                exec_expires_in=exec_expires_in,
                insecure=insecure,
                namespace=namespace,
            )
        ]
        for extra in extra_contexts:
            specs.append(extra if isinstance(extra, kc.ContextSpec) else self.context_spec(**extra))
        return kc.write_kubeconfig(path, specs, current_context=context)

    # ------------------------------------------------------------------ HTTP

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if self._closing:
            writer.transport.abort()
            return
        self._tasks.add(task)
        self._writers.add(writer)
        cert_identity = _peer_common_name(writer.get_extra_info("peercert"))
        try:
            while not self._closing:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    return
                try:
                    request = self._parse_head(head)
                    request.body = await self._read_body(reader, request.headers)
                except ValueError:
                    writer.write(_BAD_REQUEST)
                    await writer.drain()
                    return
                if not await self._answer(request, cert_identity, writer):
                    return
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    @staticmethod
    def _parse_head(head: bytes) -> _Request:
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep:
                raise ValueError(f"bad header line {line!r}")
            headers[name.strip().lower()] = value.strip()
        parts = urlsplit(target)
        return _Request(
            method=method.upper(),
            target=target,
            path=unquote(parts.path) or "/",
            params=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=headers,
        )

    @staticmethod
    async def _read_body(reader: asyncio.StreamReader, headers: Mapping[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":
                        pass
                    return b"".join(chunks)
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
        length = int(headers.get("content-length", "0") or "0")
        return await reader.readexactly(length) if length > 0 else b""

    async def _answer(
        self, request: _Request, cert_identity: str | None, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request; returns whether the connection stays open."""
        identity, auth = self._authenticate(request.headers, cert_identity)
        record = RequestRecord(
            method=request.method,
            path=request.path,
            params=request.params,
            accept=request.headers.get("accept", ""),
            identity=identity,
            auth=auth,
            user_agent=request.headers.get("user-agent", ""),
            time=time.time(),
        )
        with self._lock:
            self._requests.append(record)

        assert self._hang_event is not None
        await self._hang_event.wait()

        fault: Fault | None = None
        try:
            if identity is None:
                response = _Response(401, orjson.dumps(self.recordings["error_401_bad_token.json"].body))
            else:
                rpath = parse_resource_path(request.path)
                target = RequestTarget(
                    path=request.path,
                    resource=rpath.resource if rpath else None,
                    group=rpath.group if rpath else None,
                    identity=identity,
                    has_continue=bool(request.params.get("continue")),
                )
                groups = self._groups(identity)
                denied = groups is not None and not self.authorizer.allowed(
                    self._attributes(request, rpath, identity, groups)
                )
                decision = self._faults.decide(target)
                if decision.delay:
                    await asyncio.sleep(decision.delay)
                fault = decision.fault
                if denied:  # authorization comes before anything else, as in kube-apiserver
                    response = _Response(403, self._forbidden_body(request, rpath, identity))
                elif fault is not None and fault.kind in ("forbid", "fail", "expire_continue"):
                    response = self._fault_response(fault, request, rpath, identity)
                else:
                    response = self._route(request, rpath, identity)
        except Exception:  # a bug in the server: say so loudly, answer 500
            self.errors.append(traceback.format_exc())
            response = _Response(500, _status(500, "InternalError", "replay server error"))
        record.status = response.status
        record.fault = fault.kind if fault else None

        keep_alive = request.headers.get("connection", "").lower() != "close"
        body = response.body
        headers = [
            ("Audit-Id", str(uuid.uuid4())),
            ("Cache-Control", "no-cache, private"),
            ("Content-Type", response.content_type),
            ("Date", formatdate(usegmt=True)),
            *response.headers,
        ]
        if fault is not None and fault.kind == "corrupt" and fault.mode == "gzip":
            headers.append(("Content-Encoding", "gzip"))
        elif fault is not None and fault.kind == "corrupt":
            body = (
                body[: max(1, len(body) // 2)]
                if fault.mode == "truncated"
                else (b"\x00<html>502 Bad Gateway</html>" + body[len(body) // 2 :])
            )
        elif (
            self.compress
            and len(body) > GZIP_THRESHOLD
            and "gzip" in request.headers.get("accept-encoding", "")
            and (fault is None or fault.kind != "drop")
        ):
            body = gzip.compress(body, compresslevel=1)
            headers.append(("Content-Encoding", "gzip"))
            headers.append(("Vary", "Accept-Encoding"))
        headers.append(("Content-Length", str(len(body))))
        if not keep_alive:
            headers.append(("Connection", "close"))
        head = (
            f"HTTP/1.1 {response.status} {self._phrase(response.status)}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in headers)
            + "\r\n"
        )

        if fault is not None and fault.kind == "drop":
            writer.write(head.encode("latin-1") + body[: len(body) // 2])
            await self._flush_and_abort(writer)
            return False
        writer.write(head.encode("latin-1"))
        writer.write(body)
        await writer.drain()
        return keep_alive

    @staticmethod
    async def _flush_and_abort(writer: asyncio.StreamWriter) -> None:
        """Get what was written onto the wire, then close abruptly (no TLS close_notify)."""
        await writer.drain()
        transport = writer.transport
        inner = getattr(getattr(transport, "_ssl_protocol", None), "_transport", None)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (
            transport.get_write_buffer_size() or (inner is not None and inner.get_write_buffer_size())
        ):
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.01)
        transport.abort()

    @staticmethod
    def _phrase(status: int) -> str:
        try:
            return http.HTTPStatus(status).phrase
        except ValueError:
            return "Unknown"

    # ------------------------------------------------------------------ answers

    def _fault_response(
        self, fault: Fault, request: _Request, rpath: ResourcePath | None, identity: str
    ) -> _Response:
        if fault.kind == "forbid":
            return _Response(403, self._forbidden_body(request, rpath, identity))
        if fault.kind == "expire_continue":
            body = self.recordings["error_410_expired_continue.json"].body_copy()
            with contextlib.suppress(ContinueError):
                _rv, start = decode_continue(request.params.get("continue", ""))
                # Like the recording: same start key, resourceVersion -1 (an inconsistent
                # continuation the client may choose to follow).
                body["metadata"]["continue"] = encode_continue(-1, start)
            return _Response(410, orjson.dumps(body))
        # fail
        headers = []
        if fault.retry_after is not None:
            headers.append(("Retry-After", str(int(fault.retry_after))))
        if fault.body is None:
            body, content_type = _default_fault_body(fault.status, fault.retry_after)
        elif isinstance(fault.body, bytes):
            body, content_type = fault.body, JSON
        elif isinstance(fault.body, str):
            body, content_type = fault.body.encode(), "text/plain; charset=utf-8"
        else:
            body, content_type = orjson.dumps(dict(fault.body)), JSON
        return _Response(fault.status, body, content_type, headers)

    @staticmethod
    def _forbidden_body(request: _Request, rpath: ResourcePath | None, identity: str) -> bytes:
        # Same shape and wording as error_403_nodes_as_auditor.json.
        if request.method == "POST":
            verb = "create"
        elif rpath is not None and rpath.resource and rpath.name is None:
            verb = "watch" if request.params.get("watch") in ("1", "true") else "list"
        else:
            verb = "get"
        if rpath is None or rpath.resource is None:
            return _status(
                403,
                "Forbidden",
                f'forbidden: User "{identity}" cannot {verb} path "{request.path}"',
            )
        resource = rpath.resource + (f"/{rpath.subresource}" if rpath.subresource else "")
        qualified = f"{resource}.{rpath.group}" if rpath.group else resource
        subject = f'{qualified} "{rpath.name}"' if rpath.name else qualified
        scope = f'in the namespace "{rpath.namespace}"' if rpath.namespace else "at the cluster scope"
        details: dict[str, Any] = {}
        if rpath.group:
            details["group"] = rpath.group
        details["kind"] = resource
        if rpath.name:
            details["name"] = rpath.name
        message = (
            f'{subject} is forbidden: User "{identity}" cannot {verb} resource "{resource}" '
            f'in API group "{rpath.group}" {scope}'
        )
        return _status(403, "Forbidden", message, details)

    def _not_found_text(self) -> _Response:
        rec = self.recordings["error_404_velero_schedules.json"]
        return _Response(404, rec.body.encode(), rec.headers.get("content-type", "text/plain; charset=utf-8"))

    def _route(self, request: _Request, rpath: ResourcePath | None, identity: str) -> _Response:
        if (
            request.method == "POST"
            and rpath is not None
            and rpath.group == "authorization.k8s.io"
            and rpath.name is None
            and self.resource_info(rpath.group, rpath.version, rpath.resource or "")
        ):
            if rpath.resource == "selfsubjectrulesreviews":
                return self._rules_review(request, identity)
            if rpath.resource == "selfsubjectaccessreviews":
                return self._access_review(request, identity)
        if request.method != "GET":
            return _Response(
                405,
                _status(405, "MethodNotAllowed", _NOT_ALLOWED),
            )
        if request.path in ("/healthz", "/livez", "/readyz"):
            return _Response(200, b"ok", "text/plain; charset=utf-8")
        discovery = self._discovery_bytes(request.path)
        if discovery is not None:
            return _Response(200, discovery)
        if rpath is None or rpath.resource is None:
            return self._not_found_text()
        info = self.resource_info(rpath.group, rpath.version, rpath.resource)
        if info is None:
            return self._not_found_text()
        namespaced = bool(info.get("namespaced"))
        if rpath.namespace is not None and not namespaced:
            return self._not_found_text()
        if rpath.namespace is None and rpath.name is not None and namespaced:
            return self._not_found_text()
        if rpath.subresource not in (None, "status"):
            return self._not_found_text()
        verbs = info.get("verbs", ())
        if request.params.get("watch") in ("1", "true"):
            return _Response(
                405, _status(405, "MethodNotAllowed", "watch is not supported by the replay server")
            )
        verb = "list" if rpath.name is None else "get"
        if verb not in verbs:
            return _Response(
                405,
                _status(405, "MethodNotAllowed", _NOT_ALLOWED),
            )
        partial = _PARTIAL_ACCEPT in request.headers.get("accept", "").lower()
        collection = (rpath.group, rpath.version, rpath.resource)
        api_version = f"{rpath.group}/{rpath.version}" if rpath.group else rpath.version
        if verb == "get":
            assert rpath.name is not None
            obj = self.store.get(collection, rpath.name, rpath.namespace)
            if obj is None:
                details: dict[str, Any] = {}
                if rpath.group:
                    details["group"] = rpath.group
                details.update(kind=rpath.resource, name=rpath.name)
                qualified = f"{rpath.resource}.{rpath.group}" if rpath.group else rpath.resource
                message = f'{qualified} "{rpath.name}" not found'
                return _Response(404, _status(404, "NotFound", message, details))
            if partial:
                return _Response(200, obj.partial())
            if obj.has_kind:
                return _Response(200, obj.raw)
            prefix = orjson.dumps({"apiVersion": api_version, "kind": info["kind"]})[:-1] + b","
            return _Response(200, prefix + obj.raw[1:])
        return self._list(request, collection, rpath, info, api_version, partial)

    def _list(
        self,
        request: _Request,
        collection: Collection,
        rpath: ResourcePath,
        info: Mapping[str, Any],
        api_version: str,
        partial: bool,
    ) -> _Response:
        limit_param = request.params.get("limit")
        try:
            limit = int(limit_param) if limit_param else None
        except ValueError:
            return _Response(400, _status(400, "BadRequest", f"invalid limit: {limit_param!r}"))
        try:
            page = self.store.page(
                collection,
                namespace=rpath.namespace,
                namespaced_resource=bool(info.get("namespaced")),
                limit=limit,
                continue_token=request.params.get("continue") or None,
            )
        except ContinueError as exc:
            return _Response(400, _status(400, "BadRequest", str(exc)))
        meta: dict[str, Any] = {}
        if page.continue_token:
            meta["continue"] = page.continue_token
            if page.remaining is not None:
                meta["remainingItemCount"] = page.remaining
        meta["resourceVersion"] = str(page.resource_version)
        if partial:
            items = b",".join(o.partial() for o in page.items)
            list_api_version, kind = "meta.k8s.io/v1", "PartialObjectMetadataList"
        else:
            items = b",".join(o.raw for o in page.items)
            list_api_version, kind = api_version, info["kind"] + "List"
        body = b"".join(
            (
                b'{"apiVersion":',
                orjson.dumps(list_api_version),
                b',"items":[',
                items,
                b'],"kind":',
                orjson.dumps(kind),
                b',"metadata":',
                orjson.dumps(meta),
                b"}",
            )
        )
        return _Response(200, body)

    def _rules_review(self, request: _Request, identity: str) -> _Response:
        try:
            sent = orjson.loads(request.body or b"{}")
        except orjson.JSONDecodeError as exc:
            return _Response(400, _status(400, "BadRequest", f"invalid JSON body: {exc}"))
        body = self.recordings["selfsubjectrulesreview_auditor.json"].body_copy()
        body["spec"] = (sent.get("spec") if isinstance(sent, dict) else None) or {}
        groups = self._groups(identity)
        if groups is not None:
            namespace = str(body["spec"].get("namespace") or "")
            body["status"] = self.authorizer.rules_review_status(identity, groups, namespace)
        return _Response(201, orjson.dumps(body))

    def _access_review(self, request: _Request, identity: str) -> _Response:
        try:
            sent = orjson.loads(request.body or b"{}")
        except orjson.JSONDecodeError as exc:
            return _Response(400, _status(400, "BadRequest", f"invalid JSON body: {exc}"))
        spec = (sent.get("spec") if isinstance(sent, dict) else None) or {}
        attrs = spec.get("resourceAttributes") or {}
        allowed = True
        if attrs.get("resource"):
            group = attrs.get("group", "")
            version = attrs.get("version") or (self._served_versions(group) or ["v1"])[0]
            base = f"/apis/{group}/{version}" if group else f"/api/{version}"
            ns = attrs.get("namespace")
            path = f"{base}/namespaces/{ns}/{attrs['resource']}" if ns else f"{base}/{attrs['resource']}"
            if attrs.get("name"):
                path += f"/{attrs['name']}"
            target = RequestTarget(path, attrs["resource"], group, identity, False)
            allowed = not self._faults.forbids(target)
            groups = self._groups(identity)
            if groups is not None:
                allowed = allowed and self.authorizer.allowed(
                    RequestAttributes(
                        identity,
                        groups,
                        str(attrs.get("verb", "")),
                        True,
                        api_group=group,
                        resource=attrs["resource"],
                        subresource=str(attrs.get("subresource") or ""),
                        namespace=str(ns or ""),
                        name=str(attrs.get("name") or ""),
                    )
                )
        elif spec.get("nonResourceAttributes"):
            path = spec["nonResourceAttributes"].get("path", "/")
            allowed = not self._faults.forbids(RequestTarget(path, None, None, identity, False))
            groups = self._groups(identity)
            if groups is not None:
                verb = str(spec["nonResourceAttributes"].get("verb", "get"))
                allowed = allowed and self.authorizer.allowed(
                    RequestAttributes(identity, groups, verb, False, path=path)
                )
        status: dict[str, Any] = {"allowed": allowed}
        if allowed:
            status["reason"] = (
                'RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole '
                '"cluster-admin" to Group "system:masters"'
            )
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "metadata": {"creationTimestamp": None},
            "spec": spec,
            "status": status,
        }
        return _Response(201, orjson.dumps(body))
