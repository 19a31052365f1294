"""Shared helpers for the TUI tests: fixed reports, a fixed clock, and the screen as plain text.

The SVG snapshots use a report built here from synthetic check metadata rather than the live
catalog, so adding or rewording a check elsewhere never changes a screenshot; the Pilot tests
walk the real demo snapshot.
"""

from __future__ import annotations

import copy
import io
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from rich.console import Console
from rich.syntax import Syntax

from k8saudit.inventory import Coverage, Inventory
from k8saudit.model import Finding, Severity, Status, Subject
from k8saudit.registry import CheckMeta
from k8saudit.releases import ReleaseCalendar
from k8saudit.report import CollectionInfo, Report
from k8saudit.scoring import score
from screens.app import K8sAuditApp
from tests import factories as f

_S = TypeVar("_S")

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


# -- two snapshots of the demo cluster, a week apart (diff and fleet tests) ------------------------

WEEK = timedelta(days=7)
FIXED_BINDING = "jenkins-admin"  # bound to cluster-admin in the demo; gone in the newer snapshot
INTRODUCED_BINDING = "argo-admin"  # new in the newer snapshot: a fresh RBAC-001 failure


def demo_variant(*, fixed: bool, context: str | None = None) -> Report:
    """The demo cluster as collected a week earlier (`fixed=False`: as shipped) or at its own time
    with `jenkins-admin` removed and `argo-admin` (cluster-admin for Argo CD) added."""
    from k8saudit.inventory import Inventory
    from k8saudit.report import evaluate
    from tests import demo

    shipped = demo.build_inventory()
    objects = {key: list(items) for key, items in shipped.objects.items()}
    when = demo.COLLECTED_AT
    if fixed:
        objects["clusterrolebindings"] = [
            b for b in objects["clusterrolebindings"] if b["metadata"]["name"] != FIXED_BINDING
        ]
        objects["clusterrolebindings"].append(
            f.clusterrolebinding(
                INTRODUCED_BINDING, "cluster-admin", [f.subject("ServiceAccount", "argocd-server", "argocd")]
            )
        )
    else:
        when -= WEEK
    cluster = copy.deepcopy(shipped.cluster)
    if context is not None:
        cluster.context = context
    inventory = Inventory(
        objects, shipped.coverage, cluster, shipped.served_api_versions, shipped.applied_api_versions
    )
    collection = CollectionInfo(started_at=when - timedelta(seconds=4), finished_at=when)
    return evaluate(inventory, collection, today=FIXED_NOW.date())


async def wait_for(pilot: Any, condition: Any, what: str, tries: int = 500) -> None:
    """Let the app run until `condition()` holds (workers finish in their own time)."""
    for _ in range(tries):
        if condition():
            await pilot.pause()  # let the new screen compose and paint
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def open_dialog(pilot: Any, app: K8sAuditApp, key: str, dialog_type: type[_S]) -> _S:
    """Press `key` and return the dialog it opens, once it is on screen and painted."""
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, dialog_type), f"the {dialog_type.__name__}")
    dialog = app.screen
    assert isinstance(dialog, dialog_type)
    return dialog


async def previewed(pilot: Any, dialog: Any) -> str:
    """The waiver dialog's preview of what its chosen scope changes, once a worker worked it out."""
    from textual.widgets import Static

    from screens.waivers import WORKING

    effect = dialog.query_one("#waiver-effect", Static)
    await wait_for(pilot, lambda: WORKING not in str(effect.content), "the waiver's preview")
    return str(effect.content)


def type_at_once(app: K8sAuditApp, *keys: str) -> None:
    """Send `keys` the way a fast typist or a paste does: all queued before the app handles the
    first (`pilot.press` waits for each). A key is a character, or a key name ("ctrl+u")."""
    from textual import events
    from textual.keys import _character_to_key

    for key in keys:
        if len(key) == 1:
            app.post_message(events.Key(key if key.isalnum() else _character_to_key(key), key))
        else:
            app.post_message(events.Key(key, None))


def sample_old_report() -> Report:
    """`sample_report()` as collected a week earlier (synthetic, for the diff screenshot): the
    checkout Deployment still had 2 replicas, a `legacy-admin` binding failed RBAC-101 (removed
    since), the kernel check failed on node-3, and the `worker` Deployment did not exist yet."""
    inventory = sample_inventory()
    inventory.coverage["secrets"] = Coverage("forbidden", message='secrets is forbidden: User "auditor"')
    inventory.objects["deployments"] = [
        d for d in inventory.objects["deployments"] if d["metadata"]["name"] != "worker"
    ] + [f.deployment("legacy-cron", "shop", replicas=1)]
    inventory.objects["clusterrolebindings"].append(
        f.clusterrolebinding("legacy-admin", "cluster-admin", [f.subject("ServiceAccount", "legacy", "ops")])
    )
    crb = "ClusterRoleBinding"
    findings = [
        x
        for x in sample_findings()
        if not (x.check_id == "RES-101" and x.subject.name in ("worker", "checkout"))
        and not (x.check_id == "NODE-101" and x.subject.name == "node-3")
    ]
    findings += [
        _finding(
            "RBAC-101",
            Status.FAIL,
            Subject(crb, "", "legacy-admin"),
            "grants cluster-admin cluster-wide to ServiceAccount ops/legacy",
        ),
        _finding("RES-101", Status.PASS, Subject("Deployment", "payments", "checkout"), "runs 2 replicas"),
        _finding("RES-101", Status.FAIL, Subject("Deployment", "shop", "legacy-cron"), "runs 1 replica"),
        _finding("NODE-101", Status.FAIL, Subject("Node", "", "node-3"), "kernel 4.14 has the conntrack bug"),
    ]
    for x in findings:
        if x.check_id == "VER-101":
            x.status = Status.FAIL  # a week ago it failed; now it only warns
    report = build_report(inventory, findings)
    report.collection.started_at -= WEEK
    report.collection.finished_at -= WEEK
    return report


# -- the whole content of a widget, not only what is scrolled into view -------------------------


def content_text(widget: Any, width: int = 200) -> str:
    """Everything a Static shows when scrolled end to end (a detail's whole evidence, a
    resource's whole YAML), as plain text: rendered like the screen renders it, or for
    highlighted code (never wrapped, scrolled sideways) the text being highlighted, every column."""
    content = widget.content
    if isinstance(content, Syntax):
        return content.code
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None, legacy_windows=False)
    console.print(content)
    return console.export_text(styles=False)
