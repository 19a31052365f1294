"""DNS in the demo: kops' CoreDNS 1.10.1, never upgraded with the cluster. Both replicas ended up
on the same node — the t2.medium of the cheap "system" instance group (added by the nodes demo) —
and the autoscaler, tuned down during a cost review, may shrink it to one (`min: 1`,
`preventSinglePointFailure: false`). While debugging an upstream problem someone pointed the
Corefile at 8.8.8.8 and dropped `cache`; it was never reverted. No NodeLocal DNSCache."""

from __future__ import annotations

import json

from k8saudit.redact import redact
from tests import factories as f
from tests.demo import DemoCluster
from tests.demo.nodes import SYSTEM_NODE

LABELS = {"k8s-app": "kube-dns"}

COREFILE = """\
.:53 {
    errors
    health {
        lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    prometheus :9153
    # TODO(ops-412): revert to /etc/resolv.conf once the VPC resolver issue is understood
    forward . 8.8.8.8 8.8.4.4
    loop
    reload
    loadbalance
}
"""

AUTOSCALER_PARAMS = {
    "coresPerReplica": 256,
    "nodesPerReplica": 16,
    "min": 1,
    "preventSinglePointFailure": False,
}


def coredns() -> tuple[dict, dict, list[dict]]:
    container = f.container(
        "coredns",
        "registry.k8s.io/coredns/coredns:v1.10.1",
        args=["-conf", "/etc/coredns/Corefile"],
        ports=[53, 9153],
        cpu_request="100m",
        memory_request="70Mi",
        memory_limit="170Mi",
        liveness=True,
    )
    deployment = f.deployment(
        "coredns",
        "kube-system",
        replicas=2,
        labels=LABELS,
        containers=[container],
        template_spec={
            "dnsPolicy": "Default",
            "priorityClassName": "system-cluster-critical",
            "serviceAccountName": "coredns",
            "volumes": [{"name": "config-volume", "configMap": {"name": "coredns"}}],
        },
    )
    rs, pods = f.with_pods(deployment, [SYSTEM_NODE, SYSTEM_NODE], suffix="5d6c7f8b94")
    return deployment, rs, pods


def autoscaler() -> dict:
    return f.deployment(
        "coredns-autoscaler",
        "kube-system",
        replicas=1,
        labels={"k8s-app": "coredns-autoscaler"},
        containers=[
            f.container(
                "autoscaler",
                "registry.k8s.io/cpa/cluster-proportional-autoscaler:1.8.8",
                command=[
                    "/cluster-proportional-autoscaler",
                    "--namespace=kube-system",
                    "--configmap=coredns-autoscaler",
                    "--target=Deployment/coredns",
                    '--default-params={"linear":{"coresPerReplica":256,"nodesPerReplica":16,'
                    '"preventSinglePointFailure":true}}',
                    "--logtostderr=true",
                    "--v=2",
                ],
                cpu_request="20m",
                memory_request="10Mi",
                memory_limit=None,
                readiness=False,
            )
        ],
        template_spec={
            "priorityClassName": "system-cluster-critical",
            "serviceAccountName": "coredns-autoscaler",
        },
    )


def contribute(demo: DemoCluster) -> None:
    # The nodes demo adds SYSTEM_NODE and, finding these pods, leaves them where they are.
    deployment, rs, pods = coredns()
    demo.add("deployments", deployment, autoscaler())
    demo.add("replicasets", rs)
    demo.add("pods", *pods)
    demo.add("serviceaccounts", f.serviceaccount("coredns", "kube-system"))
    demo.add("serviceaccounts", f.serviceaccount("coredns-autoscaler", "kube-system"))
    service = f.service("kube-dns", "kube-system", selector=LABELS, ports=[53, 9153], labels=LABELS)
    service["spec"]["clusterIP"] = "100.64.0.10"
    demo.add("services", service)
    demo.add("poddisruptionbudgets", f.pdb("kube-dns", "kube-system", LABELS, min_available=1))
    configmaps = [
        f.configmap("coredns", "kube-system", {"Corefile": COREFILE}),
        f.configmap("coredns-autoscaler", "kube-system", {"linear": json.dumps(AUTOSCALER_PARAMS)}),
    ]
    for configmap in configmaps:
        redact("configmaps", configmap)  # kept as a scan keeps them: both are on the allow-list
        demo.add("configmaps", configmap)
