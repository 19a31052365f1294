"""End to end: `k8saudit scan` against the HTTPS replay server through a real kubeconfig."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from k8saudit.cli import main
from k8saudit.collector import (
    METADATA_ONLY_ACCEPT,
    RULES_REVIEW_PATH,
    Collector,
    CollectorSettings,
    KindFinished,
    PageReceived,
    ScanStarted,
)
from k8saudit.connection import connect
from k8saudit.inventory import ERROR, FORBIDDEN, NOT_SERVED, OK
from k8saudit.report import evaluate
from tests import factories as f
from tests.readonly import LIST_PATHS, assert_read_only, read_only_violations
from tests.replay import ReplayServer
from tests.replay.server import SECRET_VALUE_PREFIX

CANARY = "CANARY-e2e-3b9f"


def scan(kubeconfig: Path, tmp_path: Path, *extra: str) -> Path:
    out = tmp_path / "snap.json.gz"
    assert main(["scan", "--kubeconfig", str(kubeconfig), "-o", str(out), "--quiet", *extra]) == 0
    return out


async def collect(srv: ReplayServer, kubeconfig: Path, **settings):
    events = []
    collector = Collector(connect(str(kubeconfig)), CollectorSettings(**settings), events.append)
    inventory, collection = await collector.collect()
    return inventory, collection, events


def test_scan_then_report_gives_the_same_scores(replay_server: ReplayServer, tmp_path: Path, capsys) -> None:
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "kubeconfig")
    snapshot = scan(kubeconfig, tmp_path, "--format", "json")
    live = json.loads(capsys.readouterr().out)
    assert main(["report", str(snapshot), "--format", "json"]) == 0
    offline = json.loads(capsys.readouterr().out)
    assert offline["scores"] == live["scores"]
    assert offline["findings"] == live["findings"]
    assert live["cluster"]["version"]["gitVersion"] == "v1.24.0+0"
    assert live["coverage"]["clusterroles"]["state"] == OK and live["coverage"]["clusterroles"]["count"] == 62
    assert live["coverage"]["velero.schedules"]["state"] == NOT_SERVED


def test_secret_values_never_reach_the_snapshot_or_output(
    replay_server: ReplayServer, tmp_path: Path, capsys
) -> None:
    import base64

    secret = {
        "metadata": {"name": "canary", "namespace": "shop"},
        "data": {"token": base64.b64encode(CANARY.encode()).decode()},
        "type": "Opaque",
    }
    replay_server.add_objects("", "v1", "secrets", [secret])
    env_pod = f.pod("leaky", "shop", containers=[f.container(env=[{"name": "API_TOKEN", "value": CANARY}])])
    replay_server.add_objects("", "v1", "pods", [env_pod])
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "kubeconfig")
    snapshot = scan(kubeconfig, tmp_path)
    output = capsys.readouterr()
    raw = gzip.decompress(snapshot.read_bytes()).decode()
    for text in (raw, output.out, output.err):
        assert CANARY not in text
        assert base64.b64encode(CANARY.encode()).decode() not in text
        assert SECRET_VALUE_PREFIX not in text
        assert "admin-token" not in text
    data = json.loads(raw)
    assert "canary" in {s["metadata"]["name"] for s in data["inventory"]["objects"]["secrets"]}
    assert "API_TOKEN" in raw
    secret_requests = replay_server.requests_to("/api/v1/secrets")
    assert secret_requests and all("as=PartialObjectMetadataList" in r.accept for r in secret_requests)


def test_only_reads_are_sent(replay_server: ReplayServer, tmp_path: Path) -> None:
    """Every request of a full scan (custom resources installed, small pages so that `continue`
    is used) is discovery, a list of a collected kind, or the rules review."""
    replay_server.serve_group(
        "velero.io", "v1", [{"name": "schedules", "kind": "Schedule", "namespaced": True}]
    )
    scan(replay_server.write_kubeconfig(tmp_path / "kubeconfig"), tmp_path, "--page-size", "10")
    requests = replay_server.requests
    assert_read_only(requests)
    assert any(r.params.get("continue") for r in requests), "paging was exercised"
    assert {r.method for r in requests} == {"GET", "POST"}
    listed = {r.path for r in requests if r.path in LIST_PATHS}
    assert "/apis/velero.io/v1/schedules" in listed and "/apis/velero.io/v1/backups" not in listed


def test_the_read_only_assertion_catches_every_kind_of_violation() -> None:
    from tests.replay import RequestRecord

    def record(method: str, path: str, accept: str = "application/json", **params: str) -> RequestRecord:
        return RequestRecord(method, path, dict(params), accept, "admin", "token", "k8saudit", 0.0)

    bad = [
        record("DELETE", "/api/v1/namespaces/shop/pods/web"),
        record("PATCH", "/api/v1/nodes/n1"),
        record("POST", "/api/v1/namespaces/shop/pods"),
        record("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews"),
        record("GET", "/api/v1/pods", watch="1"),
        record("GET", "/api/v1/pods", fieldSelector="spec.nodeName=n1"),
        record("GET", "/api/v1/namespaces/shop/secrets/db"),
        record("GET", "/api/v1/secrets"),
        record("GET", "/api/v1/pods/log"),
        record("GET", "/apis/events.k8s.io/v1/events"),
        record("GET", "/healthz"),
    ]
    assert len(read_only_violations(bad)) == len(bad)
    good = [
        record("GET", "/version"),
        record("GET", "/apis/batch/v1beta1"),
        record("GET", "/api/v1/secrets", METADATA_ONLY_ACCEPT, limit="500", **{"continue": "x"}),
        record("POST", RULES_REVIEW_PATH),
    ]
    assert read_only_violations(good) == []


async def test_paging_progress_and_custom_resources(replay_server: ReplayServer, tmp_path: Path) -> None:
    replay_server.serve_group(
        "velero.io", "v1", [{"name": "schedules", "kind": "Schedule", "namespaced": True}]
    )
    replay_server.add_objects(
        "velero.io", "v1", "schedules", [f.custom_resource("Schedule", "daily", "velero")]
    )
    inventory, collection, events = await collect(
        replay_server, replay_server.write_kubeconfig(tmp_path / "k"), page_size=7
    )
    assert len(inventory.items("clusterroles")) == 62
    assert inventory.coverage_of("clusterroles").pages == 9
    assert [e.page for e in events if isinstance(e, PageReceived) and e.key == "clusterroles"] == list(
        range(1, 10)
    )
    assert isinstance(events[0], ScanStarted)
    assert {e.key for e in events if isinstance(e, KindFinished)} == set(inventory.coverage)
    assert inventory.coverage_of("velero.schedules").state == OK
    assert inventory.coverage_of("velero.backups").state == NOT_SERVED
    assert [o["metadata"]["name"] for o in inventory.items("velero.schedules")] == ["daily"]
    assert collection.self_rules is not None


async def test_forbidden_kind_is_a_gap_and_its_checks_are_unknown(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    replay_server.forbid("clusterrolebindings")
    inventory, collection, _ = await collect(replay_server, replay_server.write_kubeconfig(tmp_path / "k"))
    cov = inventory.coverage_of("clusterrolebindings")
    assert cov.state == FORBIDDEN and "forbidden" in cov.message
    assert inventory.coverage_of("pods").state == OK
    report = evaluate(inventory, collection)
    assert "clusterrolebindings" in report.coverage_gaps
    rbac = [x for x in report.findings if x.check_id == "RBAC-001"]
    assert [x.status.value for x in rbac] == ["unknown"]


async def test_expired_continue_restarts_the_list_once(replay_server: ReplayServer, tmp_path: Path) -> None:
    replay_server.expire_continue("/apis/rbac.authorization.k8s.io/v1/clusterroles")
    inventory, _, _ = await collect(
        replay_server, replay_server.write_kubeconfig(tmp_path / "k"), page_size=25
    )
    assert len(inventory.items("clusterroles")) == 62
    names = [o["metadata"]["name"] for o in inventory.items("clusterroles")]
    assert len(set(names)) == 62, "restart must not duplicate the first pages"
    assert "restart" in inventory.coverage_of("clusterroles").message


async def test_retries_429_500_drops_and_broken_bodies(replay_server: ReplayServer, tmp_path: Path) -> None:
    replay_server.fail("/api/v1/pods", 429, times=2, retry_after=0)
    replay_server.fail("/api/v1/services", 500, times=2)
    replay_server.drop("/api/v1/nodes")
    replay_server.corrupt("/apis/apps/v1/deployments", mode="truncated")
    inventory, _, _ = await collect(
        replay_server, replay_server.write_kubeconfig(tmp_path / "k"), backoff_base_s=0.01
    )
    for key in ("pods", "services", "nodes", "deployments"):
        assert inventory.coverage_of(key).state == OK, (key, inventory.coverage_of(key))
    assert len(replay_server.requests_to("/api/v1/pods")) == 3


async def test_persistent_errors_and_timeouts_become_coverage_errors(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    replay_server.fail("/api/v1/services", 503, times=None)
    replay_server.slow("/api/v1/endpoints", 2.0)
    inventory, _, _ = await collect(
        replay_server,
        replay_server.write_kubeconfig(tmp_path / "k"),
        max_retries=1,
        backoff_base_s=0.01,
        request_timeout_s=0.5,
    )
    assert (
        inventory.coverage_of("services").state == ERROR
        and "503" in inventory.coverage_of("services").message
    )
    assert (
        inventory.coverage_of("endpoints").state == ERROR
        and "timed out" in inventory.coverage_of("endpoints").message
    )
    assert inventory.coverage_of("pods").state == OK


async def test_overall_deadline_keeps_what_was_read(replay_server: ReplayServer, tmp_path: Path) -> None:
    replay_server.slow("/api/v1/configmaps", 5.0)
    inventory, collection, _ = await collect(
        replay_server, replay_server.write_kubeconfig(tmp_path / "k"), deadline_s=1.5
    )
    assert inventory.coverage_of("configmaps").state == ERROR
    assert "deadline" in inventory.coverage_of("configmaps").message
    assert inventory.coverage_of("pods").state == OK
    assert any("deadline" in note for note in collection.notes)


def test_client_certificate_auth(replay_server: ReplayServer, tmp_path: Path) -> None:
    scan(replay_server.write_kubeconfig(tmp_path / "k", auth="cert"), tmp_path)
    assert {r.auth for r in replay_server.requests} == {"cert"}


async def test_exec_plugin_token_refreshed_after_401(replay_server: ReplayServer, tmp_path: Path) -> None:
    kubeconfig = replay_server.write_kubeconfig(
        tmp_path / "k", auth="exec", exec_tokens=["first-token", "second-token"], identity="admin"
    )
    replay_server.fail("/api/v1/pods", 401, times=1)  # the first token expires mid-scan
    inventory, _, _ = await collect(replay_server, kubeconfig)
    bad = {k: c for k, c in inventory.coverage.items() if c.state not in (OK, NOT_SERVED)}
    assert not bad
    pods = replay_server.requests_to("/api/v1/pods")
    assert [r.status for r in pods] == [401, 200]


def test_a_scan_that_could_read_nothing_is_an_error_not_a_grade(
    replay_server: ReplayServer, tmp_path: Path, capsys, monkeypatch
) -> None:
    """Every list forbidden: the checks that need no object would grade the cluster (an F at
    59.8 with exposure A); a fleet scan already calls it 'nothing could be read'."""
    replay_server.add_token("auditor-token", "auditor")
    replay_server.forbid("/api/v1/*", identity="auditor", times=None)
    replay_server.forbid("/apis/*/*/*", identity="auditor", times=None)
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "kubeconfig", token="auditor-token")
    monkeypatch.chdir(tmp_path)
    assert main(["scan", "--kubeconfig", str(kubeconfig), "-q"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    assert err.startswith("k8saudit: error: nothing could be read: ") and "forbidden" in err, err
    assert not list(tmp_path.glob("*.json.gz")), "no snapshot of nothing"


async def test_each_gateway_api_kind_is_listed_under_the_version_that_serves_it(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    """Gateway API's experimental channel serves v1alpha3 for BackendTLSPolicy alone, while its
    TLSRoute is at v1alpha2: a served version that does not list the kind is not where it is."""
    group = "gateway.networking.k8s.io"
    replay_server.serve_group(group, "v1", [{"name": "httproutes", "kind": "HTTPRoute"}])
    replay_server.serve_group(group, "v1alpha3", [{"name": "backendtlspolicies", "kind": "BackendTLSPolicy"}])
    replay_server.serve_group(group, "v1alpha2", [{"name": "tlsroutes", "kind": "TLSRoute"}])
    replay_server.add_objects(group, "v1alpha2", "tlsroutes", [f.custom_resource("TLSRoute", "db", "data")])
    inventory, _, _ = await collect(replay_server, replay_server.write_kubeconfig(tmp_path / "k"))
    assert inventory.coverage_of("gateway.tlsroutes").state == OK
    assert inventory.coverage_of("gateway.tlsroutes").api_version == f"{group}/v1alpha2"
    assert [o["metadata"]["name"] for o in inventory.items("gateway.tlsroutes")] == ["db"]
    assert inventory.coverage_of("gateway.tcproutes").state == NOT_SERVED
