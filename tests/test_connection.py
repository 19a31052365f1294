"""Connections from kubeconfig files and from a pod's service account."""

from __future__ import annotations

import base64
import gzip
import os
from pathlib import Path

import httpx
import pytest

from k8saudit.collector import Collector
from k8saudit.connection import IN_CLUSTER, GunzipWithIsal, connect, list_contexts
from k8saudit.errors import ConnectionFailure
from k8saudit.inventory import OK
from tests.replay import ReplayServer
from tests.replay.generate import generate_cluster
from tests.replay.kubeconfig import closed_port_url, write_kubeconfig


def test_contexts_from_several_kubeconfig_files(
    replay_server: ReplayServer, tmp_path: Path, monkeypatch
) -> None:
    first = write_kubeconfig(tmp_path / "a", [replay_server.context_spec("prod", token="admin-token")])
    second = write_kubeconfig(
        tmp_path / "b", [replay_server.context_spec("staging", auth="token-file", token="admin-token")]
    )
    monkeypatch.setenv("KUBECONFIG", f"{first}:{second}")
    contexts = list_contexts()
    assert [(c.name, c.current, c.auth) for c in contexts] == [
        ("prod", True, "token"),
        ("staging", False, "token"),
    ]
    assert all(c.server == replay_server.url for c in contexts)
    assert "admin-token" not in repr(contexts)
    assert connect(context="staging").context == "staging"


async def test_token_file_auth(replay_server: ReplayServer, tmp_path: Path) -> None:
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "k", auth="token-file")
    inventory, _ = await Collector(connect(str(kubeconfig))).collect()
    assert inventory.coverage_of("pods").state == OK


async def test_in_cluster_service_account(replay_server: ReplayServer, tmp_path: Path, monkeypatch) -> None:
    import kubernetes.config.incluster_config as incluster

    token, ca = tmp_path / "token", tmp_path / "ca.crt"
    token.write_text("admin-token")
    ca.write_bytes(replay_server.ca_pem_bytes)
    monkeypatch.setattr(incluster, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(incluster, "SERVICE_CERT_FILENAME", str(ca))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(replay_server.port))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    connection = connect(context=IN_CLUSTER)
    assert connection.context == IN_CLUSTER
    inventory, _ = await Collector(connection).collect()
    assert inventory.coverage_of("nodes").state == OK
    assert inventory.cluster.context == IN_CLUSTER


async def test_insecure_skip_verify_works_and_is_recorded(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "k", insecure=True)
    connection = connect(str(kubeconfig))
    assert connection.insecure
    inventory, collection = await Collector(connection).collect()
    assert inventory.cluster.insecure_skip_tls_verify
    assert any("TLS verification disabled" in note for note in collection.notes)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("clusters: [unclosed", "is not valid YAML"),
        ("- just\n- a list\n", "is not a kubeconfig"),
        ("clusters: 5\n", "'clusters' must be a list"),
    ],
)
def test_malformed_kubeconfig_is_one_clear_error(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "config"
    path.write_text(content)
    with pytest.raises(ConnectionFailure, match=expected):
        connect(str(path))


def test_missing_kubeconfig(tmp_path: Path) -> None:
    with pytest.raises(ConnectionFailure, match="no kubeconfig found"):
        connect(str(tmp_path / "nope"))


def test_a_kubeconfig_list_without_a_path_is_not_called_a_directory(monkeypatch) -> None:
    monkeypatch.setenv("KUBECONFIG", os.pathsep)
    with pytest.raises(ConnectionFailure, match=r"^no kubeconfig found"):
        connect(None)


@pytest.mark.parametrize(("name", "works"), [("localhost", True), ("wrong.example", False)])
async def test_tls_server_name_is_sent_and_verified(
    replay_server: ReplayServer, tmp_path: Path, name: str, works: bool
) -> None:
    import yaml

    kubeconfig = replay_server.write_kubeconfig(tmp_path / "k")
    config = yaml.safe_load(kubeconfig.read_text())
    config["clusters"][0]["cluster"]["tls-server-name"] = name
    kubeconfig.write_text(yaml.safe_dump(config))
    connection = connect(str(kubeconfig))
    assert connection.tls_server_name == name
    if works:
        inventory, _ = await Collector(connection).collect()
        assert inventory.coverage_of("nodes").state == OK
    else:
        with pytest.raises(ConnectionFailure, match="TLS"):
            await Collector(connection).collect()


async def test_insecure_connection_is_a_finding(replay_server: ReplayServer, tmp_path: Path) -> None:
    from k8saudit.report import evaluate

    inventory, collection = await Collector(
        connect(str(replay_server.write_kubeconfig(tmp_path / "k", insecure=True)))
    ).collect()
    [finding] = [f for f in evaluate(inventory, collection).findings if f.check_id == "EXP-010"]
    assert finding.status.value == "fail" and "insecure-skip-tls-verify" in finding.message


PASSWORD = "s3cret-in-the-url"


def _server_with_userinfo(url: str) -> str:
    return url.replace("https://", f"https://al%40ice:{PASSWORD}@", 1)


def _authorization(connection) -> str | None:
    """The Authorization header the connection's auth puts on a request."""
    request = next(connection.auth.auth_flow(httpx.Request("GET", f"{connection.server}/api")))
    return request.headers.get("Authorization")


@pytest.mark.parametrize(
    ("auth", "sent"),
    [
        ("none", "Basic " + base64.b64encode(f"al@ice:{PASSWORD}".encode()).decode()),  # as kubectl does
        ("token", "Bearer admin-token"),  # the user's own credential wins
    ],
)
def test_a_password_in_the_server_address_is_cut_out_of_everything_shown(
    replay_server: ReplayServer, tmp_path: Path, auth: str, sent: str
) -> None:
    """`https://user:password@host`: kubectl sends it as basic auth when the user has no
    credential; k8saudit does the same, and the address it shows, stores and puts in messages
    has no password."""
    server = _server_with_userinfo(replay_server.url)
    kubeconfig = write_kubeconfig(
        tmp_path / "k", [replay_server.context_spec("prod", auth=auth, server=server)]
    )
    connection = connect(str(kubeconfig))
    assert connection.server == replay_server.url
    assert PASSWORD not in f"{connection.label} {connection!r}"
    assert _authorization(connection) == sent
    [context] = list_contexts(str(kubeconfig))
    assert context.server == replay_server.url
    assert context.auth == ("basic (in URL)" if auth == "none" else "token")


async def test_a_scan_through_an_address_with_a_password_neither_stores_nor_reports_it(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    reachable = _server_with_userinfo(replay_server.url)
    unreachable = _server_with_userinfo(closed_port_url())
    kubeconfig = write_kubeconfig(
        tmp_path / "k",
        [
            replay_server.context_spec("up", server=reachable),
            replay_server.context_spec("down", server=unreachable),
        ],
    )
    inventory, _ = await Collector(connect(str(kubeconfig), "up")).collect()
    assert inventory.coverage_of("nodes").state == OK
    assert inventory.cluster.server == replay_server.url
    with pytest.raises(ConnectionFailure) as refused:
        await Collector(connect(str(kubeconfig), "down")).collect()
    assert "refused" in str(refused.value) and PASSWORD not in str(refused.value)


def _served(body: bytes, encoding: str | None, seen: list[httpx.Request]) -> httpx.AsyncClient:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        headers = {"Content-Encoding": encoding} if encoding else {}
        return httpx.Response(200, headers=headers, stream=httpx.ByteStream(body))  # as sent: not decoded

    return httpx.AsyncClient(transport=GunzipWithIsal(httpx.MockTransport(answer)), base_url="https://k")


@pytest.mark.parametrize(
    ("body", "encoding"),
    [(gzip.compress(b'{"items":[]}' * 50_000), "gzip"), (gzip.compress(b"{}"), " GZIP "), (b"{}", None)],
    ids=["large gzip", "gzip in odd case", "identity"],
)
async def test_gzip_answers_are_inflated_and_others_passed_through(body: bytes, encoding: str | None) -> None:
    seen: list[httpx.Request] = []
    async with _served(body, encoding, seen) as client:
        response = await client.get("/api/v1/pods")
    assert response.content == (gzip.decompress(body) if encoding else body)
    assert "content-encoding" not in response.headers
    assert len(seen) == 1


async def test_a_body_labelled_gzip_that_is_not_is_a_decoding_error() -> None:
    async with _served(b"not gzip at all", "gzip", []) as client:
        with pytest.raises(httpx.DecodingError, match="labelled gzip but is not"):
            await client.get("/api/v1/pods")


async def test_a_large_list_from_the_server_arrives_inflated(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    """The replay server gzips answers over 128 KiB, as kube-apiserver does; the client asks
    for gzip only, the one encoding kube-apiserver speaks, and hands on the inflated JSON."""
    replay_server.load(generate_cluster(nodes=3, pods=300, seed=1).collections, replace=True)
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "k")
    async with connect(str(kubeconfig)).client(httpx.Timeout(10)) as client:
        response = await client.get("/api/v1/pods", headers={"Accept": "application/json"})
    assert response.request.headers["accept-encoding"] == "gzip"
    assert "content-encoding" not in response.headers  # inflated on the way in
    assert len(response.json()["items"]) == 300
