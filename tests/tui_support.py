"""Shared helpers for the TUI tests: fixed reports, a fixed clock, and the screen as plain text.

The SVG snapshots use a report built here from synthetic check metadata rather than the live
catalog, so adding or rewording a check elsewhere never changes a screenshot; the Pilot tests
walk the real demo snapshot.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console

from k8saudit.inventory import Coverage, Inventory
from k8saudit.model import Finding, Severity, Status, Subject
from k8saudit.registry import CheckMeta
from k8saudit.releases import ReleaseCalendar
from k8saudit.report import CollectionInfo, Report
from k8saudit.scoring import score
from screens.app import K8sAuditApp
from tests import factories as f

SIZE = (160, 48)
COLLECTED_AT = datetime(2026, 11, 20, 8, 0, 0, tzinfo=UTC)
FIXED_NOW = datetime(2026, 11, 22, 9, 30, 0, tzinfo=UTC)
CALENDAR = ReleaseCalendar.from_dict(
    {
        "source": "test calendar",
        "as_of": "2026-10-01",
        "minors": [
            {"minor": "1.29", "released": "2023-12-13", "end_of_life": "2025-02-28", "latest": "1.29.15"},
            {"minor": "1.30", "released": "2024-04-17", "end_of_life": "2025-06-28", "latest": "1.30.14"},
            {"minor": "1.31", "released": "2024-08-13", "end_of_life": "2025-10-28", "latest": "1.31.10"},
        ],
    }
)


def _meta(
    check_id: str,
    area: str,
    severity: str,
    title: str,
    rationale: str,
    remediation: str,
    inputs: tuple[str, ...] = (),
) -> CheckMeta:
    return CheckMeta(
        id=check_id,
        title=title,
        area=area,
        severity=Severity(severity),
        rationale=rationale,
        remediation=remediation,
        references=(f"https://kubernetes.io/docs/{area}/",),
        inputs=inputs,
        function=lambda inv, ctx: iter(()),
    )


CHECKS: dict[str, CheckMeta] = {
    meta.id: meta
    for meta in (
        _meta(
            "RBAC-101",
            "rbac",
            "critical",
            "No service account is bound to cluster-admin",
            "A CI runner's token bound to cluster-admin turned one compromised build into a compromised"
            " cluster.",
            "Bind the service account to a namespaced role:\n\n```yaml\nkind: RoleBinding\n"
            "roleRef: {kind: ClusterRole, name: edit}\n```\n",
            ("clusterrolebindings",),
        ),
        _meta(
            "RES-101",
            "resilience",
            "high",
            "Deployments run more than one replica",
            "A single replica is an outage at every node drain.",
            "Set `spec.replicas: 2` or more.",
            ("deployments",),
        ),
        _meta(
            "RES-102",
            "resilience",
            "medium",
            "Containers declare memory limits",
            "A leaking container without a limit took down the node it shared with the payment API.",
            "Add `resources.limits.memory`.",
            ("pods",),
        ),
        _meta(
            "EXP-101",
            "exposure",
            "high",
            "No Secret is readable by every service account",
            "Broad Secret access turned a dashboard bug into stolen database credentials.",
            "Grant `get` on named Secrets only.",
            ("secrets",),
        ),
        _meta(
            "NODE-101",
            "nodes",
            "low",
            "Nodes run a supported kernel",
            "An old kernel bug made conntrack drop packets under load.",
            "Roll the node group to a current image.",
            ("nodes",),
        ),
        _meta(
            "VER-101",
            "versions",
            "high",
            "The control plane runs a supported minor version",
            "An end-of-life control plane gets no security fixes.",
            "Upgrade one minor at a time.",
        ),
    )
}


def _finding(check_id: str, status: Status, subject: Subject, message: str, **evidence: Any) -> Finding:
    return Finding(check_id, status, subject, message, evidence)


def sample_inventory() -> Inventory:
    nodes = [f.node(f"node-{i}", kubelet="v1.30.4") for i in range(1, 4)]
    pods = [f.pod(f"api-{i}", "shop", node_name=f"node-{i}") for i in range(1, 4)]
    return f.make_inventory(
        version="v1.30.4",
        server="https://api.prod.example.com",
        coverage={"secrets": "forbidden"},
        nodes=nodes,
        pods=pods,
        namespaces=[f.namespace("shop"), f.namespace("ci"), f.namespace("payments")],
        deployments=[
            f.deployment("api", "shop", replicas=3),
            f.deployment("checkout", "payments", replicas=1),
            f.deployment("worker", "shop", replicas=1),
        ],
        clusterrolebindings=[
            f.default_cluster_admin_binding(),
            f.clusterrolebinding(
                "jenkins-admin", "cluster-admin", [f.subject("ServiceAccount", "jenkins", "ci")]
            ),
        ],
    )


def sample_findings() -> list[Finding]:
    crb = "ClusterRoleBinding"
    return [
        _finding(
            "RBAC-101",
            Status.FAIL,
            Subject(crb, "", "jenkins-admin"),
            "grants cluster-admin cluster-wide to ServiceAccount ci/jenkins",
            binding="jenkins-admin",
            service_accounts=["ci/jenkins"],
        ),
        _finding("RBAC-101", Status.PASS, Subject(crb, "", "cluster-admin"), "binds no service account"),
        _finding(
            "RES-101",
            Status.FAIL,
            Subject("Deployment", "payments", "checkout"),
            "runs 1 replica",
            replicas=1,
        ),
        Finding(
            "RES-101",
            Status.FAIL,
            Subject("Deployment", "shop", "worker"),
            "runs 1 replica",
            {"replicas": 1},
            {"reason": "batch worker, restarts are fine", "owner": "team-shop", "expires": "2027-01-01"},
        ),
        _finding("RES-101", Status.PASS, Subject("Deployment", "shop", "api"), "runs 3 replicas", replicas=3),
        *(
            _finding(
                "RES-102",
                Status.WARN if i == 1 else Status.PASS,
                Subject("Pod", "shop", f"api-{i}"),
                "container api has no memory limit" if i == 1 else "every container has a memory limit",
            )
            for i in range(1, 4)
        ),
        _finding(
            "EXP-101",
            Status.UNKNOWN,
            Subject.cluster(),
            "Secret could not be read (forbidden: secrets is forbidden)",
        ),
        *(
            _finding("NODE-101", Status.PASS, Subject("Node", "", f"node-{i}"), "kernel 6.1.0 is supported")
            for i in range(1, 4)
        ),
        _finding(
            "VER-101",
            Status.WARN,
            Subject.cluster(),
            "v1.30.4 reaches end of life on 2025-06-28",
            version="v1.30.4",
            end_of_life="2025-06-28",
        ),
    ]


def build_report(
    inventory: Inventory,
    findings: list[Finding],
    checks: dict[str, CheckMeta] | None = None,
    notes: list[str] | None = None,
) -> Report:
    checks = CHECKS if checks is None else checks
    collection = CollectionInfo(
        started_at=COLLECTED_AT - timedelta(seconds=6.4),
        finished_at=COLLECTED_AT,
        tool_version="0.1.0",
        notes=list(notes or []),
    )
    return Report(inventory, collection, findings, score(findings, checks), checks, CALENDAR)


def sample_report() -> Report:
    inventory = sample_inventory()
    inventory.coverage["secrets"] = Coverage("forbidden", message='secrets is forbidden: User "auditor"')
    return build_report(inventory, sample_findings(), notes=["TLS verification disabled for this context"])


def make_app(**kwargs: Any) -> K8sAuditApp:
    """An app with a fixed clock and no cursor blink (screenshots and Pilot tests)."""
    kwargs.setdefault("clock", lambda: FIXED_NOW)
    kwargs.setdefault("cursor_blink", False)
    return K8sAuditApp(**kwargs)


def screen_text(app: K8sAuditApp) -> str:
    """What the terminal shows right now, as plain text (no styles)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system=None,
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text(styles=False)
