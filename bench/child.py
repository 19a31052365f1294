"""One measured contender, run as `python -m bench.child NAME CONFIG.json` in its own process.

The parent measures the process's peak RSS (os.wait4); the child times its own work (after its
imports) and prints one JSON line: {"seconds": ..., ...}. The collection contenders also give the
CPU time their work took (`cpu_seconds`: every thread of the process; kubectl's own process).
Contenders:

- `collector`: k8saudit's Collector (discovery, concurrent paginated lists, parse, redact, keep).
- `bare-httpx`: the lower bound: the same list pages with the same page size, concurrency, client
  and headers, bytes read and thrown away (the continue token is cut out of the raw bytes).
- `kubernetes-client`: the official client's `list_*` calls with `_continue`, deserialized into
  its models and kept, 8 kinds at a time (threads), gzip accepted.
- `kubectl`: `kubectl get <kinds> -A -o json --chunk-size=<page size>`, output discarded.
- `offline`: check evaluation, scoring, snapshot save (plain, gzip) of the collected inventory.
- `load`: opening one snapshot file, in a fresh process.
- `tui`: `k8saudit open` headless through Textual's Pilot: time to an interactive overview, then
  filter keystrokes on the findings table. Run on the snapshot as this k8saudit saved it (its
  findings are reused) and on one saved by another version (shown as saved while today's
  checks re-run, then swapped for today's findings).
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import orjson

from bench.cluster import ListTarget, Served

_CONTINUE = re.compile(rb'"continue":"([^"]*)"')
_T = TypeVar("_T")


def collector(config: dict[str, Any]) -> dict[str, Any]:
    from k8saudit.collector import Collector, CollectorSettings
    from k8saudit.connection import connect

    settings = CollectorSettings(concurrency=config["concurrency"], page_size=config["page_size"])
    connection = connect(config["served"]["kubeconfig"], None)
    (inventory, collection), seconds, cpu_seconds = _clocked(
        lambda: asyncio.run(Collector(connection, settings).collect())
    )
    objects = sum(len(items) for items in inventory.objects.values())
    result = {"seconds": seconds, "cpu_seconds": cpu_seconds, "objects": objects}
    if config.get("save_inventory"):
        result["saved"] = _save_inventory(inventory, collection, Path(config["save_inventory"]))
    return result


def _save_inventory(inventory: Any, collection: Any, path: Path) -> str:
    """The collected inventory as a snapshot without findings, for the offline measurements."""
    from k8saudit import snapshot
    from k8saudit.report import evaluate

    snapshot.save(evaluate(inventory, collection, recorded_findings=[]), path)
    return str(path)


def bare_httpx(config: dict[str, Any]) -> dict[str, Any]:
    import httpx

    served = Served.from_dict(config["served"])
    concurrency, page_size = config["concurrency"], config["page_size"]
    counters = {"bytes": 0, "wire_bytes": 0, "requests": 0}

    async def list_kind(client: httpx.AsyncClient, gate: asyncio.Semaphore, target: ListTarget) -> None:
        token = None
        while True:
            params = {"limit": str(page_size), **({"continue": token} if token else {})}
            async with gate:
                response = await client.get(target.path, params=params, headers={"Accept": target.accept})
            body = response.content
            counters["bytes"] += len(body)
            counters["wire_bytes"] += response.num_bytes_downloaded
            counters["requests"] += 1
            match = _CONTINUE.search(body, max(0, len(body) - 4096)) or _CONTINUE.search(body, 0, 4096)
            token = match.group(1).decode() if match else None
            if not token:
                return

    async def run() -> None:
        context = ssl.create_default_context(cafile=served.ca_pem_path)
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        headers = {"Authorization": f"Bearer {served.token}"}
        async with httpx.AsyncClient(
            base_url=served.url, verify=context, limits=limits, headers=headers, timeout=120
        ) as client:
            gate = asyncio.Semaphore(concurrency)
            await asyncio.gather(*(list_kind(client, gate, t) for t in served.targets))

    _, seconds, cpu_seconds = _clocked(lambda: asyncio.run(run()))
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, **counters}


# Official client: API class per group (the kinds this benchmark lists).
_CLIENT_APIS = {
    "": "CoreV1Api",
    "apps": "AppsV1Api",
    "batch": "BatchV1Api",
    "networking.k8s.io": "NetworkingV1Api",
    "policy": "PolicyV1Api",
    "scheduling.k8s.io": "SchedulingV1Api",
    "rbac.authorization.k8s.io": "RbacAuthorizationV1Api",
    "admissionregistration.k8s.io": "AdmissionregistrationV1Api",
    "apiextensions.k8s.io": "ApiextensionsV1Api",
}


def _snake(kind: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()


def kubernetes_client(config: dict[str, Any]) -> dict[str, Any]:
    import kubernetes

    served = Served.from_dict(config["served"])
    configuration = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(served.kubeconfig, client_configuration=configuration)
    configuration.connection_pool_maxsize = config["concurrency"]
    api_client = kubernetes.client.ApiClient(configuration)
    api_client.set_default_header("Accept-Encoding", "gzip")  # urllib3 decodes it
    skipped: list[str] = []
    calls: list[tuple[str, Callable[..., Any]]] = []
    for target in served.targets:
        api_name = _CLIENT_APIS.get(target.group)
        scope = "_for_all_namespaces" if target.namespaced else ""
        api = getattr(kubernetes.client, api_name, None) if api_name else None
        method = getattr(api(api_client), f"list_{_snake(target.kind)}{scope}", None) if api else None
        if method is None or target.version not in (api_name or "").lower():
            skipped.append(target.key)
            continue
        calls.append((target.key, method))

    def list_all(call: tuple[str, Callable[..., Any]]) -> list[Any]:
        _key, method = call
        kept, token = [], None
        while True:
            page = (
                method(limit=config["page_size"], _continue=token)
                if token
                else method(limit=config["page_size"])
            )
            kept.extend(page.items)
            token = page.metadata._continue
            if not token:
                return kept

    with ThreadPoolExecutor(config["concurrency"]) as pool:
        results, seconds, cpu_seconds = _clocked(lambda: list(pool.map(list_all, calls)))
    objects = sum(len(r) for r in results)
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "objects": objects, "skipped": skipped}


def kubectl(config: dict[str, Any]) -> dict[str, Any]:
    served = Served.from_dict(config["served"])
    kinds = ",".join(f"{t.resource}.{t.group}" if t.group else t.resource for t in served.targets)
    with tempfile.TemporaryDirectory() as cache:
        command = [config["kubectl"], "get", kinds, "-A", "-o", "json"]
        command += [f"--chunk-size={config['page_size']}", f"--kubeconfig={served.kubeconfig}"]
        command += [f"--cache-dir={cache}"]  # a cold discovery cache, like every other contender
        done, seconds, cpu_seconds = _clocked(
            lambda: subprocess.run(command, capture_output=True, check=False), cpu_clock=_children_cpu
        )
    if done.returncode != 0:
        raise RuntimeError(f"kubectl failed: {done.stderr.decode(errors='replace').strip()[:300]}")
    objects = len(orjson.loads(done.stdout).get("items") or [])
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "objects": objects,
        "output_bytes": len(done.stdout),
    }


def _clocked(
    work: Callable[[], _T], cpu_clock: Callable[[], float] = time.process_time
) -> tuple[_T, float, float]:
    """`work()`'s value, the wall time it took and the CPU time (by default this process's,
    every thread)."""
    started, cpu_started = time.perf_counter(), cpu_clock()
    value = work()
    return value, time.perf_counter() - started, cpu_clock() - cpu_started


def _children_cpu() -> float:
    """The CPU time of this process's finished children (kubectl)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def offline(config: dict[str, Any]) -> dict[str, Any]:
    """Checks, scoring, snapshot save (.json, .json.gz): each step timed on the same inventory.
    Loading is measured by `load`, each file in a fresh process like `k8saudit open`."""
    out = Path(config["workdir"])
    plain, packed = out / "offline.json", out / "offline.json.gz"
    timings: dict[str, float] = {}
    findings = _evaluate_and_save(Path(config["snapshot"]), plain, packed, timings)
    return {
        "seconds": sum(timings.values()),
        "steps": timings,
        "findings": findings,
        "sizes": {"plain": plain.stat().st_size, "gzip": packed.stat().st_size},
    }


def _timed(timings: dict[str, float], name: str, work: Callable[[], Any]) -> Any:
    value, timings[name], _ = _clocked(work)
    return value


def _evaluate_and_save(source: Path, plain: Path, packed: Path, timings: dict[str, float]) -> int:
    from k8saudit import snapshot
    from k8saudit.engine import run_checks
    from k8saudit.registry import Config, Context, load_checks
    from k8saudit.report import Report, evaluation_fingerprint
    from k8saudit.scoring import score

    loaded = _timed(timings, "load_input", lambda: snapshot.load(source))
    inventory = loaded.inventory
    checks = load_checks()
    settings = Config()
    context = Context(now=loaded.collection.finished_at, calendar=loaded.calendar, config=settings)
    findings = _timed(timings, "checks", lambda: run_checks(inventory, context, checks.values()))
    scores = _timed(timings, "scoring", lambda: score(findings, checks, settings.area_weights))
    # Saved as `k8saudit scan` saves it: with the fingerprint of the code and settings that made
    # the findings, so that `k8saudit open` with this same k8saudit reuses them.
    fingerprint = evaluation_fingerprint(checks, settings, loaded.calendar)
    report = Report(
        inventory, loaded.collection, findings, scores, checks, loaded.calendar, fingerprint=fingerprint
    )
    _timed(timings, "save_plain", lambda: snapshot.save(report, plain))
    _timed(timings, "save_gzip", lambda: snapshot.save(report, packed))
    # As another k8saudit version would have saved it (untimed): opening it re-runs the checks.
    report.fingerprint = "another k8saudit version"
    snapshot.save(report, packed.with_name(OTHER_VERSION_SNAPSHOT))
    return len(findings)


OTHER_VERSION_SNAPSHOT = "offline-other-version.json.gz"


def load(config: dict[str, Any]) -> dict[str, Any]:
    from k8saudit import snapshot

    started = time.perf_counter()
    loaded = snapshot.load(config["snapshot"])
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "objects": sum(len(v) for v in loaded.inventory.objects.values())}


def tui(config: dict[str, Any]) -> dict[str, Any]:
    """`k8saudit open SNAPSHOT` headless (Textual's Pilot): the time until the overview is up and
    idle (load, scores; the findings as saved when the snapshot is another version's), until
    today's findings are shown (the same, or after today's checks ran), then filter keystrokes
    on the findings screen."""
    return asyncio.run(_tui(config))


async def _tui(config: dict[str, Any]) -> dict[str, Any]:
    from screens.app import K8sAuditApp
    from screens.findings import FindingsScreen
    from screens.overview import OverviewScreen

    started = time.perf_counter()
    # Debounce 1 ms: every key is answered as a key typed after a pause is with the usual 150 ms
    # (at once); the keys of a fast burst would wait for the last one.
    app = K8sAuditApp(snapshot=config["snapshot"], cursor_blink=False, debounce_s=0.001)
    async with app.run_test(size=(160, 48)) as pilot:
        while not isinstance(app.screen, OverviewScreen):
            await pilot.pause(0.01)
        await pilot.pause()
        interactive = time.perf_counter() - started
        # Another version's snapshot shows its findings as saved while today's checks run over
        # it; the keystrokes are timed once they are shown (the overview swaps them in).
        while app.rechecking is not None:
            await pilot.pause(0.01)
        await pilot.pause()
        rechecked = time.perf_counter() - started
        await pilot.press("f")
        screen = app.screen
        assert isinstance(screen, FindingsScreen)
        findings = len(screen.index)
        await pilot.press("slash")
        frames, filtered = _frame_times(app), _call_end_times(screen, "_apply")
        keystrokes, on_screen = [], []
        for key in config.get("keys", "team-00"):
            before = screen.rows_shown
            start = time.perf_counter()
            await pilot.press(key if key != "-" else "minus")
            while screen.rows_shown is before:  # the filter ran
                await pilot.pause(0.001)
            await pilot.pause()  # and the table was redrawn
            keystrokes.append(time.perf_counter() - start)
            frame = next((t for t in frames if t >= filtered[-1]), None)  # the first after the filter
            if frame is not None:
                on_screen.append(frame - start)
        shown = len(screen.rows_shown)
    return {
        "seconds": interactive,
        "rechecked_seconds": rechecked,
        "findings": findings,
        "keystroke_ms": [round(k * 1000, 1) for k in keystrokes],
        "keystroke_median_ms": _median_ms(keystrokes),
        "keystroke_max_ms": round(max(keystrokes) * 1000, 1),
        # Without Pilot's waits for idle (each polls in 20 ms sleeps until the CPU rests): from
        # the key to the first frame Textual composed after the filter ran.
        "keystroke_on_screen_median_ms": _median_ms(on_screen) if len(on_screen) == len(keystrokes) else None,
        "rows_after": shown,
    }


def _median_ms(seconds: list[float]) -> float:
    return round(sorted(seconds)[len(seconds) // 2] * 1000, 1)


def _frame_times(app: Any) -> list[float]:
    """When the app puts out each frame from now on: Textual hands every composed screen update
    to `App._display` (which a headless app does not write anywhere)."""
    times: list[float] = []
    display = app._display

    def timed_display(screen: Any, renderable: Any) -> None:
        if renderable is not None:
            times.append(time.perf_counter())
        display(screen, renderable)

    app._display = timed_display
    return times


def _call_end_times(obj: Any, name: str) -> list[float]:
    """When each call of `obj.name` from now on returned."""
    times: list[float] = []
    method = getattr(obj, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        finally:
            times.append(time.perf_counter())

    setattr(obj, name, timed)
    return times


CONTENDERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "collector": collector,
    "bare-httpx": bare_httpx,
    "kubernetes-client": kubernetes_client,
    "kubectl": kubectl,
    "offline": offline,
    "load": load,
    "tui": tui,
}


def main(argv: list[str]) -> int:
    name, config_path = argv
    config = orjson.loads(Path(config_path).read_bytes())
    result = CONTENDERS[name](config)
    # Straight to fd 1: a Textual app (the `tui` contender) swaps sys.stdout while it runs.
    os.write(1, orjson.dumps(result) + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
