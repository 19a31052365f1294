"""The least-privilege, read-only RBAC that covers exactly what the collector reads.

Generated from the collector's own kind table (`k8saudit.kinds.KINDS`), so it cannot drift from
what a scan requests: every group/version a kind may be served under, `list` only (a scan reads
whole lists, never one object by name).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import yaml

from k8saudit.collector import RULES_REVIEW_PATH
from k8saudit.kinds import KINDS

ROLE_NAME = "k8saudit-reader"
DEFAULT_NAMESPACE = "k8saudit"
DEFAULT_SERVICE_ACCOUNT = "k8saudit"


def reader_rules(include_secrets: bool = True) -> list[dict[str, Any]]:
    resources_by_group: dict[str, set[str]] = defaultdict(set)
    for kind in KINDS:
        if kind.key == "secrets" and not include_secrets:
            continue
        for gv in kind.versions:
            resources_by_group[gv.group].add(kind.resource)
    rules: list[dict[str, Any]] = [
        {"apiGroups": [group], "resources": sorted(resources), "verbs": ["list"]}
        for group, resources in sorted(resources_by_group.items())
    ]
    rules.append(
        {
            "apiGroups": ["authorization.k8s.io"],
            "resources": [RULES_REVIEW_PATH.rsplit("/", 1)[1]],
            "verbs": ["create"],  # a review reports permissions; it changes nothing
        }
    )
    rules.append({"nonResourceURLs": ["/version", "/api", "/api/*", "/apis", "/apis/*"], "verbs": ["get"]})
    return rules


def reader_manifests(
    namespace: str = DEFAULT_NAMESPACE,
    service_account: str = DEFAULT_SERVICE_ACCOUNT,
    include_secrets: bool = True,
) -> list[dict[str, Any]]:
    """ClusterRole, ServiceAccount and ClusterRoleBinding for a read-only k8saudit identity."""
    labels = {"app.kubernetes.io/name": "k8saudit"}
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": ROLE_NAME, "labels": labels},
            "rules": reader_rules(include_secrets),
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": service_account, "namespace": namespace, "labels": labels},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": ROLE_NAME, "labels": labels},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ROLE_NAME},
            "subjects": [{"kind": "ServiceAccount", "name": service_account, "namespace": namespace}],
        },
    ]


HEADER = """\
# Read-only access for k8saudit, generated from the kinds its collector lists.
# Resources are list only; the one `create` is a SelfSubjectRulesReview, which reports this
# identity's permissions and changes nothing. Secrets: RBAC cannot limit `list` to metadata, but
# k8saudit asks for metadata only (PartialObjectMetadataList) so values are never sent; use
# --no-secrets to leave them out (the checks that need them then report `unknown`).
"""


def to_yaml(documents: list[dict[str, Any]], header: str = HEADER) -> str:
    return header + yaml.safe_dump_all(documents, sort_keys=False, explicit_start=True)
