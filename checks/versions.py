"""Versions: how far the cluster is from a supported, patched Kubernetes.

Giant Swarm's post-mortems start with an API server memory leak fixed in 1.11.4/1.12.0 that took
control planes down; Zalando's with components drifting apart. Version skew beyond the official
policy is untested territory: kubelets talking to an API server they were never tested against.
"""

from __future__ import annotations

from collections.abc import Iterator

from k8saudit.inventory import Inventory
from k8saudit.model import Finding, Subject, failed, passed, unknown, warned
from k8saudit.registry import Context, check
from k8saudit.releases import Version, format_version, parse_version

SKEW_POLICY = "https://kubernetes.io/releases/version-skew-policy/"


def allowed_node_skew(apiserver: Version) -> int:
    """Minors a kubelet/kube-proxy may lag the API server: 3 from 1.28, 2 before."""
    return 3 if apiserver[:2] >= (1, 28) else 2


def _skew_finding(subject: Subject, component: str, raw: str, apiserver: Version) -> Finding:
    version = parse_version(raw)
    if version is None:
        return unknown(subject, f"{component} reports no parseable version ({raw or 'empty'})")
    evidence = {"component": component, "version": raw, "apiserver": format_version(apiserver)}
    if version[0] != apiserver[0]:
        return failed(
            subject, f"{component} {raw} is a different major version than the API server", **evidence
        )
    lag = apiserver[1] - version[1]
    allowed = allowed_node_skew(apiserver)
    if lag < 0:
        return failed(
            subject, f"{component} {raw} is newer than the API server {format_version(apiserver)}", **evidence
        )
    if lag > allowed:
        return failed(
            subject,
            f"{component} {raw} is {lag} minors behind the API server (the policy allows {allowed})",
            **evidence,
        )
    if lag == allowed:
        return warned(
            subject,
            f"{component} {raw} is at the policy's limit ({lag} minors behind): "
            "upgrade nodes before the next control-plane upgrade",
            **evidence,
        )
    return passed(subject, f"{component} {raw} is within the skew policy", **evidence)


@check(
    id="VER-003",
    area="versions",
    severity="high",
    title="Kubelets and kube-proxies are within the version skew policy",
    rationale="""The API server is only tested against kubelets up to three minors older
    (two before 1.28) and never newer. Outside that window, removed APIs and changed behaviour
    break nodes in ways nobody tested: control-plane upgrades that strand old nodes are a
    recurring theme of the failure stories (Zalando, Giant Swarm).""",
    remediation="""Upgrade node pools (or replace nodes) to within the supported skew before the next
control-plane upgrade; upgrade the control plane first, then nodes, one minor at a time.""",
    references=(SKEW_POLICY,),
    inputs=("nodes",),
)
def node_version_skew(inv: Inventory, ctx: Context) -> Iterator[Finding]:
    apiserver = inv.version
    if apiserver is None:
        yield unknown(Subject.cluster(), "the API server version could not be read")
        return
    for node in inv.items("nodes"):
        subject = inv.subject("nodes", node)
        info = (node.get("status") or {}).get("nodeInfo") or {}
        kubelet = _skew_finding(subject, "kubelet", str(info.get("kubeletVersion", "")), apiserver)
        proxy_raw = str(info.get("kubeProxyVersion", ""))
        findings = [kubelet]
        if proxy_raw and proxy_raw != "v0.0.0-master+$Format:%H$":
            findings.append(_skew_finding(subject, "kube-proxy", proxy_raw, apiserver))
        yield min(findings, key=lambda f: f.status.rank)
