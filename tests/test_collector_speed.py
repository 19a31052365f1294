"""The collector's speed machinery, judged by what it does (never by a clock): the next page is
requested while the current one is parsed, each page is fetched once, a wrong guess costs nothing
but a cancelled request, and the cyclic GC is kept off the inventory."""

from __future__ import annotations

import gc
from collections import Counter
from pathlib import Path

import orjson
import pytest

from k8saudit import heap, snapshot
from k8saudit.collector import Collector, CollectorSettings, PageReceived, _peek_continue
from k8saudit.connection import connect
from k8saudit.redact import redact
from k8saudit.report import evaluate
from tests.replay import ReplayServer, generate_cluster

PODS = "/api/v1/pods"


def _page(items: list[dict], token: str | None, metadata_first: bool) -> bytes:
    meta = {"resourceVersion": "42", **({"continue": token} if token else {})}
    if metadata_first:  # kube-apiserver's order
        return orjson.dumps({"kind": "PodList", "apiVersion": "v1", "metadata": meta, "items": items})
    return orjson.dumps({"apiVersion": "v1", "items": items, "kind": "PodList", "metadata": meta})


@pytest.mark.parametrize("metadata_first", [True, False])
def test_peek_finds_the_lists_own_token_not_an_items(metadata_first: bool) -> None:
    decoy = {"metadata": {"name": "x", "annotations": {"note": '"continue":"DECOY"'}}, "continue": "DECOY2"}
    raw = _page([decoy, {"metadata": {"name": "y"}}], "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ", metadata_first)
    assert _peek_continue(raw) == "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ"


@pytest.mark.parametrize("metadata_first", [True, False])
def test_peek_finds_nothing_on_the_last_page(metadata_first: bool) -> None:
    decoy = {"metadata": {"name": "x"}, "spec": {"args": ['"continue":"DECOY"']}}
    assert _peek_continue(_page([decoy], None, metadata_first)) is None
    assert _peek_continue(_page([], None, metadata_first)) is None


def test_peek_on_something_that_is_not_a_list() -> None:
    assert _peek_continue(b'{"kind":"Status","metadata":{"continue":"abc"}}') is None
    assert _peek_continue(b"") is None


async def test_every_page_is_requested_once_and_all_items_arrive(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    cluster = generate_cluster(nodes=3, pods=95, seed=3)
    replay_server.load(cluster.collections, replace=True)
    settings = CollectorSettings(page_size=10, concurrency=4)
    collector = Collector(connect(str(replay_server.write_kubeconfig(tmp_path / "k"))), settings)
    inventory, _ = await collector.collect()

    names = [pod["metadata"]["name"] for pod in inventory.items("pods")]
    assert len(names) == 95 and len(set(names)) == 95
    assert names == sorted(p["metadata"]["name"] for p in cluster[("", "v1", "pods")])
    pages = [r for r in replay_server.requests if r.path == PODS]
    tokens = Counter(r.params.get("continue", "") for r in pages)
    assert len(pages) == 10 and set(tokens.values()) == {1}, "a page was fetched twice"
    assert inventory.coverage_of("pods").pages == 10


async def test_a_page_asked_ahead_that_fails_is_retried_in_turn(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    replay_server.load(generate_cluster(nodes=2, pods=40, seed=4).collections, replace=True)

    def fail_later_pages(event: object) -> None:
        # Page 2 is already on its way when page 1 is reported: the failures hit pages asked ahead.
        if isinstance(event, PageReceived) and event.key == "pods" and event.page == 1:
            replay_server.fail(PODS, 500, times=2)

    settings = CollectorSettings(page_size=10, backoff_base_s=0.01)
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "k")
    inventory, _ = await Collector(connect(str(kubeconfig)), settings, fail_later_pages).collect()
    assert len({p["metadata"]["name"] for p in inventory.items("pods")}) == 40
    assert inventory.coverage_of("pods").state == "ok"
    failed = [r for r in replay_server.requests if r.path == PODS and r.status == 500]
    assert len(failed) == 2 and all(r.params.get("continue") for r in failed)


async def test_an_expired_token_asked_ahead_restarts_the_list_without_duplicates(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    replay_server.load(generate_cluster(nodes=2, pods=40, seed=5).collections, replace=True)
    replay_server.expire_continue(PODS)
    settings = CollectorSettings(page_size=10)
    collector = Collector(connect(str(replay_server.write_kubeconfig(tmp_path / "k"))), settings)
    inventory, _ = await collector.collect()
    names = [p["metadata"]["name"] for p in inventory.items("pods")]
    assert len(names) == 40 and len(set(names)) == 40
    assert "restart" in inventory.coverage_of("pods").message


def test_gc_paused_restores_the_previous_state_and_nests() -> None:
    assert gc.isenabled()
    with heap.gc_paused():
        assert not gc.isenabled()
        with heap.gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_settle_moves_live_objects_out_of_collections() -> None:
    before = gc.get_freeze_count()
    kept = [{"n": [i]} for i in range(1000)]  # tracked by the GC (a dict of atoms is not)
    try:
        heap.settle()
        assert gc.get_freeze_count() >= before + len(kept)
    finally:
        gc.unfreeze()


def test_chunked_snapshot_is_the_same_document(tmp_path: Path) -> None:
    from k8saudit import snapshot
    from k8saudit.report import CollectionInfo, evaluate, utcnow
    from tests import factories as f

    pods = [f.pod(f"p{i}", "shop") for i in range(12)]
    inventory = f.make_inventory(pods=pods, nodes=[f.node("n1")])
    report = evaluate(inventory, CollectionInfo(utcnow(), utcnow()))
    original_slice, snapshot._SLICE = snapshot._SLICE, 5  # several slices per list
    try:
        assert snapshot.dumps(report) == orjson.dumps(snapshot.to_dict(report))
        saved = snapshot.save(report, tmp_path / "s.json.gz")
    finally:
        snapshot._SLICE = original_slice
    loaded = snapshot.load(saved)
    assert [p["metadata"]["name"] for p in loaded.inventory.items("pods")] == [f"p{i}" for i in range(12)]
    assert [x.to_dict() for x in loaded.findings] == [x.to_dict() for x in report.findings]


@pytest.mark.parametrize(
    ("namespace", "name"),
    [
        ("kube-system", "coredns"),
        ("kube-system", "rke2-coredns-rke2-coredns"),
        ("kube-system", "cluster-proportional-dns-autoscaler"),
        ("ingress", "my-ingress-nginx-controller"),
        ("app-routing-system", "nginx"),
        ("default", "nginx"),
        ("shop", "app-00001-config"),
        ("kube-system", "kube-proxy"),
        ("x", "nginx-load-balancer-abc-conf"),
    ],
)
def test_compiled_configmap_rules_keep_what_the_globs_keep(namespace: str, name: str) -> None:
    import fnmatch

    from k8saudit.redact import CONFIGMAP_VALUES_KEPT, _kept_configmap_keys

    expected = next(
        (
            keys
            for ns_glob, name_glob, keys in CONFIGMAP_VALUES_KEPT
            if fnmatch.fnmatchcase(namespace, ns_glob) and fnmatch.fnmatchcase(name, name_glob)
        ),
        (),
    )
    assert _kept_configmap_keys(namespace, name) == expected


async def test_page_responses_are_freed_without_the_cyclic_gc(
    replay_server: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import weakref

    import httpx

    replay_server.load(generate_cluster(nodes=2, pods=60, seed=6).collections, replace=True)
    pages: list[weakref.ref[httpx.Response]] = []
    send = httpx.AsyncClient.send

    async def recording_send(
        self: httpx.AsyncClient, request: httpx.Request, **kwargs: object
    ) -> httpx.Response:
        response = await send(self, request, **kwargs)
        if "limit" in request.url.params:
            pages.append(weakref.ref(response))
        return response

    monkeypatch.setattr(httpx.AsyncClient, "send", recording_send)
    settings = CollectorSettings(page_size=10)
    collector = Collector(connect(str(replay_server.write_kubeconfig(tmp_path / "k"))), settings)
    with heap.gc_paused():  # as during a scan: only reference counting frees anything
        inventory, _ = await collector.collect()
        alive = [ref for ref in pages if ref() is not None]
    assert len(inventory.items("pods")) == 60 and len(pages) >= 6
    assert alive == [], f"{len(alive)} of {len(pages)} page responses still in memory"


async def test_sibling_pods_share_equal_parts_and_read_the_same(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    cluster = generate_cluster(nodes=2, pods=12, pods_per_deployment=3, seed=7)
    replay_server.load(cluster.collections, replace=True)
    collector = Collector(connect(str(replay_server.write_kubeconfig(tmp_path / "k"))), CollectorSettings())
    inventory, _ = await collector.collect()
    pods = inventory.items("pods")
    first, second = pods[0], pods[1]  # the first two replicas of one ReplicaSet
    assert first["metadata"]["ownerReferences"] == second["metadata"]["ownerReferences"]
    assert first["spec"]["tolerations"] is second["spec"]["tolerations"]
    # Each replica mounts its own token volume: the containers differ, their equal fields do not.
    assert first["spec"]["containers"] is not second["spec"]["containers"]
    assert first["spec"]["containers"][0]["resources"] is second["spec"]["containers"][0]["resources"]
    assert first["metadata"]["name"] != second["metadata"]["name"]
    # Sharing changes nothing a reader can see: the same data as the server's, redacted.
    served = replay_server.objects("", "v1", "pods")
    for pod in served:
        redact("pods", pod)
    assert pods == served


async def test_neighbouring_services_and_nodes_share_equal_parts_collected_and_saved(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    """Services of one namespace and nodes of one pool are alike: the collector keeps one copy
    of each part neighbours have equal (across pages too), a snapshot writes it once, and it
    comes back shared. Nothing a reader sees changes."""
    cluster = generate_cluster(nodes=4, pods=12, pods_per_deployment=3, seed=6)
    replay_server.load(cluster.collections, replace=True)
    settings = CollectorSettings(page_size=1)  # every neighbour on another page
    inventory, collection = await Collector(
        connect(str(replay_server.write_kubeconfig(tmp_path / "k"))), settings
    ).collect()
    services, nodes = inventory.items("services"), inventory.items("nodes")
    assert len(services) == 4 and len(nodes) == 4
    assert services[0]["spec"]["ports"] is services[1]["spec"]["ports"]  # both DNS ports
    assert services[0]["spec"]["ipFamilies"] is services[1]["spec"]["ipFamilies"]
    assert services[0]["spec"]["selector"] is not services[1]["spec"]["selector"]
    assert nodes[1]["status"]["capacity"] is nodes[2]["status"]["capacity"]
    assert nodes[1]["status"]["nodeInfo"] is not nodes[2]["status"]["nodeInfo"]  # bootID, machineID
    assert nodes[1]["metadata"]["creationTimestamp"] is nodes[2]["metadata"]["creationTimestamp"]
    for key in ("services", "nodes"):
        served = replay_server.objects("", "v1", key)
        for item in served:
            redact(key, item)
        assert inventory.items(key) == served

    path = snapshot.save(evaluate(inventory, collection), tmp_path / "s.json")
    tables = orjson.loads(path.read_bytes())["inventory"]["same_as_previous"]
    assert {"pods", "services", "nodes"} <= set(tables)
    loaded = snapshot.load(path).inventory
    assert loaded.items("services") == services and loaded.items("nodes") == nodes
    assert loaded.items("services")[0]["spec"]["ports"] is loaded.items("services")[1]["spec"]["ports"]


async def test_a_page_asked_ahead_that_failed_is_retrieved_when_the_list_ends(caplog) -> None:
    """The list ended early (deadline, Ctrl-C, a malformed page) after its read-ahead page failed:
    the failure is collected, not left to asyncio's "Task exception was never retrieved"."""
    import asyncio

    from k8saudit.collector import _ReadAhead, _RequestFailed

    async def failing_page() -> None:
        raise _RequestFailed("connection reset (4 attempt(s))")

    ahead = _ReadAhead.__new__(_ReadAhead)
    page = asyncio.create_task(failing_page())
    ahead._pages = {"token": page}
    await asyncio.sleep(0.01)
    assert page.done()
    await ahead.cancel()
    del page, ahead
    gc.collect()
    assert "never retrieved" not in caplog.text
