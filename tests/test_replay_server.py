"""Tests of the replay API server itself, spoken to with plain httpx over real TLS."""

from __future__ import annotations

import base64
import concurrent.futures
import json
import socket
import ssl
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import orjson
import pytest
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config

from tests.replay import ReplayServer, closed_port_url, exec_plugin_calls
from tests.replay.generate import (
    CLUSTERROLEBINDINGS,
    CONFIGMAPS,
    DEPLOYMENTS,
    NAMESPACES,
    NODES,
    PODS,
    REPLICASETS,
    ROLEBINDINGS,
    SECRETS,
    SERVICES,
    generate_cluster,
)
from tests.replay.recorded import load_recordings
from tests.replay.store import decode_continue

REC = load_recordings()
PARTIAL_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
CLUSTERROLES = "/apis/rbac.authorization.k8s.io/v1/clusterroles"


def body(file: str):
    return REC[file].body


def make_client(
    srv: ReplayServer,
    token: str | None = "admin-token",
    cert: tuple[Path, Path] | None = None,
    **kwargs,
) -> httpx.Client:
    ctx = ssl.create_default_context(cafile=str(srv.ca_pem_path))
    if cert is not None:
        ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=srv.url, verify=ctx, headers=headers, **kwargs)


@pytest.fixture
def api(replay_server: ReplayServer):
    with make_client(replay_server) as c:
        yield c


def list_all(c: httpx.Client, path: str, limit: int, **kwargs) -> list[dict]:
    """Page through a list, checking paging metadata on the way."""
    items: list[dict] = []
    cont = None
    while True:
        params = {"limit": str(limit)} | ({"continue": cont} if cont else {})
        r = c.get(path, params=params, **kwargs)
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["items"]
        cont = page["metadata"].get("continue")
        if not cont:
            assert "remainingItemCount" not in page["metadata"]
            return items
        assert len(page["items"]) == limit
        assert page["metadata"]["remainingItemCount"] > 0


# --------------------------------------------------------------------------- discovery


@pytest.mark.parametrize(
    "path,file",
    [
        ("/version", "version.json"),
        ("/api", "api.json"),
        ("/apis", "apis.json"),
        ("/api/v1", "api_v1.json"),
        ("/apis/apps/v1", "apis_apps_v1.json"),
        ("/apis/rbac.authorization.k8s.io/v1", "apis_rbac.authorization.k8s.io_v1.json"),
    ],
)
def test_discovery_serves_the_recorded_documents(api: httpx.Client, path: str, file: str) -> None:
    r = api.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == body(file)


def test_set_version(replay_server: ReplayServer, api: httpx.Client) -> None:
    replay_server.set_version(git_version="v1.29.3", platform="linux/arm64")
    version = api.get("/version").json()
    assert (version["gitVersion"], version["major"], version["minor"]) == ("v1.29.3", "1", "29")
    assert version["platform"] == "linux/arm64"
    assert version["goVersion"] == body("version.json")["goVersion"]


def test_serve_custom_group(replay_server: ReplayServer, api: httpx.Client) -> None:
    assert api.get("/apis/velero.io/v1/schedules").status_code == 404
    replay_server.serve_group(
        "velero.io",
        "v1",
        resources=[
            {"name": "schedules", "kind": "Schedule", "namespaced": True},
            {"name": "backups", "kind": "Backup", "namespaced": True, "verbs": ["get", "list"]},
        ],
    )
    schedule = {
        "apiVersion": "velero.io/v1",
        "kind": "Schedule",
        "metadata": {"name": "daily", "namespace": "velero", "uid": "u1"},
        "spec": {"schedule": "0 1 * * *"},
    }
    replay_server.add_objects("velero.io", "v1", "schedules", [schedule])

    groups = {g["name"]: g for g in api.get("/apis").json()["groups"]}
    assert groups["velero.io"]["preferredVersion"] == {
        "groupVersion": "velero.io/v1",
        "version": "v1",
    }
    doc = api.get("/apis/velero.io/v1").json()
    assert doc["kind"] == "APIResourceList" and doc["groupVersion"] == "velero.io/v1"
    by_name = {r["name"]: r for r in doc["resources"]}
    assert by_name["schedules"]["kind"] == "Schedule"
    assert by_name["schedules"]["namespaced"] is True
    assert by_name["schedules"]["singularName"] == "schedule"
    assert "list" in by_name["schedules"]["verbs"]
    assert by_name["backups"]["verbs"] == ["get", "list"]
    # Same keys as a recorded resource entry (minus optional shortNames/categories).
    recorded_keys = set(body("apis_batch_v1.json")["resources"][0]) - {"shortNames", "categories"}
    assert set(by_name["schedules"]) == recorded_keys

    listing = api.get("/apis/velero.io/v1/schedules").json()
    assert listing["kind"] == "ScheduleList" and listing["apiVersion"] == "velero.io/v1"
    assert listing["items"] == [schedule]
    assert api.get("/apis/velero.io/v1/backups").json()["items"] == []
    assert api.get("/apis/velero.io/v1/namespaces/velero/schedules/daily").json() == schedule

    replay_server.serve_group(
        "k3s.cattle.io",
        "v1",
        [{"name": "etcdsnapshotfiles", "kind": "ETCDSnapshotFile", "namespaced": False}],
    )
    assert api.get("/apis/k3s.cattle.io/v1/etcdsnapshotfiles").json()["items"] == []


def test_remove_group_version(replay_server: ReplayServer, api: httpx.Client) -> None:
    assert api.get("/apis/batch/v1beta1").status_code == 200
    replay_server.remove_group_version("batch", "v1beta1")
    assert api.get("/apis/batch/v1beta1").status_code == 404
    batch = next(g for g in api.get("/apis").json()["groups"] if g["name"] == "batch")
    assert [v["version"] for v in batch["versions"]] == ["v1"]

    replay_server.remove_group_version("apps", "v1")
    assert "apps" not in {g["name"] for g in api.get("/apis").json()["groups"]}
    r = api.get("/apis/apps/v1/deployments")
    assert r.status_code == 404 and r.text == "404 page not found\n"


def test_unknown_path_is_the_recorded_404(api: httpx.Client) -> None:
    recorded = REC["error_404_velero_schedules.json"]
    for path in ("/apis/velero.io/v1/schedules", "/nope", "/api/v1/nosuchthings"):
        r = api.get(path)
        assert r.status_code == 404
        assert r.text == recorded.body == "404 page not found\n"
        assert r.headers["content-type"] == recorded.headers["content-type"]


# --------------------------------------------------------------------------- lists and paging


def test_paged_clusterroles_reproduce_the_recorded_pages(api: httpx.Client) -> None:
    pages = [body(f"list_clusterroles_limit25_page{n}.json") for n in (1, 2, 3)]
    cont = None
    for recorded in pages:
        params = {"limit": "25"} | ({"continue": cont} if cont else {})
        page = api.get(CLUSTERROLES, params=params).json()
        assert page == recorded  # items, continue token, remainingItemCount, resourceVersion
        cont = page["metadata"].get("continue")
    assert cont is None

    full = body("list_clusterroles.json")["items"]
    assert list_all(api, CLUSTERROLES, 25) == full
    assert api.get(CLUSTERROLES).json() == body("list_clusterroles.json")


def test_continue_token_format(api: httpx.Client) -> None:
    page = api.get(CLUSTERROLES, params={"limit": "25"}).json()
    token = page["metadata"]["continue"]
    assert "=" not in token
    raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    assert raw == {
        "v": "meta.k8s.io/v1",
        "rv": 222,
        "start": page["items"][-1]["metadata"]["name"] + "\x00",
    }
    r = api.get(CLUSTERROLES, params={"limit": "25", "continue": "not-a-token"})
    assert r.status_code == 400 and r.json()["reason"] == "BadRequest"


@pytest.mark.parametrize(
    "file",
    sorted(r.file for r in REC.full_lists() if r.file != "list_secrets_metadata_only.json"),
)
def test_every_recorded_list_is_served(api: httpx.Client, file: str) -> None:
    recorded = REC[file]
    assert api.get(recorded.path, params=recorded.params).json() == recorded.body


def test_generated_pods_page_across_and_within_namespaces(
    replay_server: ReplayServer, api: httpx.Client
) -> None:
    cluster = generate_cluster(nodes=4, pods=97, namespaces=5, seed=3)
    replay_server.load(cluster.collections, replace=True)
    everything = replay_server.objects("", "v1", "pods")
    keys = [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in everything]
    assert keys == sorted(keys) and len(keys) == 97

    assert list_all(api, "/api/v1/pods", 10) == everything
    first = api.get("/api/v1/pods", params={"limit": "10"}).json()
    assert first["metadata"]["remainingItemCount"] == 87
    ns_token = decode_continue(first["metadata"]["continue"])[1]
    assert ns_token == "{}/{}\x00".format(*keys[9])  # cluster-wide keys are namespace/name

    ns = "team-0002"
    in_ns = [p for p in everything if p["metadata"]["namespace"] == ns]
    assert list_all(api, f"/api/v1/namespaces/{ns}/pods", 4) == in_ns
    assert api.get(f"/api/v1/namespaces/{ns}/pods").json()["items"] == in_ns
    assert api.get("/api/v1/namespaces/empty/pods").json()["items"] == []
    assert api.get("/api/v1/pods").json()["items"] == everything


def test_single_object_get(api: httpx.Client) -> None:
    pod = api.get("/api/v1/namespaces/shop/pods/web-7d9c5b6f4-abcde").json()
    assert pod["kind"] == "Pod" and pod["apiVersion"] == "v1"
    assert {k: v for k, v in pod.items() if k not in ("kind", "apiVersion")} == body("list_pods.json")[
        "items"
    ][0]
    role = api.get(f"{CLUSTERROLES}/system:kube-dns").json()
    assert role["kind"] == "ClusterRole"
    assert role["apiVersion"] == "rbac.authorization.k8s.io/v1"
    # Colons percent-encoded, as the kubernetes client sends them.
    assert api.get(f"{CLUSTERROLES}/system%3Akube-dns").json() == role
    ns = api.get("/api/v1/namespaces/shop").json()
    assert ns["kind"] == "Namespace" and ns["metadata"]["name"] == "shop"

    missing = api.get("/apis/apps/v1/namespaces/shop/deployments/nope")
    assert missing.status_code == 404
    assert missing.json() == {
        "apiVersion": "v1",
        "code": 404,
        "details": {"group": "apps", "kind": "deployments", "name": "nope"},
        "kind": "Status",
        "message": 'deployments.apps "nope" not found',
        "metadata": {},
        "reason": "NotFound",
        "status": "Failure",
    }
    # A namespaced resource has no cluster-scoped object path; a cluster-scoped one has no
    # namespaced path.
    assert api.get("/api/v1/pods/web-7d9c5b6f4-abcde").status_code == 404
    assert api.get("/api/v1/namespaces/shop/nodes").status_code == 404


def test_add_set_remove_objects(replay_server: ReplayServer, api: httpx.Client) -> None:
    rv_before = int(api.get("/api/v1/nodes").json()["metadata"]["resourceVersion"])
    node = {"metadata": {"name": "extra-node", "uid": "x"}, "spec": {}, "status": {}}
    replay_server.add_objects("", "v1", "nodes", [node])
    listing = api.get("/api/v1/nodes").json()
    recorded = [n["metadata"]["name"] for n in body("list_nodes.json")["items"]]
    assert [n["metadata"]["name"] for n in listing["items"]] == sorted([*recorded, "extra-node"])
    assert int(listing["metadata"]["resourceVersion"]) > rv_before
    node["spec"]["changed"] = True  # the store keeps its own copy
    assert replay_server.objects("", "v1", "nodes")[0]["spec"] == {}

    replay_server.set_objects("", "v1", "nodes", [node])
    (only,) = api.get("/api/v1/nodes").json()["items"]
    assert only["metadata"]["name"] == "extra-node"
    assert replay_server.remove_object("", "v1", "nodes", "extra-node")
    assert api.get("/api/v1/nodes").json()["items"] == []


# --------------------------------------------------------------------------- secrets / metadata


def test_secrets_metadata_only_matches_the_recording(api: httpx.Client) -> None:
    recorded = REC["list_secrets_metadata_only.json"]
    assert recorded.accept == PARTIAL_LIST
    r = api.get("/api/v1/secrets", params={"limit": "500"}, headers={"Accept": PARTIAL_LIST})
    assert r.json() == recorded.body
    assert b'"data"' not in r.content


def test_secrets_without_metadata_accept_carry_values(api: httpx.Client) -> None:
    listing = api.get("/api/v1/secrets").json()
    assert listing["kind"] == "SecretList" and listing["apiVersion"] == "v1"
    (secret,) = listing["items"]
    assert secret["type"] == "Opaque"
    assert set(secret["data"]) == {"password"}  # the key named in the recorded managedFields
    assert base64.b64decode(secret["data"]["password"])
    partial_meta = body("list_secrets_metadata_only.json")["items"][0]["metadata"]
    assert secret["metadata"] == partial_meta

    one = api.get(
        "/api/v1/namespaces/shop/secrets/db",
        headers={"Accept": "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"},
    ).json()
    assert one == {
        "apiVersion": "meta.k8s.io/v1",
        "kind": "PartialObjectMetadata",
        "metadata": partial_meta,
    }
    assert "data" in api.get("/api/v1/namespaces/shop/secrets/db").json()


def test_metadata_only_for_any_resource(api: httpx.Client) -> None:
    r = api.get("/api/v1/pods", headers={"Accept": PARTIAL_LIST}).json()
    assert r["kind"] == "PartialObjectMetadataList"
    (item,) = r["items"]
    assert set(item) == {"apiVersion", "kind", "metadata"}
    assert item["metadata"] == body("list_pods.json")["items"][0]["metadata"]


# --------------------------------------------------------------------------- auth


def test_no_or_unknown_token_gets_the_recorded_401(replay_server: ReplayServer) -> None:
    recorded = body("error_401_bad_token.json")
    for token in (None, "invalid-token"):
        with make_client(replay_server, token=token) as c:
            r = c.get("/api/v1/nodes")
            assert r.status_code == 401
            assert r.json() == recorded


def test_token_and_client_certificate_auth(replay_server: ReplayServer) -> None:
    replay_server.add_token("auditor-token", "auditor")
    with make_client(replay_server, token="auditor-token") as c:
        assert c.get("/api/v1/nodes").status_code == 200
    cert = replay_server.issue_client_cert("alice")
    with make_client(replay_server, token=None, cert=cert) as c:
        assert c.get("/api/v1/nodes").status_code == 200
    records = replay_server.requests
    assert [(r.identity, r.auth) for r in records] == [("auditor", "token"), ("alice", "cert")]


def test_expired_client_certificate_fails_the_handshake(replay_server: ReplayServer) -> None:
    cert = replay_server.issue_client_cert("alice", expired=True)
    with (
        make_client(replay_server, token=None, cert=cert) as c,
        pytest.raises(httpx.TransportError),
    ):
        c.get("/api/v1/nodes")
    assert replay_server.requests == []


def test_foreign_client_certificate_fails_the_handshake(replay_server: ReplayServer) -> None:
    with ReplayServer(load_recorded=False) as other:
        foreign = other.issue_client_cert("mallory")
        with (
            make_client(replay_server, token=None, cert=foreign) as c,
            pytest.raises(httpx.TransportError),
        ):
            c.get("/api/v1/nodes")
    assert replay_server.requests == []


def test_expire_token_mid_scan(replay_server: ReplayServer, api: httpx.Client) -> None:
    assert api.get("/api/v1/nodes").status_code == 200
    replay_server.expire_token("admin-token")
    r = api.get("/api/v1/pods")
    assert r.status_code == 401 and r.json() == body("error_401_bad_token.json")
    replay_server.add_token("admin-token", "admin")  # re-adding revives it
    assert api.get("/api/v1/pods").status_code == 200


# --------------------------------------------------------------------------- reviews, methods


def test_self_subject_rules_review(api: httpx.Client) -> None:
    r = api.post(
        "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
        json={
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectRulesReview",
            "spec": {"namespace": "shop"},
        },
    )
    assert r.status_code == 201
    expected = dict(body("selfsubjectrulesreview_auditor.json"), spec={"namespace": "shop"})
    assert r.json() == expected


def test_self_subject_access_review(replay_server: ReplayServer, api: httpx.Client) -> None:
    def review(resource: str) -> dict:
        r = api.post(
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            json={
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": {"verb": "list", "resource": resource}},
            },
        )
        assert r.status_code == 201
        return r.json()

    allowed = review("secrets")
    assert allowed["kind"] == "SelfSubjectAccessReview"
    assert allowed["spec"]["resourceAttributes"]["resource"] == "secrets"
    assert allowed["status"]["allowed"] is True
    replay_server.forbid("secrets", identity="admin")
    assert review("secrets")["status"]["allowed"] is False
    assert review("pods")["status"]["allowed"] is True


@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH", "POST"])
def test_other_methods_are_rejected_and_recorded(
    replay_server: ReplayServer, api: httpx.Client, method: str
) -> None:
    r = api.request(method, "/api/v1/namespaces/shop/pods/web-7d9c5b6f4-abcde", json={})
    assert r.status_code == 405
    assert r.json()["reason"] == "MethodNotAllowed"
    (record,) = replay_server.requests
    assert (record.method, record.status) == (method, 405)


# --------------------------------------------------------------------------- request log


def test_request_log(replay_server: ReplayServer, api: httpx.Client) -> None:
    api.get("/api/v1/secrets", params={"limit": "500"}, headers={"Accept": PARTIAL_LIST})
    api.get(CLUSTERROLES, params={"limit": "25"})
    first, second = replay_server.requests
    assert (first.method, first.path, first.params) == ("GET", "/api/v1/secrets", {"limit": "500"})
    assert first.accept == PARTIAL_LIST
    assert (first.identity, first.auth, first.status, first.fault) == ("admin", "token", 200, None)
    assert second.path == CLUSTERROLES and second.params == {"limit": "25"}
    assert "admin-token" not in repr(replay_server.requests)
    assert replay_server.requests_to(CLUSTERROLES) == [second]
    replay_server.clear_requests()
    assert replay_server.requests == []


def test_many_concurrent_keep_alive_connections(replay_server: ReplayServer) -> None:
    def worker(n: int) -> list[int]:
        with make_client(replay_server) as c:
            return [c.get("/api/v1/pods" if i % 2 else "/api").status_code for i in range(10)]

    with concurrent.futures.ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(worker, range(48)))
    assert all(code == 200 for codes in results for code in codes)
    assert len(replay_server.requests) == 480


# --------------------------------------------------------------------------- faults


def test_forbid(replay_server: ReplayServer, api: httpx.Client) -> None:
    replay_server.add_token("auditor-token", "auditor")
    replay_server.forbid("nodes", identity="auditor")
    with make_client(replay_server, token="auditor-token") as auditor:
        r = auditor.get("/api/v1/nodes", params={"limit": "500"})
        assert r.status_code == 403
        assert r.json() == body("error_403_nodes_as_auditor.json")  # same words as the real one
        one_node = "/api/v1/nodes/ip-10-0-1-21.eu-central-1.compute.internal"
        assert auditor.get(one_node).status_code == 403
        assert auditor.get("/api/v1/pods").status_code == 200
    assert api.get("/api/v1/nodes").status_code == 200  # other identities unaffected

    replay_server.forbid("/apis/apps/v1/namespaces/shop/deployments")
    r = api.get("/apis/apps/v1/namespaces/shop/deployments")
    assert r.json()["message"] == (
        'deployments.apps is forbidden: User "admin" cannot list resource "deployments" '
        'in API group "apps" in the namespace "shop"'
    )
    assert r.json()["details"] == {"group": "apps", "kind": "deployments"}
    assert api.get("/apis/apps/v1/deployments").status_code == 200
    assert replay_server.requests[-2].fault == "forbid"


def test_fail_with_retry_after_then_recover(replay_server: ReplayServer, api: httpx.Client) -> None:
    replay_server.fail("/api/v1/pods", 429, times=2, retry_after=3)
    for _ in range(2):
        r = api.get("/api/v1/pods")
        assert r.status_code == 429
        assert r.headers["retry-after"] == "3"
        assert r.json()["reason"] == "TooManyRequests"
        assert r.json()["details"] == {"retryAfterSeconds": 3}
    assert api.get("/api/v1/pods").status_code == 200
    assert [r.status for r in replay_server.requests] == [429, 429, 200]
    assert [r.fault for r in replay_server.requests] == ["fail", "fail", None]


@pytest.mark.parametrize(
    "status,reason", [(500, "InternalError"), (503, "ServiceUnavailable"), (504, "Timeout")]
)
def test_fail_server_errors(api: httpx.Client, replay_server: ReplayServer, status, reason) -> None:
    replay_server.fail("services", status)
    r = api.get("/api/v1/namespaces/shop/services")
    assert r.status_code == status and r.json()["reason"] == reason
    assert api.get("/api/v1/namespaces/shop/services").status_code == 200


def test_fail_404_and_custom_body(replay_server: ReplayServer, api: httpx.Client) -> None:
    replay_server.fail("/apis/apps/v1/deployments", 404)
    r = api.get("/apis/apps/v1/deployments")
    assert (r.status_code, r.text) == (404, "404 page not found\n")
    replay_server.fail("/api/v1/pods", 500, body={"kind": "Status", "message": "etcd down"})
    assert api.get("/api/v1/pods").json() == {"kind": "Status", "message": "etcd down"}


def test_faults_are_consumed_in_order_and_scoped(replay_server: ReplayServer, api: httpx.Client) -> None:
    replay_server.add_token("auditor-token", "auditor")
    replay_server.fail("/api/v1/pods", 500, identity="auditor")
    replay_server.fail("/api/v1/pods", 500)
    replay_server.fail("/api/v1/pods", 503)
    assert [api.get("/api/v1/pods").status_code for _ in range(3)] == [500, 503, 200]
    assert len(replay_server.pending_faults()) == 1  # the auditor's one is still waiting
    replay_server.fail("/api/v1/*", 503, times=None)
    assert api.get("/api/v1/nodes").status_code == 503
    replay_server.clear_faults()
    assert replay_server.pending_faults() == []
    assert api.get("/api/v1/nodes").status_code == 200


def test_expire_continue(replay_server: ReplayServer, api: httpx.Client) -> None:
    replay_server.expire_continue(CLUSTERROLES)
    first = api.get(CLUSTERROLES, params={"limit": "25"}).json()  # no token: unaffected
    token = first["metadata"]["continue"]
    r = api.get(CLUSTERROLES, params={"limit": "25", "continue": token})
    assert r.status_code == 410
    expired = r.json()
    recorded = body("error_410_expired_continue.json")
    assert {k: v for k, v in expired.items() if k != "metadata"} == {
        k: v for k, v in recorded.items() if k != "metadata"
    }
    fresh = expired["metadata"]["continue"]
    assert fresh != token
    assert decode_continue(fresh) == (-1, decode_continue(token)[1])
    # The fault is spent; the old token and the fresh one both continue the list.
    for t in (token, fresh):
        page = api.get(CLUSTERROLES, params={"limit": "25", "continue": t}).json()
        assert page["items"] == body("list_clusterroles_limit25_page2.json")["items"]


def test_recorded_410_token_is_understood() -> None:
    recorded = body("error_410_expired_continue.json")["metadata"]["continue"]
    assert decode_continue(recorded) == (-1, "system:aggregate-to-edit\x00")


def test_slow(replay_server: ReplayServer, api: httpx.Client) -> None:
    replay_server.slow("/api/v1/nodes", 0.4, times=1)
    started = time.monotonic()
    assert api.get("/api/v1/nodes").status_code == 200
    assert time.monotonic() - started >= 0.35
    with pytest.raises(httpx.ReadTimeout):
        replay_server.slow("nodes", 5)
        api.get("/api/v1/nodes", timeout=0.3)


def test_drop_mid_body(replay_server: ReplayServer, api: httpx.Client) -> None:
    replay_server.drop(CLUSTERROLES)
    with pytest.raises(httpx.RemoteProtocolError):
        api.get(CLUSTERROLES)
    assert replay_server.requests[-1].fault == "drop"
    assert api.get(CLUSTERROLES).json() == body("list_clusterroles.json")


def test_drop_sends_headers_and_part_of_the_body(replay_server: ReplayServer) -> None:
    replay_server.drop(CLUSTERROLES)
    with make_client(replay_server) as c, c.stream("GET", CLUSTERROLES) as r:
        assert r.status_code == 200
        expected = int(r.headers["content-length"])
        received = bytearray()
        with pytest.raises(httpx.RemoteProtocolError):
            for chunk in r.iter_raw():
                received += chunk
    assert 0 < len(received) < expected


@pytest.mark.parametrize("mode", ["truncated", "invalid"])
def test_corrupt(replay_server: ReplayServer, api: httpx.Client, mode: str) -> None:
    replay_server.corrupt("pods", mode=mode)
    r = api.get("/api/v1/pods")
    assert r.status_code == 200
    with pytest.raises(ValueError):
        orjson.loads(r.content)
    assert api.get("/api/v1/pods").json()["kind"] == "PodList"


def test_hang_and_unhang(replay_server: ReplayServer, api: httpx.Client) -> None:
    replay_server.hang()
    with pytest.raises(httpx.ReadTimeout):
        api.get("/version", timeout=0.3)
    assert replay_server.requests[-1].status is None  # received, never answered

    results: list[int] = []

    def wait_for_answer() -> None:
        results.append(api.get("/api", timeout=30).status_code)

    waiting = threading.Thread(target=wait_for_answer)
    waiting.start()
    time.sleep(0.2)
    assert results == []
    replay_server.unhang()
    waiting.join(timeout=30)
    assert results == [200]


def test_stop_releases_everything() -> None:
    before = set(threading.enumerate())
    srv = ReplayServer()
    srv.start()
    port = srv.port
    srv.hang()
    errors: list[Exception] = []

    def hung_request(c: httpx.Client) -> None:
        try:
            c.get("/api", timeout=30)
        except httpx.TransportError as exc:
            errors.append(exc)

    with make_client(srv) as c:
        hung = threading.Thread(target=hung_request, args=(c,))
        hung.start()
        time.sleep(0.2)
        srv.stop()
        hung.join(timeout=10)
    assert not hung.is_alive()
    assert len(errors) == 1  # the hung request ends with a closed connection
    assert set(threading.enumerate()) <= before
    assert not srv.ca_pem_path.exists()
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0


# --------------------------------------------------------------------------- kubeconfig


def load_config(path: Path, context: str | None = None) -> k8s_client.Configuration:
    cfg = k8s_client.Configuration()
    k8s_config.load_kube_config(config_file=str(path), context=context, client_configuration=cfg)
    return cfg


def test_kubeconfig_token(replay_server: ReplayServer, tmp_path: Path) -> None:
    path = replay_server.write_kubeconfig(tmp_path / "config")
    cfg = load_config(path)
    assert cfg.host == replay_server.url
    assert cfg.api_key["BearerToken"] == "Bearer admin-token"
    assert Path(cfg.ssl_ca_cert).read_bytes() == replay_server.ca_pem_bytes
    with k8s_client.ApiClient(cfg) as api_client:
        assert k8s_client.VersionApi(api_client).get_code().git_version == "v1.24.0+0"
    assert replay_server.requests[-1].identity == "admin"


def test_kubeconfig_token_file(replay_server: ReplayServer, tmp_path: Path) -> None:
    path = replay_server.write_kubeconfig(
        tmp_path / "config", auth="token-file", token="file-token", identity="robot"
    )
    cfg = load_config(path)
    assert cfg.api_key["BearerToken"] == "Bearer file-token"
    with k8s_client.ApiClient(cfg) as api_client:
        k8s_client.CoreV1Api(api_client).list_namespace()
    assert replay_server.requests[-1].identity == "robot"


def test_kubeconfig_client_cert(replay_server: ReplayServer, tmp_path: Path) -> None:
    path = replay_server.write_kubeconfig(tmp_path / "config", auth="cert", identity="ops")
    cfg = load_config(path)
    assert cfg.cert_file and cfg.key_file and not cfg.api_key
    with k8s_client.ApiClient(cfg) as api_client:
        names = [n.metadata.name for n in k8s_client.CoreV1Api(api_client).list_node().items]
    assert names == [n["metadata"]["name"] for n in body("list_nodes.json")["items"]]
    record = replay_server.requests[-1]
    assert (record.identity, record.auth) == ("ops", "cert")


def test_kubeconfig_exec_plugin_hands_out_fresh_tokens(replay_server: ReplayServer, tmp_path: Path) -> None:
    path = replay_server.write_kubeconfig(
        tmp_path / "config",
        auth="exec",
        exec_tokens=["exec-token-1", "exec-token-2"],
        identity="sso-user",
        exec_expires_in=600,
    )
    cfg = load_config(path)
    assert cfg.api_key["BearerToken"] == "Bearer exec-token-1"
    assert exec_plugin_calls(path, "replay") == 1
    with k8s_client.ApiClient(cfg) as api_client:
        k8s_client.CoreV1Api(api_client).list_namespace()
    assert replay_server.requests[-1].identity == "sso-user"

    # The first token expires on the server; the plugin's next answer is a fresh one.
    replay_server.expire_token("exec-token-1")
    with make_client(replay_server, token="exec-token-1") as c:
        assert c.get("/api/v1/namespaces").status_code == 401
    assert load_config(path).api_key["BearerToken"] == "Bearer exec-token-2"
    assert load_config(path).api_key["BearerToken"] == "Bearer exec-token-2"  # last repeats
    assert exec_plugin_calls(path, "replay") == 3

    document = json.loads(json.dumps(__import__("yaml").safe_load(path.read_text())))
    exec_conf = document["users"][0]["user"]["exec"]
    assert exec_conf["apiVersion"] == "client.authentication.k8s.io/v1"


def test_exec_plugin_output(replay_server: ReplayServer, tmp_path: Path) -> None:
    import subprocess
    import sys

    import yaml

    path = replay_server.write_kubeconfig(tmp_path / "config", auth="exec", token="admin-token")
    exec_conf = yaml.safe_load(path.read_text())["users"][0]["user"]["exec"]
    assert exec_conf["command"] == sys.executable
    out = subprocess.run(
        [exec_conf["command"], *exec_conf["args"]], capture_output=True, check=True, text=True
    ).stdout
    credential = json.loads(out)
    assert credential["kind"] == "ExecCredential"
    assert credential["apiVersion"] == "client.authentication.k8s.io/v1"
    assert credential["status"]["token"] == "admin-token"
    assert credential["status"]["expirationTimestamp"].endswith("Z")


def test_kubeconfig_several_contexts(replay_server: ReplayServer, tmp_path: Path) -> None:
    down = closed_port_url()
    path = replay_server.write_kubeconfig(
        tmp_path / "config",
        context="prod",
        extra_contexts=[
            {"name": "down", "server": down},
            {"name": "lab", "insecure": True, "auth": "cert"},
        ],
    )
    assert load_config(path).host == replay_server.url
    assert load_config(path, "down").host == down
    lab = load_config(path, "lab")
    assert lab.verify_ssl is False and lab.cert_file
    contexts, active = k8s_config.list_kube_config_contexts(config_file=str(path))
    assert [c["name"] for c in contexts] == ["prod", "down", "lab"] and active["name"] == "prod"
    ctx = ssl.create_default_context(cafile=str(replay_server.ca_pem_path))
    with pytest.raises(httpx.ConnectError):
        httpx.get(down + "/version", verify=ctx, timeout=5)


# --------------------------------------------------------------------------- generator


def test_generator_counts_and_owner_chains() -> None:
    cluster = generate_cluster(nodes=7, pods=100, namespaces=4, pods_per_deployment=3, seed=11)
    assert len(cluster[NODES]) == 7
    assert len(cluster[PODS]) == 100
    assert len(cluster[NAMESPACES]) == 4
    assert len(cluster[DEPLOYMENTS]) == len(cluster[REPLICASETS]) == 34
    assert len(cluster[SERVICES]) == len(cluster[CONFIGMAPS]) == 34
    assert len(cluster[SECRETS]) == len(cluster[ROLEBINDINGS]) == 4
    assert len(cluster[CLUSTERROLEBINDINGS]) == 1

    uids = [o["metadata"]["uid"] for items in cluster.collections.values() for o in items]
    assert len(uids) == len(set(uids))
    deployments = {d["metadata"]["uid"]: d for d in cluster[DEPLOYMENTS]}
    replicasets = {r["metadata"]["uid"]: r for r in cluster[REPLICASETS]}
    node_names = {n["metadata"]["name"] for n in cluster[NODES]}
    namespaces = {n["metadata"]["name"] for n in cluster[NAMESPACES]}
    pods_per_rs: Counter[str] = Counter()
    for pod in cluster[PODS]:
        meta = pod["metadata"]
        assert meta["namespace"] in namespaces
        assert pod["spec"]["nodeName"] in node_names
        (ref,) = meta["ownerReferences"]
        rs = replicasets[ref["uid"]]
        assert (ref["kind"], ref["name"], ref["controller"]) == (
            "ReplicaSet",
            rs["metadata"]["name"],
            True,
        )
        assert rs["metadata"]["namespace"] == meta["namespace"]
        assert rs["spec"]["selector"]["matchLabels"].items() <= meta["labels"].items()
        assert meta["name"].startswith(rs["metadata"]["name"] + "-")
        assert meta["managedFields"], "managedFields are kept, as on a real server"
        pods_per_rs[ref["uid"]] += 1
    for rs_uid, rs in replicasets.items():
        (ref,) = rs["metadata"]["ownerReferences"]
        dep = deployments[ref["uid"]]
        assert (ref["kind"], ref["name"]) == ("Deployment", dep["metadata"]["name"])
        assert dep["spec"]["selector"]["matchLabels"].items() <= rs["metadata"]["labels"].items()
        assert pods_per_rs[rs_uid] == rs["spec"]["replicas"] == dep["spec"]["replicas"]
    for svc in cluster[SERVICES]:
        selector = svc["spec"]["selector"].items()
        matching = [
            p
            for p in cluster[PODS]
            if p["metadata"]["namespace"] == svc["metadata"]["namespace"]
            and selector <= p["metadata"]["labels"].items()
        ]
        assert matching


def test_generator_keeps_recorded_shapes() -> None:
    cluster = generate_cluster(nodes=2, pods=4, seed=0)
    recorded_pod = body("list_pods.json")["items"][0]
    pod = cluster[PODS][0]
    assert set(recorded_pod) == set(pod)
    assert set(recorded_pod["spec"]) <= set(pod["spec"])
    recorded_node = body("list_nodes.json")["items"][1]
    node = cluster[NODES][1]
    assert set(node["metadata"]) == set(recorded_node["metadata"])
    assert node["metadata"]["managedFields"] == recorded_node["metadata"]["managedFields"]
    assert node["status"].keys() == recorded_node["status"].keys()


def test_generator_is_deterministic() -> None:
    a = generate_cluster(nodes=3, pods=20, seed=5)
    b = generate_cluster(nodes=3, pods=20, seed=5)
    c = generate_cluster(nodes=3, pods=20, seed=6)
    assert orjson.dumps(a.collections[PODS]) == orjson.dumps(b.collections[PODS])
    assert orjson.dumps(a.collections[PODS]) != orjson.dumps(c.collections[PODS])


def test_large_lists_are_gzipped_like_kube_apiserver(replay_server: ReplayServer, api: httpx.Client) -> None:
    replay_server.load(generate_cluster(nodes=3, pods=300, seed=1).collections, replace=True)
    r = api.get("/api/v1/pods")
    assert r.headers["content-encoding"] == "gzip"
    assert len(r.json()["items"]) == 300
    small = api.get("/api/v1/pods", params={"limit": "5"})
    assert "content-encoding" not in small.headers


# --------------------------------------------------------------------------- own process


def test_start_in_subprocess(tmp_path: Path) -> None:
    from tests.replay.process import start_in_subprocess

    with start_in_subprocess(pods=40, nodes=3, kubeconfig=tmp_path / "config") as proc:
        ctx = ssl.create_default_context(cafile=str(proc.ca_pem_path))
        headers = {"Authorization": f"Bearer {proc.token}"}
        with httpx.Client(base_url=proc.url, verify=ctx, headers=headers) as c:
            assert len(c.get("/api/v1/pods").json()["items"]) == 40
            assert len(c.get("/api/v1/nodes").json()["items"]) == 3
        assert load_config(proc.kubeconfig).host == proc.url
    assert proc.process.returncode == 0


async def test_async_client_concurrent_lists(replay_server: ReplayServer) -> None:
    """The collector's shape: one httpx.AsyncClient, many lists in flight at once."""
    import asyncio

    replay_server.load(generate_cluster(nodes=5, pods=60, seed=2).collections, replace=True)
    ctx = ssl.create_default_context(cafile=str(replay_server.ca_pem_path))
    headers = {"Authorization": "Bearer admin-token"}
    paths = ["/api/v1/pods", "/api/v1/nodes", "/apis/apps/v1/replicasets", CLUSTERROLES] * 5

    async def list_path(c: httpx.AsyncClient, path: str) -> int:
        count, cont = 0, None
        while True:
            params = {"limit": "7"} | ({"continue": cont} if cont else {})
            page = (await c.get(path, params=params)).json()
            count += len(page["items"])
            if not (cont := page["metadata"].get("continue")):
                return count

    async with httpx.AsyncClient(base_url=replay_server.url, verify=ctx, headers=headers) as c:
        counts = await asyncio.gather(*(list_path(c, p) for p in paths))
    assert counts == [60, 5, 20, 62] * 5
