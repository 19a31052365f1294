"""RBAC in the demo: the CI system's service account got cluster-admin "temporarily", and an
on-call engineer's user kept the binding made during an incident."""

from __future__ import annotations

from tests import factories as f
from tests.demo import DemoCluster


def contribute(demo: DemoCluster) -> None:
    demo.add("serviceaccounts", f.serviceaccount("jenkins", "ci"))
    demo.add(
        "clusterrolebindings",
        f.clusterrolebinding(
            "jenkins-admin", "cluster-admin", [f.subject("ServiceAccount", "jenkins", "ci")]
        ),
        f.clusterrolebinding(
            "oncall-incident-4711", "cluster-admin", [f.subject("User", "sam@shop.example.com")]
        ),
    )
    demo.add(
        "rolebindings",
        f.rolebinding(
            "shop-deployers", "shop", "edit", [f.subject("Group", "shop-devs")], role_kind="ClusterRole"
        ),
    )
