"""The async collector: discovery, then concurrent paginated lists of every kind, read-only.

- Only GET, plus the non-mutating SelfSubjectRulesReview (what may this identity read?).
- Discovery first: a kind is listed under the first of its group/versions the server serves, and
  custom resources (Velero, k3s) only when installed.
- Pagination with `limit`/`continue`; a 410 on an expired `continue` restarts that list once.
- Bounded concurrency; retries with exponential backoff on 429/5xx, dropped connections and
  broken bodies, honouring `Retry-After`; a per-request timeout and an overall deadline. When the
  deadline strikes, unfinished kinds are marked `error` and the scan still ends with a report.
- Pages are decoded against each kind's schema (`k8saudit.schema`: managedFields is never
  built) and every item is redacted the moment its page is parsed (see `k8saudit.redact`); a
  pod's spec is built from its fields' raw JSON, decoding and redacting only what differs from
  the previous pod (`siblings.SpecSharing`). Secrets are requested as metadata only, so their
  values never reach this process.
- A 403 on one kind is a coverage gap, never the end of the scan; objects of the wrong shape (a
  broken proxy) make their kind an `error`, never a partial list that checks would pass on.
- The per-request timeout bounds a whole answer, not each read; discovery and the rules review
  are bounded by the overall deadline too. The report notes every kind it could not read.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import orjson

from k8saudit import heap
from k8saudit.connection import Connection, describe_transport_error
from k8saudit.errors import ConnectionFailure
from k8saudit.inventory import (
    ERROR,
    FORBIDDEN,
    NOT_SERVED,
    OK,
    ClusterIdentity,
    Coverage,
    Inventory,
    malformed,
    share_pod_templates,
)
from k8saudit.kinds import KINDS, GroupVersion, ResourceKind
from k8saudit.readers import as_list
from k8saudit.redact import redact, redact_pod_spec_part
from k8saudit.report import CollectionInfo, utcnow
from k8saudit.schema import SCHEMA_REFUSALS, ListPage, decode_list_page
from k8saudit.siblings import (
    BESIDE_BUILT_SPEC,
    RAW_SPEC_KINDS,
    SECTIONS,
    SIBLING_KINDS,
    SpecSharing,
    share_with,
)

METADATA_ONLY_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
JSON_ACCEPT = "application/json"
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
RULES_REVIEW_PATH = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"


@dataclass(frozen=True, slots=True)
class CollectorSettings:
    concurrency: int = 8
    page_size: int = 500
    request_timeout_s: float = 30.0
    deadline_s: float = 300.0
    max_retries: int = 5
    backoff_base_s: float = 0.25
    backoff_max_s: float = 8.0


# -- progress events, for the TUI's scan screen and the CLI's progress line --------------------


@dataclass(frozen=True, slots=True)
class ScanStarted:
    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KindStarted:
    key: str


@dataclass(frozen=True, slots=True)
class PageReceived:
    key: str
    page: int
    objects: int  # objects of this kind so far


@dataclass(frozen=True, slots=True)
class KindFinished:
    key: str
    coverage: Coverage


ProgressEvent = ScanStarted | KindStarted | PageReceived | KindFinished
ProgressCallback = Callable[[ProgressEvent], None]


class _RequestFailed(Exception):
    """A request that could not be completed after its retries; the message is one line."""

    def __init__(self, message: str, cause: BaseException | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.cause = cause
        self.attempts = attempts


@dataclass(slots=True)
class _KindState:
    kind: ResourceKind
    items: list[dict[str, Any]] = field(default_factory=list)
    applied: dict[str, str] = field(default_factory=dict)
    pages: int = 0
    started: float = 0.0
    api_version: str = ""
    malformed: int = 0
    malformed_reason: str = ""
    specs: SpecSharing = field(default_factory=lambda: SpecSharing(redact_pod_spec_part))

    def restart(self) -> None:
        """Forget what was read: the list is read again from its first page."""
        self.items.clear()
        self.applied.clear()
        self.pages = 0
        self.malformed = 0
        self.specs.reset()


class Collector:
    def __init__(
        self,
        connection: Connection,
        settings: CollectorSettings | None = None,
        on_event: ProgressCallback | None = None,
        kinds: tuple[ResourceKind, ...] = KINDS,
    ) -> None:
        self.connection = connection
        self.settings = settings or CollectorSettings()
        self._on_event = on_event
        self._kinds = kinds
        self._deadline = 0.0
        self._semaphore = asyncio.Semaphore(self.settings.concurrency)
        self._states: dict[str, _KindState] = {}

    # -- the whole scan ---------------------------------------------------------------------

    async def collect(self) -> tuple[Inventory, CollectionInfo]:
        started_at = utcnow()
        self._deadline = time.monotonic() + self.settings.deadline_s
        timeout = httpx.Timeout(
            self.settings.request_timeout_s, connect=min(10.0, self.settings.request_timeout_s)
        )
        # Parsed pages are acyclic trees: see k8saudit.heap for why the cyclic GC stays out.
        with heap.gc_paused():
            async with self.connection.client(timeout, max_connections=self.settings.concurrency) as client:
                self._client = client
                version_answer = await self._version()
                served, resources = await self._discover()
                coverage = await self._list_all(served, resources)
                self._refuse_unless_kubernetes(version_answer, coverage)
                self_rules = await self._self_rules()
            share_pod_templates({key: state.items for key, state in self._states.items()})
            heap.settle()
        inventory = Inventory(
            objects={key: state.items for key, state in self._states.items()},
            coverage=coverage,
            cluster=ClusterIdentity(
                self.connection.context,
                self.connection.server,
                _version_document(version_answer),
                self.connection.insecure,
            ),
            served_api_versions=served,
            applied_api_versions={k: s.applied for k, s in self._states.items() if s.applied},
        )
        notes = [*self.connection.notes, *self._coverage_notes(coverage)]
        return inventory, CollectionInfo(started_at, utcnow(), notes=notes, self_rules=self_rules)

    def _coverage_notes(self, coverage: dict[str, Coverage]) -> list[str]:
        """What the report must say was not read, in one line per cause."""
        notes = []
        late = [k for k, c in coverage.items() if c.state == ERROR and _DEADLINE_MARK in c.message]
        failed = [k for k, c in coverage.items() if c.state == ERROR and k not in late]
        forbidden = [k for k, c in coverage.items() if c.state == FORBIDDEN]
        if late:
            notes.append(
                f"overall deadline of {self.settings.deadline_s:g}s reached; incomplete: {', '.join(late)}"
            )
        if failed:
            reasons = "; ".join(f"{k} ({coverage[k].message[:80]})" for k in failed)
            notes.append(f"incomplete: {len(failed)} kind(s) could not be read: {reasons}")
        if forbidden:
            notes.append(
                f"not permitted to read: {', '.join(forbidden)} (the role printed by `k8saudit rbac` "
                "grants exactly what a scan reads)"
            )
        return notes

    def _emit(self, event: ProgressEvent) -> None:
        if self._on_event is not None:
            self._on_event(event)

    def _remaining(self) -> float:
        return self._deadline - time.monotonic()

    # -- version and discovery --------------------------------------------------------------

    async def _within_deadline(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        """Await `coroutine`, cancelled when the overall deadline strikes (TimeoutError)."""
        return await asyncio.wait_for(coroutine, timeout=max(self._remaining(), 0.001))

    async def _version(self) -> httpx.Response:
        """GET /version: the first request, so it is where 'cannot connect' surfaces."""
        try:
            # One retry only: a refused connection or an unknown host will not heal in seconds.
            response = await self._within_deadline(self._get("/version", max_retries=1))
        except TimeoutError:
            raise ConnectionFailure(self.connection.deadline_message(self.settings.deadline_s)) from None
        except _RequestFailed as exc:
            raise ConnectionFailure(self.connection.unreachable_message(exc.cause, exc.attempts)) from None
        if response.status_code == 401:
            raise ConnectionFailure(self.connection.unauthorized_message())
        return response

    def _refuse_unless_kubernetes(
        self, version_answer: httpx.Response, coverage: dict[str, Coverage]
    ) -> None:
        """A web server, or a proxy answering 404 to every path, is not a cluster that serves
        nothing: scanned, its empty inventory would grade A. A cluster that forbids everything
        still answers like one (403 on its lists), so it is scanned and reported as forbidden."""
        if _version_document(version_answer).get("gitVersion"):
            return
        if any(c.state in (OK, FORBIDDEN) for c in coverage.values()):
            return
        raise ConnectionFailure(self.connection.not_kubernetes_message(_describe_answer(version_answer)))

    async def _discover(self) -> tuple[set[str], dict[str, set[str] | None]]:
        """Served group/versions, and the resources each needed one serves (None: unknown).

        Bounded by the overall deadline: a server that stops answering here leaves every kind
        to be reported as unread, not a scan that never ends."""
        try:
            return await self._within_deadline(self._discover_documents())
        except TimeoutError:
            return set(), {}

    async def _discover_documents(self) -> tuple[set[str], dict[str, set[str] | None]]:
        served: set[str] = set()
        core, groups = await asyncio.gather(self._get_json("/api"), self._get_json("/apis"))
        if isinstance(core, dict):
            served.update(str(v) for v in as_list(core.get("versions")))
        if isinstance(groups, dict):
            for group in as_list(groups.get("groups")):
                for version in as_list(group.get("versions") if isinstance(group, dict) else None):
                    if isinstance(version, dict) and version.get("groupVersion"):
                        served.add(str(version["groupVersion"]))
        discovery_failed = core is None or groups is None
        # Every served candidate, not only the first: a group/version may be served for other
        # resources of its group (Gateway API's v1alpha3 for BackendTLSPolicy alone, while
        # TLSRoute is at v1alpha2), so the version a kind is listed under is the first one
        # whose resources name it.
        paths = sorted(
            {gv.path for k in self._kinds for gv in k.versions if gv.api_version in served}
            | ({k.versions[0].path for k in self._kinds} if discovery_failed else set())
        )
        documents = await asyncio.gather(*(self._get_json(p) for p in paths))
        resources: dict[str, set[str] | None] = {}
        for path, document in zip(paths, documents, strict=True):
            listed = document.get("resources") if isinstance(document, dict) else None
            resources[path] = (
                {str(r.get("name")) for r in listed if isinstance(r, dict)}
                if isinstance(listed, list)
                else None
            )
        if discovery_failed:
            served.clear()
        return served, resources

    @staticmethod
    def _pick_version(
        kind: ResourceKind, served: set[str], resources: dict[str, set[str] | None]
    ) -> GroupVersion | None:
        """The first candidate served with the kind among its resources (a version whose
        resources are unknown counts); with no discovery at all, the preferred one."""
        if not served:
            return kind.versions[0]
        for gv in kind.versions:
            listed = resources.get(gv.path)
            if gv.api_version in served and (listed is None or kind.resource in listed):
                return gv
        return None

    async def _get_json(self, path: str) -> Any:
        try:
            response = await self._get(path)
        except _RequestFailed:
            return None
        return _json(response) if response.status_code == 200 else None

    # -- lists ------------------------------------------------------------------------------

    async def _list_all(self, served: set[str], resources: dict[str, set[str] | None]) -> dict[str, Coverage]:
        self._emit(ScanStarted(tuple(k.key for k in self._kinds)))
        coverage: dict[str, Coverage] = {}
        tasks: dict[asyncio.Task[Coverage], str] = {}
        for kind in self._kinds:
            gv = self._pick_version(kind, served, resources)
            self._states[kind.key] = _KindState(kind, started=time.monotonic())
            if gv is None:
                coverage[kind.key] = Coverage(NOT_SERVED, message=_not_served_message(kind))
                self._emit(KindFinished(kind.key, coverage[kind.key]))
                continue
            tasks[asyncio.create_task(self._list_kind(kind, gv))] = kind.key
        if tasks:
            try:
                done, _ = await asyncio.wait(tasks, timeout=max(self._remaining(), 0.001))
            finally:  # the deadline, or the scan itself cancelled (Ctrl-C): no list outlives it
                await _cancel_and_wait(tasks)
            for task, key in tasks.items():
                coverage[key] = task.result() if task in done else self._deadline_coverage(key)
                if task not in done:
                    self._emit(KindFinished(key, coverage[key]))
        return {kind.key: coverage[kind.key] for kind in self._kinds}

    def _deadline_coverage(self, key: str) -> Coverage:
        state = self._states[key]
        return Coverage(
            ERROR,
            count=len(state.items),
            pages=state.pages,
            duration_s=time.monotonic() - state.started,
            message=f"stopped at the {_DEADLINE_MARK} of {self.settings.deadline_s:g}s "
            f"after {state.pages} page(s); the list is incomplete",
            api_version=state.api_version,
        )

    async def _list_kind(self, kind: ResourceKind, gv: GroupVersion) -> Coverage:
        state = self._states[kind.key]
        state.api_version = gv.api_version
        self._emit(KindStarted(kind.key))
        try:
            outcome, message = await self._paginate(state, f"{gv.path}/{kind.resource}")
        except _RequestFailed as exc:
            outcome, message = ERROR, str(exc)
        coverage = Coverage(
            outcome,
            count=len(state.items),
            pages=state.pages,
            duration_s=round(time.monotonic() - state.started, 3),
            message=message,
            api_version=gv.api_version,
        )
        self._emit(KindFinished(kind.key, coverage))
        return coverage

    async def _paginate(self, state: _KindState, path: str) -> tuple[str, str]:
        headers = {"Accept": METADATA_ONLY_ACCEPT if state.kind.metadata_only else JSON_ACCEPT}
        ahead = _ReadAhead(self, path, headers, state.kind.key)
        try:
            return await self._read_pages(state, ahead)
        finally:
            await ahead.cancel()

    async def _read_pages(self, state: _KindState, ahead: _ReadAhead) -> tuple[str, str]:
        kind = state.kind
        token: str | None = None
        restarted = False
        while True:
            params = {"limit": str(self.settings.page_size)}
            if token:
                params["continue"] = token
            response = await ahead.get(params)
            status = response.status_code
            if status == 410 and token and not restarted:
                restarted, token = True, None  # the continue token expired: start over, once
                state.restart()
                continue
            if status == 410 and token:
                return ERROR, (
                    "the list's continue token expired twice (410 Gone): the list changes faster than "
                    "it can be paged; retry, or raise --page-size"
                )
            if status != 200:
                return _failure_coverage(status, response)
            body = self._keep_page(state, response)
            if body is None:
                what = "valid JSON" if _json(response) is None else f"a {kind.kind} list"
                return ERROR, f"page {state.pages + 1} is not {what}"
            _release(response)
            state.pages += 1
            self._emit(PageReceived(kind.key, state.pages, len(state.items)))
            token = _continue_token(body)
            if not token:
                if state.malformed:
                    return ERROR, (
                        f"{state.malformed} {kind.kind} object(s) in the answer are malformed "
                        f"({state.malformed_reason}); the list is not trusted"
                    )
                return OK, f"read in {state.pages} page(s)" + (
                    " after a restart (410 Gone)" if restarted else ""
                )

    @staticmethod
    def _keep_page(state: _KindState, response: httpx.Response) -> dict[str, Any] | None:
        """Keep the items of a list page; its body, or None if it is not a list."""
        page = _list_page(response, state.kind.key)
        page_items = _items(page.body)
        specs = None
        if page.raw_specs and page_items:
            try:
                specs = [state.specs.build(item["spec"]) if item.get("spec") else None for item in page_items]
            except SCHEMA_REFUSALS:  # a value in a spec that msgspec refuses: the generic parser judges
                page = ListPage(_json(response), False)
                page_items = _items(page.body)
        if page_items is None:
            return None
        Collector._keep(state, page_items, page.shape_checked, specs)
        return page.body

    @staticmethod
    def _keep(
        state: _KindState, page_items: list[Any], shape_checked: bool, specs: list[Any] | None = None
    ) -> None:
        """Keep checked, redacted items; `specs`, if given, are their pod specs, built (and
        redacted) by `SpecSharing` from the raw JSON the page left in their place."""
        key, metadata_only = state.kind.key, state.kind.metadata_only
        share = key in SIBLING_KINDS
        to_share = SECTIONS if specs is None else BESIDE_BUILT_SPEC
        for index, item in enumerate(page_items):
            problem = None if shape_checked else malformed(item, key)
            if problem:  # a broken proxy or server: kept out of the indexes, and the kind flagged
                state.malformed += 1
                state.malformed_reason = state.malformed_reason or problem
                continue
            if specs is not None and specs[index] is not None:
                item["spec"] = specs[index]
            applied = redact(key, item, metadata_only, spec_redacted=specs is not None)
            if applied:
                meta = item.get("metadata") or {}
                state.applied[f"{meta.get('namespace', '')}/{meta.get('name', '')}"] = applied
            if share and state.items:
                share_with(state.items[-1], item, to_share)
            state.items.append(item)

    # -- one request, with retries ------------------------------------------------------------

    async def _get(
        self,
        path: str,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        parse: Callable[[httpx.Response], object] | None = None,
        max_retries: int | None = None,
        on_body: Callable[[httpx.Response], Awaitable[None]] | None = None,
    ) -> httpx.Response:
        """GET with retries. A retryable status that persists is returned (the caller reports the
        server's own message); a transport failure that persists raises _RequestFailed. With
        `parse`, a 200 whose body it cannot parse (None) is retried too (a cut-off answer)."""
        retries = self.settings.max_retries if max_retries is None else max_retries
        attempt = 0
        while True:
            problem: str
            cause: BaseException | None = None
            response: httpx.Response | None = None
            try:
                async with self._semaphore:
                    response = await self._request_once(path, params, headers)
                if on_body is not None and response.status_code == 200:
                    await on_body(response)  # before the body is parsed: see _ReadAhead
                if response.status_code in RETRYABLE_STATUS:
                    problem = f"HTTP {response.status_code}"
                    delay = _retry_after(response)
                elif (
                    parse is not None
                    and response.status_code == 200
                    and _may_be_json(response)
                    and parse(response) is None
                ):
                    problem, delay = "the response body is not valid JSON (truncated?)", None
                else:
                    return response
            except httpx.TransportError as exc:
                problem, delay, cause = describe_transport_error(exc, self.connection.server), None, exc
                response = None
            except httpx.DecodingError as exc:  # a body that says gzip and is not (a broken proxy)
                problem, delay, cause = f"the response body cannot be decoded: {exc}", None, exc
                response = None
            if delay is None:
                delay = min(self.settings.backoff_max_s, self.settings.backoff_base_s * 2**attempt)
                delay *= 0.5 + random.random() / 2  # jitter: many kinds must not retry in lockstep
            attempt += 1
            if attempt > retries or delay >= self._remaining():
                if response is not None and response.status_code in RETRYABLE_STATUS:
                    response.extensions[_ATTEMPTS] = attempt
                    return response
                raise _RequestFailed(f"{problem} ({attempt} attempt(s))", cause, attempt)
            await asyncio.sleep(delay)

    async def _request_once(
        self, path: str, params: dict[str, str] | None, headers: dict[str, str] | None
    ) -> httpx.Response:
        """One GET, bounded as a whole by the per-request timeout (httpx bounds each read, so a
        server trickling a byte at a time would otherwise never time out)."""
        try:
            async with asyncio.timeout(self.settings.request_timeout_s):
                return await self._client.get(path, params=params, headers=headers)
        except TimeoutError:
            raise httpx.ReadTimeout(
                f"no complete answer within {self.settings.request_timeout_s:g}s"
            ) from None

    async def _self_rules(self) -> dict[str, Any] | None:
        """What the scanning identity may do (SelfSubjectRulesReview: creates nothing)."""
        if self._remaining() <= 0:
            return None
        try:
            return await self._within_deadline(self._post_rules_review())
        except (TimeoutError, httpx.TransportError):
            return None

    async def _post_rules_review(self) -> dict[str, Any] | None:
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectRulesReview",
            "spec": {"namespace": "kube-system"},
        }
        async with self._semaphore:
            response = await self._client.post(
                RULES_REVIEW_PATH, content=orjson.dumps(body), headers={"Content-Type": "application/json"}
            )
        parsed = _json(response) if response.status_code in (200, 201) else None
        status = parsed.get("status") if isinstance(parsed, dict) else None
        return status if isinstance(status, dict) else None


class _ReadAhead:
    """The next page of a list, requested while the current one is parsed.

    A list is a chain: page N+1 needs the continue token of page N. Waiting for page N to be
    parsed and kept before asking for N+1 leaves the server idle while we parse and us idle while
    it serves (on the 200-page pod list of a 100k-pod cluster, most of the time). So the moment
    page N's bytes arrive, its continue token is cut out of the raw bytes (`_peek_continue`) and
    page N+1 is requested; the server prepares and sends it while N is parsed. The guess is only
    used when it equals the token of the parsed page; otherwise it is cancelled and the right
    page is fetched. At most two pages are requested ahead, so memory stays bounded.
    """

    _LIMIT = 2
    # Loop turns a new request needs to be on the wire through httpx/httpcore on an idle pooled
    # connection (measured: 4); the parse that follows would otherwise hold it back.
    _TURNS_TO_SEND = 6

    def __init__(self, collector: Collector, path: str, headers: dict[str, str], key: str) -> None:
        self._collector = collector
        self._path = path
        self._headers = headers
        self._key = key
        self._pages: dict[str, asyncio.Task[httpx.Response]] = {}

    async def get(self, params: dict[str, str]) -> httpx.Response:
        token = params.get("continue")
        task = self._pages.pop(token, None) if token else None
        if task is not None:
            return await task
        await self.cancel()  # a wrong guess, or a restarted list
        return await self._fetch(params)

    def _fetch(self, params: dict[str, str]) -> Awaitable[httpx.Response]:
        collector = self._collector
        return collector._get(self._path, params, self._headers, parse=self._body, on_body=self._request_next)

    def _body(self, response: httpx.Response) -> object:
        return _list_page(response, self._key).body

    async def _request_next(self, response: httpx.Response) -> None:
        token = _peek_continue(response.content)
        if not token or token in self._pages or len(self._pages) >= self._LIMIT:
            return
        params = {"limit": str(self._collector.settings.page_size), "continue": token}
        self._pages[token] = asyncio.create_task(self._fetch(params))
        for _ in range(self._TURNS_TO_SEND):
            await asyncio.sleep(0)

    async def cancel(self) -> None:
        pages = list(self._pages.values())
        self._pages.clear()
        await _cancel_and_wait(pages)


_CONTINUE = re.compile(rb'"continue":"([A-Za-z0-9_=-]+)"')
_ITEMS_START = b'"items":['


def _peek_continue(raw: bytes) -> str | None:
    """The list's continue token, cut from the raw page without parsing it; None if not found.

    Only the list's own metadata is searched: the bytes before the items array (kube-apiserver
    writes metadata first) and after its last bracket (other servers write it last), never an
    item. A guess all the same: the caller compares it with the parsed page's token.
    """
    items_at = raw.find(_ITEMS_START)
    if items_at < 0:
        return None
    match = _CONTINUE.search(raw, 0, items_at) or _CONTINUE.search(raw, max(raw.rfind(b"]"), items_at))
    return match.group(1).decode("ascii") if match else None


async def _cancel_and_wait(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel the unfinished `tasks` and wait until they have ended. Every task's outcome is
    collected, a finished one's too: a read-ahead page that failed and was never awaited would
    print "Task exception was never retrieved"."""
    tasks = list(tasks)
    for task in tasks:
        task.cancel()  # a finished task ignores it
    await asyncio.gather(*tasks, return_exceptions=True)


def _json(response: httpx.Response) -> Any:
    """The parsed body, cached on the response (a page is parsed once), or None if not JSON."""
    cached = response.extensions.get("k8saudit_json", _MISSING)
    if cached is _MISSING:
        try:
            cached = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            cached = None
        response.extensions["k8saudit_json"] = cached
    return cached


def _may_be_json(response: httpx.Response) -> bool:
    """Whether a body is meant to be JSON (or says nothing): one that is not parsed is then cut
    off, worth another try. A web page (a proxy or web server where the API server should be) is
    no better the second time."""
    media_type = _media_type(response)
    return not media_type or media_type.endswith(("/json", "+json"))


def _media_type(response: httpx.Response) -> str:
    """The body's media type, lower case, without parameters ("" if untyped)."""
    return response.headers.get("content-type", "").partition(";")[0].strip().lower()


def _version_document(response: httpx.Response) -> dict[str, Any]:
    """The /version document, or {} if /version did not answer with one."""
    body = _json(response)
    return body if response.status_code == 200 and isinstance(body, dict) else {}


def _describe_answer(response: httpx.Response) -> str:
    """How the server answered, for a message: "404 Not Found", "200 OK with a text/html body
    instead of JSON", "200 OK without a gitVersion"."""
    status = f"{response.status_code} {response.reason_phrase}".rstrip()
    if response.status_code != 200:
        return status
    if _json(response) is None:
        media_type = _media_type(response) or "untyped"
        return f"{status} with a {media_type} body instead of JSON"
    return f"{status} without a gitVersion"


def _list_page(response: httpx.Response, key: str) -> ListPage:
    """A page of inventory kind `key`, parsed once and cached on the response."""
    page = response.extensions.get(_PAGE)
    if page is None:
        page = response.extensions[_PAGE] = decode_list_page(
            response.content, key, raw_specs=key in RAW_SPEC_KINDS
        )
    return page


_MISSING = object()
_PAGE = "k8saudit_page"
_ATTEMPTS = "k8saudit_attempts"
_DEADLINE_MARK = "overall deadline"
_T = TypeVar("_T")


def _items(body: object) -> list[Any] | None:
    """The items of a list page, or None if it has none where they belong."""
    items = body.get("items") if isinstance(body, dict) else None
    return items if isinstance(items, list) else None


def _continue_token(body: dict[str, Any]) -> str | None:
    metadata = body.get("metadata")
    token = metadata.get("continue") if isinstance(metadata, dict) else None
    return token if isinstance(token, str) and token else None


def _release(response: httpx.Response) -> None:
    """Free a page's bytes now. An httpx response and its stream refer to each other: a cycle
    only the cyclic GC breaks, and it is paused during a scan (k8saudit.heap), so without this
    every page read (~800 MB for a 100k-pod cluster) would stay in memory until the scan ends."""
    response.extensions.pop(_PAGE, None)
    response.stream = httpx.ByteStream(b"")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _status_message(response: httpx.Response) -> str:
    body = _json(response)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"][:300]
    return response.reason_phrase or ""


def _failure_coverage(status: int, response: httpx.Response) -> tuple[str, str]:
    message = _status_message(response)
    attempts = response.extensions.get(_ATTEMPTS)
    after = f" after {attempts} attempts" if attempts and attempts > 1 else ""
    if status == 403:
        return FORBIDDEN, message or "forbidden"
    if status == 404:
        return NOT_SERVED, "the server does not serve this resource (404)"
    if status == 401:
        return ERROR, "401 Unauthorized: the credentials were rejected mid-scan and could not be refreshed"
    if status == 406:
        return ERROR, "the server cannot list metadata only (406); skipped so that no values are read"
    if status == 429:
        return ERROR, f"throttled by the API server (429 Too Many Requests){after}; retry later"
    return ERROR, f"HTTP {status}{after}: {message}".rstrip(": ")


def _not_served_message(kind: ResourceKind) -> str:
    versions = ", ".join(gv.api_version for gv in kind.versions)
    if kind.custom:
        return f"not installed ({versions} not served)"
    return f"the server serves none of {versions}"
