"""Shared helpers for "does this critical workload survive losing a node": replicas, the
PodDisruptionBudgets that cover it, how its template spreads pods, and where they really run.

Used by the ingress and DNS areas, whose failure stories are the same: the whole edge or the
whole name service on one node, or drained all at once.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from k8saudit.inventory import Inventory, label_selector_matches
from k8saudit.model import Finding, failed, passed, warned
from k8saudit.readers import as_count, as_object, dicts, name_of
from k8saudit.redact import pod_spec_of

Obj = dict[str, Any]

HOSTNAME_KEY = "kubernetes.io/hostname"
ZONE_KEYS = frozenset({"topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone"})
SPREAD_KEYS = frozenset({HOSTNAME_KEY}) | ZONE_KEYS


def template_labels(obj: Obj) -> dict[str, str]:
    """The labels of a workload's pod template (what a PDB or Service selects)."""
    # Asked for every workload by several checks: type tests inline rather than as_object calls.
    spec = obj.get("spec")
    template = spec.get("template") if type(spec) is dict else None
    metadata = template.get("metadata") if type(template) is dict else None
    labels = metadata.get("labels") if type(metadata) is dict else None
    return labels if isinstance(labels, dict) else {}


def covering_pdbs(inv: Inventory, namespace: str, labels: dict[str, str]) -> list[Obj]:
    """PodDisruptionBudgets in `namespace` whose selector matches pods with `labels`."""
    return [
        pdb
        for pdb in inv.in_namespace("poddisruptionbudgets", namespace)
        if label_selector_matches((pdb.get("spec") or {}).get("selector"), labels)
    ]


def _absolute(value: int | str, replicas: int, round_up: bool) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.endswith("%"):
        try:
            percent = float(value[:-1])
        except ValueError:
            return None
        if not math.isfinite(percent):  # "inf%", "nan%"
            return None
        exact = replicas * percent / 100
        return int(-(-exact // 1)) if round_up else int(exact // 1)
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def pdb_allowed_disruptions(pdb: Obj, replicas: int) -> int | None:
    """How many of `replicas` pods the budget lets a drain evict at once (None: cannot tell)."""
    spec = pdb.get("spec") or {}
    if "maxUnavailable" in spec:
        # The disruption controller rounds maxUnavailable percentages up.
        return _absolute(spec["maxUnavailable"], replicas, round_up=True)
    if "minAvailable" in spec:
        minimum = _absolute(spec["minAvailable"], replicas, round_up=True)
        return None if minimum is None else max(replicas - minimum, 0)
    return None


def desired_replicas(key: str, obj: Obj) -> int:
    """Replicas a workload asks for: DaemonSets count the nodes they are scheduled to."""
    if key == "daemonsets":
        return as_count((obj.get("status") or {}).get("desiredNumberScheduled"))
    return as_count((obj.get("spec") or {}).get("replicas"), default=1)


def ready_replicas(key: str, obj: Obj) -> int:
    status = obj.get("status") or {}
    field = "numberReady" if key == "daemonsets" else "readyReplicas"
    return as_count(status.get(field))


def spread_rules_by_strength(key: str, obj: Obj) -> tuple[list[str], list[str]]:
    """(hard rules, soft rules) that spread the pod template's replicas over nodes or zones.

    A rule counts only when its topology key is a node or zone and it applies to the workload's
    own pods: an anti-affinity term or spread constraint whose label selector picks some other
    app spreads nothing. Required anti-affinity and DoNotSchedule constraints are hard; preferred
    anti-affinity and ScheduleAnyway constraints only bias the scheduler.
    """
    spec = pod_spec_of(key, obj) or {}
    hard: list[str] = []
    soft: list[str] = []
    anti = as_object(as_object(spec.get("affinity")).get("podAntiAffinity"))
    if not anti and not spec.get("topologySpreadConstraints"):
        return hard, soft
    labels = template_labels(obj)
    for term in dicts(anti.get("requiredDuringSchedulingIgnoredDuringExecution")):
        if _applies_to_own_pods(term, labels):
            hard.append(f"required anti-affinity on {term['topologyKey']}")
    for weighted in dicts(anti.get("preferredDuringSchedulingIgnoredDuringExecution")):
        term = as_object(weighted.get("podAffinityTerm"))
        if _applies_to_own_pods(term, labels):
            soft.append(f"preferred anti-affinity on {term['topologyKey']}")
    for constraint in dicts(spec.get("topologySpreadConstraints")):
        if _applies_to_own_pods(constraint, labels):
            mode = constraint.get("whenUnsatisfiable", "DoNotSchedule")
            rule = f"topology spread on {constraint['topologyKey']} ({mode})"
            (hard if mode == "DoNotSchedule" else soft).append(rule)
    return hard, soft


def _applies_to_own_pods(rule: object, labels: dict[str, str]) -> bool:
    key = rule.get("topologyKey") if isinstance(rule, dict) else None
    if not isinstance(key, str) or key not in SPREAD_KEYS:
        return False
    return bool(rule.get("matchLabelKeys")) or label_selector_matches(rule.get("labelSelector"), labels)


def spread_rules(key: str, obj: Obj) -> list[str]:
    """How the pod template spreads replicas over nodes or zones, as readable rules."""
    hard, soft = spread_rules_by_strength(key, obj)
    return hard + soft


def pods_per_node(inv: Inventory, key: str, obj: Obj) -> Counter[str]:
    """Running pods of a workload by node name (pending pods without a node are left out)."""
    placement: Counter[str] = Counter()
    for _, node, _ in inv.live_placements_of(key, obj):
        placement[node] += 1
    return placement


def describe_placement(placement: Counter[str]) -> str:
    return ", ".join(f"{node} ({count})" for node, count in sorted(placement.items()))


def pdb_finding(inv: Inventory, key: str, obj: Obj, evidence: dict[str, Any]) -> Finding:
    """The PodDisruptionBudget verdict for one critical workload (shared with the DNS area)."""
    subject = inv.subject(key, obj)
    if key == "daemonsets":
        return passed(subject, "a DaemonSet: drains do not evict its pods, one per node", **evidence)
    replicas = desired_replicas(key, obj)
    pdbs = covering_pdbs(inv, subject.namespace, template_labels(obj))
    names = [name_of(p) for p in pdbs]
    evidence = {**evidence, "pdbs": names, "replicas": replicas}
    if not pdbs:
        return failed(
            subject, "no PodDisruptionBudget covers its pods: a drain may evict them all at once", **evidence
        )
    allowed = [pdb_allowed_disruptions(p, replicas) for p in pdbs]
    if any(a == 0 for a in allowed):
        return warned(
            subject,
            f"PodDisruptionBudget {', '.join(names)} allows no eviction at {replicas} replica(s): "
            "node drains will hang",
            **evidence,
        )
    return passed(subject, f"covered by PodDisruptionBudget {', '.join(names)}", **evidence)


def spread_finding(inv: Inventory, key: str, obj: Obj, evidence: dict[str, Any]) -> Finding:
    """Replicas on distinct nodes, by rule and in fact (shared with the DNS area)."""
    subject = inv.subject(key, obj)
    if key == "daemonsets":
        return passed(subject, "a DaemonSet: one pod per node by construction", **evidence)
    rules = spread_rules(key, obj)
    replicas = desired_replicas(key, obj)
    evidence = {**evidence, "spread_rules": rules, "replicas": replicas}
    placement = pods_per_node(inv, key, obj) if inv.readable("pods") else None
    if placement is not None:
        evidence["pods_per_node"] = dict(sorted(placement.items()))
    if placement and sum(placement.values()) >= 2 and len(placement) == 1:
        node = next(iter(placement))
        return failed(
            subject,
            f"all {placement[node]} running pods are on one node ({node}): losing it loses them all",
            **evidence,
        )
    if not rules and replicas < 2:
        return warned(
            subject,
            "a single replica, and no anti-affinity or topology spread would keep more replicas apart",
            **evidence,
        )
    if not rules:
        where = f" (today: {describe_placement(placement)})" if placement else ""
        return warned(
            subject,
            f"no anti-affinity or topology spread in the pod template: replicas share nodes by chance{where}",
            **evidence,
        )
    return passed(subject, f"spread by {'; '.join(rules)}", **evidence)
