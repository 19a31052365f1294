"""Fixtures for the rbac area."""

from __future__ import annotations

from tests import factories as f
from tests.check_fixtures import fixture


@fixture("RBAC-001", "pass")
def sa_admin_pass():
    return f.make_inventory(
        clusterrolebindings=[
            f.default_cluster_admin_binding(),
            f.clusterrolebinding("breakglass", "cluster-admin", [f.subject("Group", "oidc:breakglass")]),
        ],
        rolebindings=[
            f.rolebinding(
                "deployer",
                "shop",
                "edit",
                [f.subject("ServiceAccount", "deployer", "ci")],
                role_kind="ClusterRole",
            )
        ],
    )


@fixture("RBAC-001", "fail")
def sa_admin_fail():
    return f.make_inventory(
        clusterrolebindings=[
            f.default_cluster_admin_binding(),
            f.clusterrolebinding(
                "ci-admin", "cluster-admin", [f.subject("ServiceAccount", "deployer", "ci")]
            ),
        ],
        rolebindings=[],
    )


@fixture("RBAC-002", "pass")
def human_admin_pass():
    return f.make_inventory(clusterrolebindings=[f.default_cluster_admin_binding()], rolebindings=[])


@fixture("RBAC-002", "fail")
def human_admin_fail():
    return f.make_inventory(
        clusterrolebindings=[
            f.default_cluster_admin_binding(),
            f.clusterrolebinding("alice-admin", "cluster-admin", [f.subject("User", "alice@example.com")]),
        ],
        rolebindings=[],
    )
