"""The opt-in exposure probe (`k8saudit scan --probe`): turn "this Service exposes an admin UI"
into evidence of whether it answers a stranger.

Checks stay pure: they only say where a probe could look. After the checks ran, the probe sends
one plain GET per address and records what came back; the results are attached to the findings'
evidence (and their message says what the probe saw). Results are kept in the snapshot with the
collection (`CollectionInfo.probe`), so a report re-evaluated offline shows them again.

Evidence contract (what a check puts in a finding's evidence for the probe to use):

    "probe_targets": [
        {"url": "http://203.0.113.7:30080/", "interface": "Kubernetes Dashboard"},
        {"scheme": "https", "host": "dash.example.com", "port": 443, "path": "/",
         "interface": "Kubernetes Dashboard"},
    ]

Each target is a `url`, or `scheme` + `host` (+ `port`, `path`); `interface` names what is
expected there (optional). Only http/https URLs with a host and no credentials are probed, and
only on findings whose status is `fail` or `warn`. The probe adds `probe_results` (one entry per
target probed: url, interface, access, status, title, a few headers, error) to that evidence.

What the probe never does: run unless asked; send credentials (no Authorization header, no
cookies, no client certificate, no proxy or .netrc from the environment); follow a redirect to
another host; read more than a few kilobytes of a body; probe more than `limit` addresses per
scan. TLS certificates are not verified: nothing secret is sent, and a dashboard's self-signed
certificate must not hide that it answers.
"""

from __future__ import annotations

import asyncio
import html
import re
import ssl
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import httpx

from k8saudit import __version__
from k8saudit.connection import diagnose_transport_error
from k8saudit.model import Finding, Status

PROBE_TARGETS = "probe_targets"
PROBE_RESULTS = "probe_results"

OPEN = "open"  # answered with content, asked for no credentials
LOGIN = "login"  # asked for credentials: 401/403, a WWW-Authenticate challenge, a login page
OTHER = "other"  # answered, but neither (an error page, a redirect to another host)
NO_ANSWER = "no-answer"

_PROBED_STATUSES = (Status.FAIL, Status.WARN)
_KEPT_HEADERS = ("server", "content-type", "www-authenticate", "location", "x-powered-by")
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_LOGIN_PATH = re.compile(r"(?i)(log-?in|sign-?in|sign_in|oauth|/auth\b|sso)")
_PASSWORD_FIELD = re.compile(rb"""(?i)type\s*=\s*["']?password""")


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    limit: int = 20  # addresses per scan
    timeout_s: float = 3.0  # per request
    max_body_bytes: int = 4096
    max_redirects: int = 3  # same host only
    concurrency: int = 5


@dataclass(frozen=True, slots=True)
class ProbeTarget:
    url: str
    interface: str = ""

    @classmethod
    def from_evidence(cls, entry: object) -> ProbeTarget | None:
        """A target from a finding's `probe_targets` entry, or None when it is not probeable."""
        if not isinstance(entry, dict):
            return None
        interface = str(entry.get("interface") or "")[:100]
        url = entry.get("url")
        if not isinstance(url, str):
            scheme, host = entry.get("scheme", "http"), entry.get("host")
            if not isinstance(host, str) or not host:
                return None
            port, path = entry.get("port"), str(entry.get("path") or "/")
            netloc = f"[{host}]" if ":" in host else host
            url = f"{scheme}://{netloc}{f':{port}' if isinstance(port, int) else ''}{path}"
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError):
            return None
        if parsed.scheme not in ("http", "https") or not parsed.host or parsed.userinfo:
            return None
        return cls(str(parsed), interface)


@dataclass(slots=True)
class ProbeResult:
    url: str
    interface: str
    access: str  # OPEN, LOGIN, OTHER or NO_ANSWER
    status: int | None = None
    title: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    final_url: str = ""  # after redirects on the same host
    error: str = ""

    @property
    def answered(self) -> bool:
        return self.access != NO_ANSWER

    def summary(self) -> str:
        """One phrase for a finding's message and the report's note."""
        title = f", title {self.title!r}" if self.title else ""
        if self.access == OPEN:
            return f"{self.url} answered {self.status} without authentication{title}"
        if self.access == LOGIN:
            return f"{self.url} asks for credentials ({self.status}{title})"
        if self.access == OTHER:
            where = f" to {self.headers['location']}" if "location" in self.headers else ""
            return f"{self.url} answered {self.status}{where}"
        return f"{self.url} did not answer ({self.error})"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbeResult:
        status = data.get("status")
        headers = data.get("headers")
        return cls(
            url=str(data.get("url", "")),
            interface=str(data.get("interface", "")),
            access=str(data.get("access", NO_ANSWER)),
            status=status if isinstance(status, int) and not isinstance(status, bool) else None,
            title=str(data.get("title", "")),
            headers={str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {},
            final_url=str(data.get("final_url", "")),
            error=str(data.get("error", "")),
        )


@dataclass(slots=True)
class ProbeRun:
    """One probing pass: when, what was tried, what was left out by the limit."""

    at: datetime
    limit: int
    results: list[ProbeResult]
    skipped: int = 0  # addresses beyond the limit

    def note(self) -> str:
        if not self.results:
            return "exposure probe (--probe): no finding named an address to probe"
        shown = "; ".join(r.summary() for r in self.results[:5])
        more = f"; {len(self.results) - 5} more in the findings" if len(self.results) > 5 else ""
        skipped = f"; {self.skipped} more not probed (--probe-limit {self.limit})" if self.skipped else ""
        return (
            f"exposure probe (--probe) at {self.at:%Y-%m-%d %H:%M UTC} tried {len(self.results)} "
            f"address(es): {shown}{more}{skipped}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "limit": self.limit,
            "skipped": self.skipped,
            "results": [r.to_dict() for r in self.results],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbeRun:
        results = data.get("results")
        return cls(
            at=datetime.fromisoformat(str(data["at"])),
            limit=int(data.get("limit", 0)),
            skipped=int(data.get("skipped", 0)),
            results=[ProbeResult.from_dict(r) for r in results if isinstance(r, dict)]
            if isinstance(results, list)
            else [],
        )


# -- choosing targets ---------------------------------------------------------------------------


def targets_of(findings: Iterable[Finding], limit: int) -> tuple[list[ProbeTarget], int]:
    """The first `limit` distinct targets named by fail/warn findings, and how many were left out."""
    seen: dict[str, ProbeTarget] = {}
    for finding in findings:
        if finding.status not in _PROBED_STATUSES:
            continue
        entries = finding.evidence.get(PROBE_TARGETS)
        for entry in entries if isinstance(entries, list) else ():
            target = ProbeTarget.from_evidence(entry)
            if target is not None and target.url not in seen:
                seen[target.url] = target
    targets = list(seen.values())
    return targets[:limit], max(0, len(targets) - limit)


# -- probing ------------------------------------------------------------------------------------


def _client(settings: ProbeSettings) -> httpx.AsyncClient:
    tls = ssl.create_default_context()
    tls.check_hostname = False
    tls.verify_mode = ssl.CERT_NONE  # nothing is sent that a man in the middle could steal
    return httpx.AsyncClient(
        verify=tls,  # a context without a client certificate
        trust_env=False,  # no proxy, no .netrc credentials, no SSL_CERT_FILE from the environment
        follow_redirects=False,  # followed by hand, same host only
        timeout=httpx.Timeout(settings.timeout_s),
        headers={
            "User-Agent": f"k8saudit/{__version__} exposure probe (read-only; see k8saudit scan --probe)",
            "Accept": "text/html,application/json;q=0.9,*/*;q=0.8",
            "Accept-Encoding": "identity",  # no decompression bomb
        },
    )


async def probe(targets: list[ProbeTarget], settings: ProbeSettings | None = None) -> list[ProbeResult]:
    """Probe each target (concurrently, bounded); results in the targets' order."""
    settings = settings or ProbeSettings()
    semaphore = asyncio.Semaphore(settings.concurrency)

    async def one(client: httpx.AsyncClient, target: ProbeTarget) -> ProbeResult:
        async with semaphore:
            return await _probe_one(client, target, settings)

    async with _client(settings) as client:
        return list(await asyncio.gather(*(one(client, t) for t in targets)))


async def _probe_one(client: httpx.AsyncClient, target: ProbeTarget, settings: ProbeSettings) -> ProbeResult:
    url = httpx.URL(target.url)
    try:
        async with asyncio.timeout(settings.timeout_s * (settings.max_redirects + 1)):
            for _ in range(settings.max_redirects + 1):
                status, headers, body = await _get(client, url, settings)
                location = headers.get("location", "")
                if not (300 <= status < 400 and location):
                    break
                following = url.join(location)
                if following.host != url.host:  # never off-host: record where it pointed
                    break
                url = following
    except (httpx.HTTPError, TimeoutError, OSError) as exc:
        return ProbeResult(target.url, target.interface, NO_ANSWER, error=_describe(exc))
    return ProbeResult(
        target.url,
        target.interface,
        _access(status, headers, body, url),
        status=status,
        title=_title(body),
        headers={k: v[:200] for k, v in headers.items() if k in _KEPT_HEADERS},
        final_url=str(url),
    )


async def _get(
    client: httpx.AsyncClient, url: httpx.URL, settings: ProbeSettings
) -> tuple[int, dict[str, str], bytes]:
    client.cookies.clear()  # a cookie set by one answer is never sent back
    request = client.build_request("GET", url)
    request.headers.pop("Cookie", None)
    response = await client.send(request, stream=True)
    try:
        body = b""
        async for chunk in response.aiter_raw():
            body += chunk
            if len(body) >= settings.max_body_bytes:
                break
        headers = {k.lower(): v for k, v in response.headers.items()}
        return response.status_code, headers, body[: settings.max_body_bytes]
    finally:
        await response.aclose()
        client.cookies.clear()


def _access(status: int, headers: dict[str, str], body: bytes, url: httpx.URL) -> str:
    if status in (401, 403, 407) or "www-authenticate" in headers:
        return LOGIN
    if 200 <= status < 300:
        if _LOGIN_PATH.search(url.path) or _PASSWORD_FIELD.search(body):
            return LOGIN
        return OPEN
    if 300 <= status < 400 and _LOGIN_PATH.search(headers.get("location", "")):
        return LOGIN
    return OTHER


def _title(body: bytes) -> str:
    match = _TITLE.search(body)
    if not match:
        return ""
    text = html.unescape(match.group(1).decode("utf-8", errors="replace"))
    return " ".join(text.split())[:120]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    kind, detail = diagnose_transport_error(exc)
    return {
        "dns": "unknown host",
        "refused": "connection refused",
        "timeout": "timed out",
        "closed": "closed the connection",
    }.get(kind, detail)


# -- results into findings ----------------------------------------------------------------------


def attach(findings: Iterable[Finding], run: ProbeRun) -> None:
    """Add what the probe saw to every finding that named a probed address: its evidence gets
    `probe_results`, its message the most telling result. Idempotent."""
    by_url = {r.url: r for r in run.results}
    for finding in findings:
        entries = finding.evidence.get(PROBE_TARGETS)
        if finding.status not in _PROBED_STATUSES or not isinstance(entries, list):
            continue
        targets = [t for t in (ProbeTarget.from_evidence(e) for e in entries) if t is not None]
        results = [by_url[t.url] for t in targets if t.url in by_url]
        if not results or PROBE_RESULTS in finding.evidence:
            continue
        finding.evidence[PROBE_RESULTS] = [r.to_dict() for r in results]
        order = (OPEN, LOGIN, OTHER, NO_ANSWER)
        telling = min(results, key=lambda r: order.index(r.access) if r.access in order else len(order))
        verb = "probe confirmed" if telling.access == OPEN else "probe"
        finding.message = f"{finding.message} — {verb}: {telling.summary()}"


async def probe_findings(
    findings: list[Finding], settings: ProbeSettings | None = None, now: datetime | None = None
) -> ProbeRun:
    """Probe what the findings name (at most `settings.limit` addresses) and attach the results:
    the whole opt-in pass, for `scan --probe` and the TUI's probe action."""
    from k8saudit.report import utcnow

    settings = settings or ProbeSettings()
    targets, skipped = targets_of(findings, settings.limit)
    run = ProbeRun(now or utcnow(), settings.limit, await probe(targets, settings), skipped)
    attach(findings, run)
    return run
