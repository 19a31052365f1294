"""A misbehaving API server: for every fault the scan ends, the report marks exactly what is
incomplete (coverage state + message, and a note), and nothing else is lost.

Complements tests/test_scan_e2e.py (faults that heal after a retry). Time limits are injected
through CollectorSettings; no test asserts how long anything took.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from k8saudit.collector import Collector, CollectorSettings, KindFinished
from k8saudit.connection import connect
from k8saudit.inventory import ERROR, NOT_SERVED, OK, Coverage, Inventory
from k8saudit.redact import REDACTED
from k8saudit.report import CollectionInfo, evaluate
from tests import factories as f
from tests.readonly import assert_read_only
from tests.replay import ReplayServer
from tests.replay.kubeconfig import exec_plugin_calls, set_exec_tokens

FAST = {"backoff_base_s": 0.01, "backoff_max_s": 0.05, "max_retries": 3, "request_timeout_s": 5.0}


async def collect(
    srv: ReplayServer, kubeconfig: Path, on_event: Callable[[Any], None] | None = None, **settings: Any
) -> tuple[Inventory, CollectionInfo]:
    collector = Collector(connect(str(kubeconfig)), CollectorSettings(**{**FAST, **settings}), on_event)
    return await collector.collect()


def states(coverage: dict[str, Coverage]) -> dict[str, tuple[str, int]]:
    return {key: (cov.state, cov.count) for key, cov in coverage.items()}


async def baseline(srv: ReplayServer, kubeconfig: Path) -> dict[str, tuple[str, int]]:
    inventory, _ = await collect(srv, kubeconfig)
    srv.clear_requests()
    return states(inventory.coverage)


def assert_only_lost(
    inventory: Inventory, collection: CollectionInfo, clean: dict[str, tuple[str, int]], lost: set[str]
) -> None:
    """The kinds in `lost` are `error` and named in a note; every other kind is as in a clean scan;
    the checks reading a lost kind are `unknown`, never `pass`."""
    now = states(inventory.coverage)
    for key in lost:
        assert now[key][0] == ERROR, (key, inventory.coverage[key])
        assert any(key in note for note in collection.notes), (key, collection.notes)
    assert {k: v for k, v in now.items() if k not in lost} == {
        k: v for k, v in clean.items() if k not in lost
    }
    report = evaluate(inventory, collection)
    assert lost <= set(report.coverage_gaps)
    for finding in report.findings:
        meta = report.checks[finding.check_id]
        if lost & set(meta.inputs):
            assert finding.status.value == "unknown", finding


FAULTS: dict[str, tuple[Callable[[ReplayServer], object], dict[str, Any], str, str]] = {
    # name: (inject, settings, lost kind, message fragment)
    "slower than the per-request timeout": (
        lambda s: s.slow("/api/v1/services", 3.0),
        {"request_timeout_s": 0.3, "max_retries": 1},
        "services",
        "timed out",
    ),
    "429 storm with Retry-After": (
        lambda s: s.fail("/api/v1/services", 429, times=None, retry_after=1),
        {"max_retries": 10_000, "deadline_s": 3.0},
        "services",
        "throttled by the API server (429",
    ),
    "Retry-After beyond the deadline": (
        lambda s: s.fail("/api/v1/services", 429, times=None, retry_after=3600),
        {"max_retries": 10_000, "deadline_s": 60.0},
        "services",
        "429",
    ),
    "500 on every attempt": (
        lambda s: s.fail("/api/v1/services", 500, times=None),
        {},
        "services",
        "HTTP 500 after 4 attempts",
    ),
    "503 on every attempt": (
        lambda s: s.fail("/api/v1/services", 503, times=None),
        {},
        "services",
        "HTTP 503 after 4 attempts",
    ),
    "connection dropped mid-page, every time": (
        lambda s: s.drop("/api/v1/services", times=None),
        {},
        "services",
        "closed the connection",
    ),
    "connection dropped on page 2, every time": (
        lambda s: s.drop("/apis/rbac.authorization.k8s.io/v1/clusterroles", times=None, continued_only=True),
        {"page_size": 10},
        "clusterroles",
        "closed the connection",
    ),
    "continue token expired again after the restart": (
        lambda s: s.expire_continue("/apis/rbac.authorization.k8s.io/v1/clusterroles", times=None),
        {"page_size": 25},
        "clusterroles",
        "expired twice (410 Gone)",
    ),
    "truncated JSON, every time": (
        lambda s: s.corrupt("/api/v1/services", times=None, mode="truncated"),
        {},
        "services",
        "not valid JSON",
    ),
    "not JSON at all on page 2, every time": (
        lambda s: s.corrupt(
            "/apis/rbac.authorization.k8s.io/v1/clusterroles", times=None, mode="invalid", continued_only=True
        ),
        {"page_size": 10},
        "clusterroles",
        "not valid JSON",
    ),
    "a body labelled gzip that is not, every time": (
        lambda s: s.corrupt("/api/v1/services", times=None, mode="gzip"),
        {},
        "services",
        "cannot be decoded",
    ),
    "401 that a fresh credential does not cure": (
        lambda s: s.fail("/api/v1/services", 401, times=None),
        {},
        "services",
        "401 Unauthorized",
    ),
}


@pytest.mark.parametrize("name", list(FAULTS))
async def test_a_persistent_fault_costs_one_kind_and_is_reported(
    replay_server: ReplayServer, tmp_path: Path, name: str
) -> None:
    inject, settings, lost, fragment = FAULTS[name]
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "k")
    clean = await baseline(replay_server, kubeconfig)
    inject(replay_server)
    inventory, collection = await collect(replay_server, kubeconfig, **settings)
    assert fragment in inventory.coverage[lost].message, inventory.coverage[lost]
    assert_only_lost(inventory, collection, clean, {lost})
    assert_read_only(replay_server.requests)


@pytest.mark.parametrize(
    "inject",
    [
        lambda s: s.fail("/api/v1/services", 503, times=3),
        lambda s: s.fail("/api/v1/services", 429, times=3, retry_after=0),
        lambda s: s.drop("/apis/rbac.authorization.k8s.io/v1/clusterroles", times=2, continued_only=True),
        lambda s: s.corrupt("/apis/rbac.authorization.k8s.io/v1/clusterroles", mode="invalid", times=2),
        lambda s: s.corrupt("/apis/rbac.authorization.k8s.io/v1/clusterroles", mode="gzip", times=2),
    ],
    ids=["503 burst", "429 burst", "drops on page 2", "invalid JSON twice", "broken gzip twice"],
)
async def test_a_burst_of_faults_heals_without_loss(
    replay_server: ReplayServer, tmp_path: Path, inject
) -> None:
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "k")
    clean = await baseline(replay_server, kubeconfig)
    inject(replay_server)
    inventory, collection = await collect(replay_server, kubeconfig, page_size=10)
    assert states(inventory.coverage) == clean
    names = [o["metadata"]["name"] for o in inventory.items("clusterroles")]
    assert len(names) == len(set(names)) == 62, "a retried page is neither lost nor duplicated"
    assert not [n for n in collection.notes if "incomplete" in n]
    assert replay_server.pending_faults() == []


async def test_server_that_stops_answering_mid_scan_gives_a_report_with_gaps(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "k")
    finished: list[str] = []

    def on_event(event: object) -> None:
        if isinstance(event, KindFinished) and event.coverage.state == OK:
            finished.append(event.key)
            if len(finished) == 3:
                replay_server.hang()  # from now on: connections accepted, nothing answered

    inventory, collection = await collect(
        replay_server, kubeconfig, on_event, concurrency=1, deadline_s=2.0, request_timeout_s=30.0
    )
    replay_server.unhang()
    readable = {k for k, c in inventory.coverage.items() if c.state == OK}
    assert set(finished[:3]) <= readable
    late = {k for k, c in inventory.coverage.items() if c.state == ERROR}
    assert late and all("overall deadline" in inventory.coverage[k].message for k in late)
    assert any("overall deadline of 2s reached" in note for note in collection.notes)
    assert collection.self_rules is None
    report = evaluate(inventory, collection)
    assert late <= set(report.coverage_gaps)


async def test_server_that_stops_answering_during_discovery(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "k")
    replay_server.slow("/apis", 30.0)  # /version answers, then discovery hangs
    inventory, collection = await collect(replay_server, kubeconfig, deadline_s=1.5, request_timeout_s=30.0)
    assert inventory.cluster.git_version == "v1.24.0+0"
    assert {c.state for c in inventory.coverage.values()} == {ERROR}
    assert any("overall deadline" in note for note in collection.notes)


async def test_token_expiring_mid_scan_is_refreshed_through_the_exec_plugin(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    kubeconfig = replay_server.write_kubeconfig(
        tmp_path / "k", auth="exec", exec_tokens=["first-token", "second-token"], identity="admin"
    )
    replay_server.add_token("second-token", "admin-refreshed")  # tells the two tokens apart in the log
    clean = await baseline(replay_server, kubeconfig)
    set_exec_tokens(kubeconfig, "replay", ["first-token", "second-token"])  # the baseline used them
    expired_after: list[int] = []

    def on_event(event: object) -> None:
        if isinstance(event, KindFinished) and not expired_after:
            replay_server.expire_token("first-token")  # really expired, server-side, mid-scan
            expired_after.append(len(replay_server.requests))

    inventory, collection = await collect(replay_server, kubeconfig, on_event, concurrency=4)
    assert states(inventory.coverage) == clean, "nothing lost to the expiry"
    assert not [n for n in collection.notes if "incomplete" in n]
    requests = replay_server.requests
    after = requests[expired_after[0] :]
    assert [r for r in after if r.status == 401], "the old token was really rejected"
    assert {r.identity for r in after if r.status == 200} == {"admin-refreshed"}
    # One fresh token for the whole scan (connect ran the plugin once), not one per rejected request.
    assert exec_plugin_calls(kubeconfig, "replay") == 2


@pytest.mark.parametrize("check_every_s", [0.0, 3600.0])
async def test_short_lived_exec_tokens_do_not_run_the_plugin_per_request(
    replay_server: ReplayServer, tmp_path: Path, monkeypatch, check_every_s: float
) -> None:
    from k8saudit.connection import KubeAuth

    # Tokens within 5 minutes of expiry count as expired for the kubernetes package.
    kubeconfig = replay_server.write_kubeconfig(
        tmp_path / "k", auth="exec", exec_tokens=["t1", "t2", "t3"], identity="admin", exec_expires_in=60
    )
    monkeypatch.setattr(KubeAuth, "REFRESH_CHECK_S", check_every_s)
    inventory, _ = await collect(replay_server, kubeconfig)
    assert inventory.coverage_of("pods").state == OK
    calls = exec_plugin_calls(kubeconfig, "replay")
    requests = len(replay_server.requests)
    if check_every_s:
        assert calls == 1, "no refresh was due: the token from connect() served the whole scan"
    else:
        assert 1 < calls <= requests + 1, "the expiry check refreshes a token that is due"
    assert all(r.status != 401 for r in replay_server.requests)


# Scans in a child process, so that its peak resident memory is the collector's own (the replay
# server runs in this process), and saves the snapshot for the test to inspect.
_SCAN_AND_MEASURE = """
import asyncio, resource, sys
from k8saudit.collector import Collector, CollectorSettings
from k8saudit.connection import connect
from k8saudit.report import evaluate
from k8saudit.snapshot import save

inventory, collection = asyncio.run(
    Collector(connect(sys.argv[1]), CollectorSettings(request_timeout_s=120)).collect()
)
save(evaluate(inventory, collection), sys.argv[2])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def scan_in_child(kubeconfig: Path, snapshot: Path) -> int:
    """Peak RSS in bytes of a scan run in a child process."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    result = subprocess.run(
        [sys.executable, "-c", _SCAN_AND_MEASURE, str(kubeconfig), str(snapshot)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return int(result.stdout.strip())


def test_twenty_megabyte_object(replay_server: ReplayServer, tmp_path: Path) -> None:
    """20 MB values: listed, redacted (or kept when checks read them), no crash, sane memory."""
    from k8saudit.snapshot import load

    kubeconfig = replay_server.write_kubeconfig(tmp_path / "k")
    baseline_rss = scan_in_child(kubeconfig, tmp_path / "small.json")
    huge = "x" * (20 * 1024 * 1024)
    replay_server.add_objects(
        "",
        "v1",
        "configmaps",
        [
            f.configmap("bulk", "shop", data={"blob": huge, "small": "ok"}),
            f.configmap("coredns", "kube-system", data={"Corefile": ".:53 {\n" + huge + "\n}"}),
        ],
    )
    big_secret = {
        "metadata": {"name": "big", "namespace": "shop"},
        "data": {"k": base64.b64encode(huge.encode()).decode()},
    }
    replay_server.add_objects("", "v1", "secrets", [big_secret])
    rss = scan_in_child(kubeconfig, tmp_path / "big.json")

    inventory = load(tmp_path / "big.json").inventory
    assert inventory.coverage_of("configmaps").state == OK
    bulk = inventory.get("configmaps", "shop", "bulk")
    assert bulk is not None and bulk["data"] == {"blob": REDACTED, "small": REDACTED}
    coredns = inventory.get("configmaps", "kube-system", "coredns")
    assert coredns is not None and len(coredns["data"]["Corefile"]) > len(huge), "checks read the Corefile"
    assert "data" not in inventory.get("secrets", "shop", "big"), "Secrets are read as metadata only"
    assert (tmp_path / "big.json").stat().st_size < 2 * len(huge), "only the value checks read is kept"
    # 40 MB of ConfigMap values in one list page: the compressed body, the decompressed body and
    # the parsed strings coexist for a moment. A few times the payload, not a copy per retry,
    # per page or per object.
    payload = 2 * len(huge)
    assert rss - baseline_rss < 5 * payload, f"{(rss - baseline_rss) / 2**20:.0f} MiB for 40 MiB"


def test_cli_scan_against_a_failing_server_still_saves_a_report(
    replay_server: ReplayServer, tmp_path: Path, capsys
) -> None:
    from k8saudit.cli import main
    from k8saudit.snapshot import load

    replay_server.fail("/api/v1/services", 503, times=None)
    replay_server.forbid("secrets")
    out = tmp_path / "s.json"
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "k")
    assert main(["scan", "--kubeconfig", str(kubeconfig), "-o", str(out), "-q", "--deadline", "60"]) == 0
    text = capsys.readouterr().out
    assert "Coverage gaps (2 kinds" in text and "Service" in text and "Secret" in text
    assert "Note: incomplete: 1 kind(s) could not be read: services (HTTP 503" in text
    assert "Note: not permitted to read: secrets" in text
    saved = load(out)
    assert saved.inventory.coverage_of("services").state == ERROR
    assert saved.inventory.coverage_of("velero.schedules").state == NOT_SERVED


def test_scan_ends_when_everything_is_slow(replay_server: ReplayServer, tmp_path: Path, capsys) -> None:
    """Every list slower than the deadline: the CLI still ends, in one line saying that nothing
    could be read before the deadline (exit 2: no report graded on nothing)."""
    from k8saudit.cli import main

    replay_server.slow("/api/v1/*", 30.0)
    replay_server.slow("/apis/*/*/*", 30.0)
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "k")
    assert main(["scan", "--kubeconfig", str(kubeconfig), "--no-save", "-q", "--deadline", "2"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("k8saudit: error: nothing could be read: ")
    assert "overall deadline of 2s" in err and err.count("\n") == 1


def test_asyncio_loop_is_left_clean() -> None:
    """The collector leaves no task behind (a stray retry sleeping past the deadline would be)."""

    async def run() -> set[asyncio.Task[Any]]:
        with ReplayServer() as srv:
            srv.fail("/api/v1/services", 429, times=None, retry_after=1)
            srv.slow("/api/v1/pods", 30.0)
            kubeconfig = srv.write_kubeconfig(Path(srv.tmp_path) / "k")
            await collect(srv, kubeconfig, deadline_s=1.5, max_retries=10_000)
        return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}

    assert asyncio.run(run()) == set()


def _pod_with_a_list_for_labels() -> dict[str, Any]:
    bad = f.pod("bad", "shop", labels={"app": "web"})
    bad["metadata"]["labels"] = {"app": ["not", "a", "string"]}
    return bad


@pytest.mark.parametrize(
    ("where", "key", "bad", "reason"),
    [
        (
            ("", "v1", "pods"),
            "pods",
            _pod_with_a_list_for_labels,
            "1 Pod object(s) in the answer are malformed (metadata.labels is not a map of strings)",
        ),
        (
            ("", "v1", "services"),
            "services",
            lambda: {**f.service("web", "shop"), "spec": ["ClusterIP"]},
            "1 Service object(s) in the answer are malformed (spec is not an object)",
        ),
        (
            ("rbac.authorization.k8s.io", "v1", "clusterroles"),
            "clusterroles",
            lambda: {**f.clusterrole("odd", []), "rules": True},
            "1 ClusterRole object(s) in the answer are malformed (rules is not a list of objects)",
        ),
        (
            ("velero.io", "v1", "backups"),
            "velero.backups",
            lambda: {**f.custom_resource("Backup", "nightly", "velero"), "status": "Completed"},
            "1 Backup object(s) in the answer are malformed (status is not an object)",
        ),
    ],
    ids=["labels", "spec", "rules", "custom status"],
)
async def test_malformed_objects_make_their_kind_untrusted(
    replay_server: ReplayServer,
    tmp_path: Path,
    where: tuple[str, str, str],
    key: str,
    bad: Callable[[], dict[str, Any]],
    reason: str,
) -> None:
    """A broken proxy answering with objects of the wrong shape (metadata, or a field the checks
    read as a dict or list): that kind is an error, not a partial list checks would pass on, nor
    one that makes them fail as a whole; everything else is read."""
    group, version, resource = where
    if group == "velero.io":  # a custom resource: installed before the clean scan
        replay_server.serve_group(group, version, [{"name": resource, "kind": "Backup", "namespaced": True}])
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "k")
    clean = await baseline(replay_server, kubeconfig)
    replay_server.add_objects(*where, [bad()])
    inventory, collection = await collect(replay_server, kubeconfig)
    assert reason in inventory.coverage[key].message
    assert_only_lost(inventory, collection, clean, {key})
