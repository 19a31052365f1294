"""Redaction: what a snapshot must never hold."""

from __future__ import annotations

import json

import pytest

from k8saudit.redact import LAST_APPLIED, REDACTED, redact
from tests import factories as f

CANARY = "CANARY-s3cr3t-7f1d"


def test_managed_fields_and_last_applied_are_dropped_but_the_api_version_is_kept() -> None:
    manifest = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db"},
        "data": {"password": CANARY},
    }
    obj = f.configmap("app", "shop", {"k": "v"})
    obj["metadata"]["managedFields"] = [{"manager": "kubectl"}]
    obj["metadata"]["annotations"] = {LAST_APPLIED: json.dumps(manifest), "team": "shop"}
    assert redact("configmaps", obj) == "v1"
    assert "managedFields" not in obj["metadata"]
    assert obj["metadata"]["annotations"] == {"team": "shop"}
    assert CANARY not in json.dumps(obj)


def test_unparseable_last_applied_is_dropped_quietly() -> None:
    obj = f.pod("p", annotations={LAST_APPLIED: "{not json " + CANARY})
    assert redact("pods", obj) is None
    assert CANARY not in json.dumps(obj)


def test_env_literals_are_redacted_in_every_workload_kind() -> None:
    env = [
        {"name": "DB_PASSWORD", "value": CANARY},
        {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
        {"name": "AWS_VPC_K8S_CNI_EXTERNALSNAT", "value": "true"},
    ]
    c = f.container(
        "app",
        env=env,
        args=["--db-password=" + CANARY, "--port=8080", "--api-key", CANARY, "--token", "--verbose", "x"],
    )
    objects = {
        "pods": f.pod("p", containers=[c], spec={"initContainers": [f.container("init", env=env)]}),
        "deployments": f.deployment("d", containers=[c]),
        "daemonsets": f.daemonset("ds", containers=[c]),
        "statefulsets": f.statefulset("s", containers=[c]),
        "replicasets": f.replicaset("r", containers=[c]),
        "jobs": f.job("j", containers=[c]),
        "cronjobs": f.cronjob("cj", containers=[c]),
    }
    for key, obj in objects.items():
        redact(key, obj)
        text = json.dumps(obj)
        assert CANARY not in text, key
        assert "DB_PASSWORD" in text and "secretKeyRef" in text, key
        assert '"value": "true"' in text, "allow-listed CNI switch is kept"
        assert "--port=8080" in text and f"--db-password={REDACTED}" in text
        assert '"--token", "--verbose", "x"' in text, "a flag without its value redacts nothing"


def test_secret_values_are_stripped_even_if_the_server_sent_them() -> None:
    secret = {
        "metadata": {"name": "db", "namespace": "shop"},
        "data": {"password": CANARY},
        "stringData": {"x": CANARY},
        "type": "Opaque",
    }
    redact("secrets", secret)
    assert secret == {"metadata": {"name": "db", "namespace": "shop"}}


def test_configmap_values_are_kept_only_where_checks_read_them() -> None:
    coredns = f.configmap("coredns", "kube-system", {"Corefile": ".:53 { forward . /etc/resolv.conf }"})
    nginx = f.configmap(
        "ingress-nginx-controller",
        "ingress-nginx",
        {"allow-snippet-annotations": "true", "hsts": "x", "token": CANARY},
    )
    openshift = f.configmap("dns-default", "openshift-dns", {"Corefile": ".:5353 { cache 900 }"})
    app = f.configmap("app-config", "shop", {"DATABASE_URL": f"postgres://u:{CANARY}@db"})
    app["binaryData"] = {"blob": "AAAA"}
    for obj in (coredns, nginx, openshift, app):
        redact("configmaps", obj)
    assert "forward" in coredns["data"]["Corefile"]
    assert "cache 900" in openshift["data"]["Corefile"], "OpenShift's DNS operator writes it there"
    assert nginx["data"] == {"allow-snippet-annotations": "true", "hsts": REDACTED, "token": REDACTED}
    assert app["data"] == {"DATABASE_URL": REDACTED}
    assert app["binaryData"] == {"blob": REDACTED}


def test_redaction_survives_malformed_objects() -> None:
    for obj in (
        {},
        {"metadata": None},
        {"spec": {"containers": "nope"}},
        {"spec": {"containers": [None, {"env": [None, {"value": 1}]}]}},
    ):
        redact("pods", obj)


def test_credentials_in_ingress_annotations_and_route_headers_are_redacted() -> None:
    """An upstream's credential set by an nginx snippet, an auth URL's password, or a header an
    HTTPRoute filter adds: the credential goes, the settings checks read stay."""
    snippet = f'proxy_set_header Authorization "Basic {CANARY}";'
    ingress = f.ingress(
        "legacy",
        "shop",
        annotations={
            "nginx.ingress.kubernetes.io/configuration-snippet": snippet,
            "nginx.ingress.kubernetes.io/auth-url": f"https://sso:{CANARY}@auth.shop/check",
            "nginx.ingress.kubernetes.io/auth-tls-verify-client": "on",
        },
    )
    redact("ingresses", ingress)
    annotations = ingress["metadata"]["annotations"]
    assert CANARY not in json.dumps(ingress)
    assert annotations["nginx.ingress.kubernetes.io/auth-url"] == f"https://sso:{REDACTED}@auth.shop/check"
    assert annotations["nginx.ingress.kubernetes.io/auth-tls-verify-client"] == "on"
    header = {"requestHeaderModifier": {"set": [{"name": "Authorization", "value": f"Bearer {CANARY}"}]}}
    rules = [{"filters": [header], "backendRefs": [{"name": "legacy", "port": 80, "filters": [header]}]}]
    route = f.custom_resource("HTTPRoute", "legacy", "shop", spec={"rules": rules})
    redact("gateway.httproutes", route)
    assert CANARY not in json.dumps(route)
    assert route["spec"]["rules"][0]["filters"][0]["requestHeaderModifier"]["set"][0] == {
        "name": "Authorization",
        "value": REDACTED,
    }
    for hostile in ({"spec": {"rules": 5}}, {"spec": {"rules": [{"filters": "x", "backendRefs": [None]}]}}):
        redact("gateway.httproutes", hostile)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        # a key the snippet compares, in no `Authorization` form a pattern would know
        (
            "nginx.ingress.kubernetes.io/configuration-snippet",
            f'if ($http_x_api_key != "{CANARY}") {{ return 403; }}',
        ),
        ("nginx.ingress.kubernetes.io/server-snippet", f'proxy_set_header X-Api-Key "{CANARY}";'),
        ("nginx.ingress.kubernetes.io/auth-snippet", f"set $token {CANARY};"),
        ("nginx.ingress.kubernetes.io/stream-snippet", f"# upstream key {CANARY}"),
        ("haproxy.org/backend-config-snippet", f"http-request set-header X-Key {CANARY}"),
        # NGINX Inc's controller names them in the plural
        ("nginx.org/server-snippets", f'if ($http_x_key != "{CANARY}") {{ return 403; }}'),
        ("nginx.org/location-snippets", f'proxy_set_header X-Api-Key "{CANARY}";'),
    ],
)
def test_snippet_annotations_lose_their_whole_value(name: str, value: str) -> None:
    """Raw controller configuration can hold a secret in any form: the value goes, the annotation
    stays (that an Ingress uses a snippet is worth seeing)."""
    ingress = f.ingress(
        "admin", "shop", annotations={name: value, "nginx.ingress.kubernetes.io/ssl-redirect": "true"}
    )
    redact("ingresses", ingress)
    assert CANARY not in json.dumps(ingress)
    assert ingress["metadata"]["annotations"] == {
        name: REDACTED,
        "nginx.ingress.kubernetes.io/ssl-redirect": "true",
    }


def test_values_route_matches_compare_are_redacted() -> None:
    """A route that lets only requests carrying a shared key through to the admin backend: the key
    in a header or query parameter match goes; names, match types and paths stay."""
    match = {
        "path": {"type": "PathPrefix", "value": "/admin"},
        "headers": [{"type": "Exact", "name": "X-Api-Key", "value": CANARY}],
        "queryParams": [{"type": "Exact", "name": "token", "value": CANARY}],
    }
    route = f.custom_resource("HTTPRoute", "admin", "shop", spec={"rules": [{"matches": [match]}]})
    grpc_match = {"headers": [{"type": "Exact", "name": "x-internal-token", "value": CANARY}]}
    grpc = f.custom_resource("GRPCRoute", "g", "shop", spec={"rules": [{"matches": [grpc_match]}]})
    redact("gateway.httproutes", route)
    redact("gateway.grpcroutes", grpc)
    assert CANARY not in json.dumps(route) and CANARY not in json.dumps(grpc)
    assert route["spec"]["rules"][0]["matches"][0] == {
        "path": {"type": "PathPrefix", "value": "/admin"},
        "headers": [{"type": "Exact", "name": "X-Api-Key", "value": REDACTED}],
        "queryParams": [{"type": "Exact", "name": "token", "value": REDACTED}],
    }
    assert grpc["spec"]["rules"][0]["matches"][0]["headers"] == [
        {"type": "Exact", "name": "x-internal-token", "value": REDACTED}
    ]
    for hostile in (
        {"spec": {"rules": [{"matches": "x"}]}},
        {"spec": {"rules": [{"matches": [{"headers": 5}]}]}},
    ):
        redact("gateway.httproutes", hostile)


def test_flag_redaction_stays_linear_on_hostile_arguments() -> None:
    """A megabyte-long argument made of secret-flag names: a backtracking pattern would hang."""
    hostile = "--" + "password" * 131_072
    c = f.container("app", args=[hostile, hostile + "=" + CANARY, "-" * 1_000_000])
    obj = f.pod("p", containers=[c])
    redact("pods", obj)
    args = obj["spec"]["containers"][0]["args"]
    assert args[0] == hostile and args[1] == f"{hostile}={REDACTED}"


def test_credentials_written_inline_in_commands_are_redacted() -> None:
    """A URL's password and an Authorization header's token, wherever a command line holds them:
    a flag's value, a shell script (SECURITY.md promises a snapshot is safe to attach)."""
    script = f'curl -fsS -H "Authorization: Bearer {CANARY}" https://hooks.example.com/x'
    args = [
        f"--db-url=postgres://app:{CANARY}@db.shop:5432/orders",
        f"--header=Authorization: Basic {CANARY}",
        "--listen-client-urls=https://10.0.0.1:2379",
        "git@github.com:org/repo.git",
    ]
    obj = f.pod("p", containers=[f.container("app", command=["sh", "-c", script], args=args)])
    redact("pods", obj)
    container = obj["spec"]["containers"][0]
    assert CANARY not in json.dumps(obj)
    assert (
        container["command"][2]
        == f'curl -fsS -H "Authorization: Bearer {REDACTED}" https://hooks.example.com/x'
    )
    assert container["args"] == [
        f"--db-url=postgres://app:{REDACTED}@db.shop:5432/orders",
        f"--header=Authorization: Basic {REDACTED}",
        "--listen-client-urls=https://10.0.0.1:2379",  # no credential: as written, for the checks
        "git@github.com:org/repo.git",
    ]


def test_inline_credential_redaction_stays_linear_on_hostile_arguments() -> None:
    hostile = ["://a:" * 200_000 + "@", "bearer " * 150_000, "x://" + ":" * 1_000_000 + "@"]
    obj = f.pod("p", containers=[f.container("app", args=hostile)])
    redact("pods", obj)
    assert len(obj["spec"]["containers"][0]["args"]) == 3
