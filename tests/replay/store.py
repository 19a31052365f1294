"""The replay server's object store: collections of objects with kube-apiserver style paging.

Objects are kept in etcd order — (namespace, name), compared by code point like etcd compares key
bytes — and serialized once when they are stored, so a page is a ``b",".join`` of cached bytes.
Continue tokens are the real ones: unpadded URL-safe base64 of
``{"v":"meta.k8s.io/v1","rv":<list resourceVersion>,"start":"<key after the last item>\\u0000"}``,
where the key is ``name`` (cluster-scoped, or within one namespace) or ``namespace/name``
(a namespaced resource listed across namespaces). Paging the recorded clusterroles with
``limit=25`` therefore reproduces the recorded pages, tokens included.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import contextlib
import gc
import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

Collection = tuple[str, str, str]
"""(group, version, resource), e.g. ``("", "v1", "pods")`` or ``("apps", "v1", "deployments")``."""

Key = tuple[str, str]

CONTINUE_VERSION = "meta.k8s.io/v1"


def _serialize(obj: dict[str, Any]) -> bytes:
    """orjson, or the stdlib for objects nested deeper than orjson writes (254 levels): a real
    apiserver serves such objects (a deep CRD schema), so tests need them too."""
    try:
        return orjson.dumps(obj)
    except orjson.JSONEncodeError:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


class ContinueError(ValueError):
    """A continue token the server cannot decode (answered with 400 BadRequest)."""


def encode_continue(resource_version: int, start: str) -> str:
    """Encode a continue token exactly as kube-apiserver does (Go ``json.Marshal`` + RawURL b64)."""
    payload = json.dumps(
        {"v": CONTINUE_VERSION, "rv": resource_version, "start": start},
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()


def decode_continue(token: str) -> tuple[int, str]:
    """Return ``(resourceVersion, start key)`` of a continue token, or raise ContinueError."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise ContinueError(f"continue key is not valid: {exc}") from None
    if not isinstance(data, dict) or data.get("v") != CONTINUE_VERSION:
        raise ContinueError("continue key is not valid: incorrect encoded start resourceVersion")
    rv, start = data.get("rv"), data.get("start")
    if not isinstance(rv, int) or not isinstance(start, str) or not start:
        raise ContinueError("continue key is not valid: malformed start or resourceVersion")
    return rv, start


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building many objects that hold no cycles.

    Allocating 100k+ objects triggers collections over and over, each walking the whole heap
    (the generated objects included): that was more than half of the time of generating or
    loading a large cluster. (The same as k8saudit.heap.gc_paused, kept separate: the fake API
    server imports nothing from the code it tests.)
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def object_key(obj: dict[str, Any]) -> Key:
    meta = obj.get("metadata") or {}
    name = meta.get("name")
    if not name:
        raise ValueError(f"object without metadata.name: {str(obj)[:200]}")
    return (meta.get("namespace") or "", name)


class StoredObject:
    """One object, kept only in serialized form: the list-item bytes and, lazily, the
    metadata-only ``PartialObjectMetadata`` bytes. Not keeping the dict lets the caller's
    objects (a generated cluster's millions of dicts) be freed once loaded."""

    __slots__ = ("has_kind", "key", "partial_raw", "raw")

    def __init__(self, obj: dict[str, Any]) -> None:
        self.key = object_key(obj)
        self.has_kind = "kind" in obj
        self.raw = _serialize(obj)
        self.partial_raw: bytes | None = None

    def partial(self) -> bytes:
        if self.partial_raw is None:
            # Same shape as the recorded list_secrets_metadata_only.json items.
            self.partial_raw = orjson.dumps(
                {
                    "apiVersion": "meta.k8s.io/v1",
                    "kind": "PartialObjectMetadata",
                    "metadata": orjson.loads(self.raw).get("metadata") or {},
                }
            )
        return self.partial_raw


@dataclass(frozen=True)
class Page:
    """One page of a list answer."""

    items: list[StoredObject]
    resource_version: int
    continue_token: str | None
    remaining: int | None


class _CollectionData:
    __slots__ = ("by_key", "keys", "ordered")

    def __init__(self) -> None:
        self.by_key: dict[Key, StoredObject] = {}
        # Sorted snapshots, rebuilt after a change; replaced, never mutated, so a reader holding
        # them is unaffected by concurrent writes.
        self.keys: list[Key] | None = None
        self.ordered: list[StoredObject] | None = None

    def snapshot(self) -> tuple[list[Key], list[StoredObject]]:
        if self.keys is None or self.ordered is None:
            ordered = sorted(self.by_key.values(), key=lambda o: o.key)
            self.ordered = ordered
            self.keys = [o.key for o in ordered]
        return self.keys, self.ordered


class ResourceStore:
    """Thread-safe collections of objects keyed by :data:`Collection`."""

    def __init__(self, resource_version: int = 1) -> None:
        self._lock = threading.Lock()
        self._collections: dict[Collection, _CollectionData] = {}
        self.resource_version = resource_version

    # -- writes ---------------------------------------------------------------------------------

    def add(self, collection: Collection, items: Iterable[dict[str, Any]]) -> int:
        """Add (or replace by namespace/name) objects; returns how many were stored."""
        with gc_paused():
            stored = [StoredObject(item) for item in items]  # serialize outside the lock
        with self._lock:
            data = self._collections.setdefault(collection, _CollectionData())
            for obj in stored:
                data.by_key[obj.key] = obj
            data.keys = data.ordered = None
            self.resource_version += 1
        return len(stored)

    def set(self, collection: Collection, items: Iterable[dict[str, Any]]) -> int:
        """Replace the whole collection."""
        with gc_paused():
            stored = [StoredObject(item) for item in items]
        data = _CollectionData()
        for obj in stored:
            data.by_key[obj.key] = obj
        with self._lock:
            self._collections[collection] = data
            self.resource_version += 1
        return len(stored)

    def remove(self, collection: Collection, name: str, namespace: str | None = None) -> bool:
        with self._lock:
            data = self._collections.get(collection)
            if data is None or data.by_key.pop((namespace or "", name), None) is None:
                return False
            data.keys = data.ordered = None
            self.resource_version += 1
            return True

    # -- reads ----------------------------------------------------------------------------------

    def collections(self) -> list[Collection]:
        with self._lock:
            return [c for c, d in self._collections.items() if d.by_key]

    def count(self, collection: Collection) -> int:
        with self._lock:
            data = self._collections.get(collection)
            return len(data.by_key) if data else 0

    def objects(self, collection: Collection, namespace: str | None = None) -> list[dict[str, Any]]:
        """Fresh copies (decoded from the stored bytes) in list order."""
        return [orjson.loads(o.raw) for o in self._ordered(collection, namespace)]

    def get(self, collection: Collection, name: str, namespace: str | None = None):
        with self._lock:
            data = self._collections.get(collection)
            return data.by_key.get((namespace or "", name)) if data else None

    def _ordered(self, collection: Collection, namespace: str | None) -> list[StoredObject]:
        with self._lock:
            data = self._collections.get(collection)
            if data is None:
                return []
            keys, ordered = data.snapshot()
        if namespace is None:
            return ordered
        lo = bisect.bisect_left(keys, (namespace, ""))
        hi = bisect.bisect_left(keys, (namespace + "\x00", ""))
        return ordered[lo:hi]

    def page(
        self,
        collection: Collection,
        *,
        namespace: str | None,
        namespaced_resource: bool,
        limit: int | None,
        continue_token: str | None,
    ) -> Page:
        """One list page. ``namespace`` restricts to one namespace (``None``: all of them)."""
        with self._lock:
            current_rv = self.resource_version
            data = self._collections.get(collection)
            keys, ordered = data.snapshot() if data else ([], [])
        lo, hi = 0, len(keys)
        if namespace is not None:
            lo = bisect.bisect_left(keys, (namespace, ""))
            hi = bisect.bisect_left(keys, (namespace + "\x00", ""))
        rv = current_rv
        if continue_token:
            token_rv, start = decode_continue(continue_token)
            if token_rv > 0:
                rv = token_rv  # a continued list reports the resourceVersion of its first page
            if namespace is not None or not namespaced_resource:
                start_key = (namespace or "", start)
            else:
                ns, sep, name = start.partition("/")
                start_key = (ns, name) if sep else (start, "")
            lo = max(lo, bisect.bisect_left(keys, start_key, lo, hi))
        end = hi if not limit or limit <= 0 else min(hi, lo + limit)
        items = ordered[lo:end]
        remaining = hi - end
        token = None
        if remaining > 0 and items:
            ns, name = items[-1].key
            last = f"{ns}/{name}" if namespace is None and namespaced_resource else name
            token = encode_continue(rv, last + "\x00")
        return Page(items, rv, token, remaining if token else None)
