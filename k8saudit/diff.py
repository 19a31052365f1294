"""What changed between two reports of a cluster: findings, scores and objects.

Findings are matched by `Finding.key` (check id + subject) and sorted into:
- new:       a problem (fail/warn) now; before it passed, was not applicable, or did not exist;
- resolved:  a problem before; now it passes, is not applicable, or is gone;
- changed:   present in both with another verdict that matters: fail <-> warn, a problem or a
             pass that became unknown/error (or the reverse: visibility lost or regained), or a
             problem that became waived or lost its waiver;
- unchanged: the same problem with the same status in both.
Passing subjects that came or went are counted, not listed. Every list is worst first.

Both reports are normally evaluated with today's checks and waivers (`diff_snapshots`), so a
difference is a change in the cluster, not in k8saudit; `as_recorded` compares them as saved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from k8saudit import __version__
from k8saudit.inventory import KINDS_BY_KEY, Inventory
from k8saudit.model import Finding, Status
from k8saudit.readers import name_of, namespace_of
from k8saudit.registry import AREAS, CheckMeta, Config
from k8saudit.report import Report
from k8saudit.textsafe import safe_text
from k8saudit.waivers import WaiverPolicy

DIFF_SCHEMA = "k8saudit.diff/1"
NEW = "new"
RESOLVED = "resolved"
CHANGED = "changed"
UNCHANGED = "unchanged"
_GOOD_OR_ABSENT = (None, Status.PASS, Status.NOT_APPLICABLE)
_BLIND = (Status.UNKNOWN, Status.ERROR)


@dataclass(slots=True)
class FindingChange:
    """One check × subject in both reports (`old`/`new` None where it is absent)."""

    change: str  # NEW, RESOLVED, CHANGED or UNCHANGED
    old: Finding | None
    new: Finding | None
    meta: CheckMeta | None  # the check, as the newer report knows it

    @property
    def finding(self) -> Finding:
        """The finding to show: the new one, or the old one if it is gone."""
        return self.new or self.old  # type: ignore[return-value]

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.finding.key

    @property
    def severity(self) -> str:
        return self.meta.severity.value if self.meta else "unknown"

    @property
    def old_status(self) -> str | None:
        return _status_label(self.old)

    @property
    def new_status(self) -> str | None:
        return _status_label(self.new)

    def sort_key(self) -> tuple[Any, ...]:
        severity_rank = self.meta.severity.rank if self.meta else 9
        return (severity_rank, self.finding.status.rank, self.finding.check_id, self.finding.subject)

    def to_dict(self) -> dict[str, Any]:
        f = self.finding
        return {
            "change": self.change,
            "check_id": f.check_id,
            "title": self.meta.title if self.meta else None,
            "severity": self.meta.severity.value if self.meta else None,
            "area": self.meta.area if self.meta else None,
            "subject": f.subject.to_dict(),
            "old_status": self.old_status,
            "new_status": self.new_status,
            "message": f.message,
            "waiver": self.new.waiver if self.new else None,
        }


def _status_label(finding: Finding | None) -> str | None:
    if finding is None:
        return None
    return f"{finding.status.value} (waived)" if finding.waived else finding.status.value


@dataclass(frozen=True, slots=True)
class ScoreDelta:
    name: str  # an area, or "overall"
    old: float | None
    new: float | None
    old_grade: str
    new_grade: str

    @property
    def delta(self) -> float | None:
        return None if self.old is None or self.new is None else self.new - self.old

    def to_dict(self) -> dict[str, Any]:
        delta = self.delta
        return {
            "old": None if self.old is None else round(self.old, 2),
            "new": None if self.new is None else round(self.new, 2),
            "delta": None if delta is None else round(delta, 2),
            "old_grade": self.old_grade,
            "new_grade": self.new_grade,
        }


@dataclass(slots=True)
class ObjectChanges:
    """Objects of one kind that appeared or disappeared, as (namespace, name)."""

    kind: str
    added: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def shown(items: list[tuple[str, str]]) -> list[dict[str, str]]:
            return [{"namespace": ns, "name": name} for ns, name in items]

        return {"added": shown(self.added), "removed": shown(self.removed)}


@dataclass(frozen=True, slots=True)
class CoverageChange:
    kind: str
    old: str
    new: str


@dataclass(slots=True, repr=False)
class Diff:
    """Everything a diff view needs; `old` and `new` are the two full reports."""

    old: Report
    new: Report
    new_findings: list[FindingChange]
    resolved: list[FindingChange]
    changed: list[FindingChange]
    unchanged: list[FindingChange]
    passing_added: int  # passing subjects that appeared (new objects that are fine)
    passing_removed: int
    overall: ScoreDelta
    areas: dict[str, ScoreDelta]
    objects: dict[str, ObjectChanges]  # by Kind; only kinds read completely in both
    coverage: list[CoverageChange]  # kinds whose coverage state changed (their objects not compared)
    notes: list[str]

    def __repr__(self) -> str:  # short, as Report's: never the two whole reports
        counts = f"{len(self.new_findings)} new, {len(self.resolved)} resolved"
        return f"<Diff {self.old!r} -> {self.new!r}: {counts}>"

    @property
    def as_recorded(self) -> bool:
        return self.old.as_recorded

    def to_dict(self) -> dict[str, Any]:
        def side(report: Report) -> dict[str, Any]:
            cluster = report.inventory.cluster
            return {
                "context": cluster.context,
                "server": cluster.server,
                "version": cluster.git_version,
                "collected_at": report.collection.finished_at.isoformat(),
                "tool_version": report.collection.tool_version,
            }

        return {
            "schema": DIFF_SCHEMA,
            "tool": {"name": "k8saudit", "version": __version__},
            "as_recorded": self.as_recorded,
            "old": side(self.old),
            "new": side(self.new),
            "scores": {
                "overall": self.overall.to_dict(),
                "areas": {a: d.to_dict() for a, d in self.areas.items()},
            },
            "counts": {
                NEW: len(self.new_findings),
                RESOLVED: len(self.resolved),
                CHANGED: len(self.changed),
                UNCHANGED: len(self.unchanged),
                "passing_added": self.passing_added,
                "passing_removed": self.passing_removed,
            },
            "findings": {
                NEW: [c.to_dict() for c in self.new_findings],
                RESOLVED: [c.to_dict() for c in self.resolved],
                CHANGED: [c.to_dict() for c in self.changed],
                UNCHANGED: [c.to_dict() for c in self.unchanged],
            },
            "objects": {kind: changes.to_dict() for kind, changes in self.objects.items()},
            "coverage": [{"kind": c.kind, "old": c.old, "new": c.new} for c in self.coverage],
            "notes": self.notes,
        }


def classify(old: Finding | None, new: Finding | None) -> str | None:
    """NEW, RESOLVED, CHANGED, UNCHANGED, or None for a transition not worth listing."""
    o = old.status if old else None
    n = new.status if new else None
    o_problem = o in (Status.FAIL, Status.WARN)
    n_problem = n in (Status.FAIL, Status.WARN)
    if n_problem and o in _GOOD_OR_ABSENT:
        return NEW
    if o_problem and n in _GOOD_OR_ABSENT:
        return RESOLVED
    if old is None or new is None:
        return None  # an unknown/error subject came or went: nothing was known either way
    if o == n and old.waived == new.waived:
        return UNCHANGED if n_problem else None
    if o_problem or n_problem or o in _BLIND or n in _BLIND:
        return CHANGED
    return None  # pass <-> not-applicable


def diff_reports(old: Report, new: Report) -> Diff:
    old_by_key = {f.key: f for f in old.findings}
    new_by_key = {f.key: f for f in new.findings}
    buckets: dict[str, list[FindingChange]] = {NEW: [], RESOLVED: [], CHANGED: [], UNCHANGED: []}
    passing_added = passing_removed = 0
    for key in old_by_key.keys() | new_by_key.keys():
        before, after = old_by_key.get(key), new_by_key.get(key)
        change = classify(before, after)
        if change is None:
            if after is not None and before is None and after.status is Status.PASS:
                passing_added += 1
            elif before is not None and after is None and before.status is Status.PASS:
                passing_removed += 1
            continue
        check_id = key[0]
        meta = new.checks.get(check_id) or old.checks.get(check_id)
        buckets[change].append(FindingChange(change, before, after, meta))
    for items in buckets.values():
        items.sort(key=FindingChange.sort_key)
    objects, coverage = _object_changes(old.inventory, new.inventory)
    return Diff(
        old=old,
        new=new,
        new_findings=buckets[NEW],
        resolved=buckets[RESOLVED],
        changed=buckets[CHANGED],
        unchanged=buckets[UNCHANGED],
        passing_added=passing_added,
        passing_removed=passing_removed,
        overall=ScoreDelta(
            "overall", old.scores.overall, new.scores.overall, old.scores.grade, new.scores.grade
        ),
        areas={
            area: ScoreDelta(
                area,
                old.scores.areas[area].score,
                new.scores.areas[area].score,
                old.scores.areas[area].grade,
                new.scores.areas[area].grade,
            )
            for area in AREAS
        },
        objects=objects,
        coverage=coverage,
        notes=_notes(old, new),
    )


def _identities(inventory: Inventory, key: str) -> set[tuple[str, str]]:
    return {(namespace_of(o), name_of(o)) for o in inventory.items(key)}


def _object_changes(old: Inventory, new: Inventory) -> tuple[dict[str, ObjectChanges], list[CoverageChange]]:
    """Objects added/removed per kind, for kinds read completely in both; coverage changes for
    the rest (a kind that became forbidden did not lose its objects)."""
    objects: dict[str, ObjectChanges] = {}
    coverage: list[CoverageChange] = []
    for key in sorted(old.coverage.keys() | new.coverage.keys(), key=_kind_order):
        kind = KINDS_BY_KEY[key].kind if key in KINDS_BY_KEY else key
        old_state, new_state = old.coverage_of(key).state, new.coverage_of(key).state
        if old_state != new_state:
            coverage.append(CoverageChange(kind, old_state, new_state))
        if key not in KINDS_BY_KEY or not (old.readable(key) and new.readable(key)):
            continue
        before, after = _identities(old, key), _identities(new, key)
        if before != after:
            objects[kind] = ObjectChanges(kind, sorted(after - before), sorted(before - after))
    return objects, coverage


_KIND_POSITION = {key: index for index, key in enumerate(KINDS_BY_KEY)}


def _kind_order(key: str) -> tuple[int, str]:
    return (_KIND_POSITION.get(key, len(_KIND_POSITION)), key)


def _notes(old: Report, new: Report) -> list[str]:
    notes = []
    a, b = old.inventory.cluster, new.inventory.cluster
    if (a.server, a.context) != (b.server, b.context):
        notes.append(
            f"comparing different clusters: {safe_text(a.context, 80)} ({safe_text(a.server, 120)}) "
            f"and {safe_text(b.context, 80)} ({safe_text(b.server, 120)})"
        )
    if old.collection.finished_at > new.collection.finished_at:
        notes.append("OLD was collected after NEW: the changes read backwards in time")
    if old.as_recorded:
        versions = {old.collection.tool_version, new.collection.tool_version}
        if len(versions) > 1:
            notes.append(
                "as recorded by different k8saudit versions "
                f"({', '.join(sorted(safe_text(v, 40) for v in versions))}): check changes show as findings"
            )
    return notes


def diff_snapshots(
    old_path: str,
    new_path: str,
    *,
    as_recorded: bool = False,
    config: Config | None = None,
    waivers: WaiverPolicy | None = None,
    max_bytes: int | None = None,
) -> Diff:
    """Load two snapshot files and diff them, both evaluated the same way."""
    from k8saudit.snapshot import DEFAULT_MAX_BYTES, load

    reports = []
    for path in (old_path, new_path):
        snapshot = load(path, max_bytes or DEFAULT_MAX_BYTES)
        reports.append(snapshot.report(as_recorded=as_recorded, config=config, waivers=waivers))
    return diff_reports(reports[0], reports[1])


# -- rendering ----------------------------------------------------------------------------------


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _delta(d: ScoreDelta) -> str:
    delta = d.delta
    if delta is None:
        return f"{_score(d.old)} -> {_score(d.new)}"
    sign = "+" if delta > 0 else ""
    return f"{_score(d.old)} -> {_score(d.new)} ({sign}{delta:.1f})"


def render_diff_text(diff: Diff) -> str:
    old, new = diff.old, diff.new
    lines = [
        f"k8saudit diff — {safe_text(old.inventory.cluster.context, 80)} "
        f"{old.collection.finished_at:%Y-%m-%d %H:%M} -> {safe_text(new.inventory.cluster.context, 80)} "
        f"{new.collection.finished_at:%Y-%m-%d %H:%M} UTC",
        "Compared as recorded in the snapshots."
        if diff.as_recorded
        else f"Both evaluated with the checks and waivers of k8saudit {__version__}.",
    ]
    lines += [f"Note: {n}" for n in diff.notes]
    lines += ["", f"Overall: {diff.overall.old_grade} -> {diff.overall.new_grade}  {_delta(diff.overall)}"]
    for area, d in diff.areas.items():
        if d.old is None and d.new is None:
            continue
        marker = "" if not d.delta else ("  ▲" if d.delta > 0 else "  ▼")
        lines.append(f"  {area:<11} {d.old_grade} -> {d.new_grade}  {_delta(d)}{marker}")
    sections: Iterable[tuple[str, list[FindingChange]]] = (
        ("New findings", diff.new_findings),
        ("Resolved", diff.resolved),
        ("Changed", diff.changed),
        ("Unchanged problems", diff.unchanged),
    )
    for title, changes in sections:
        lines += ["", f"{title} ({len(changes)}):" if changes else f"{title}: none."]
        for c in changes:
            f = c.finding
            if c.change == UNCHANGED:
                transition = c.new_status or ""
            else:
                transition = f"{c.old_status or 'absent'} -> {c.new_status or 'gone'}"
            lines.append(
                f"  {c.severity.upper():<8} {f.check_id:<9} {safe_text(f.subject, 120)}: "
                f"{transition} — {safe_text(f.message, 240)}"
            )
    if diff.passing_added or diff.passing_removed:
        lines += ["", f"Passing subjects: +{diff.passing_added} new, -{diff.passing_removed} gone."]
    if diff.objects:
        lines += ["", "Objects:"]
        for kind, changes in diff.objects.items():
            lines.append(f"  {kind}: +{len(changes.added)} -{len(changes.removed)}")
            for sign, items in (("+", changes.added), ("-", changes.removed)):
                for ns, name in items[:20]:
                    lines.append(f"    {sign} {safe_text(f'{ns}/{name}' if ns else name, 200)}")
                if len(items) > 20:
                    lines.append(f"    {sign} … {len(items) - 20} more")
    if diff.coverage:
        lines += ["", "Coverage changed (objects of these kinds not compared):"]
        lines += [f"  {c.kind}: {c.old} -> {c.new}" for c in diff.coverage]
    return "\n".join(lines) + "\n"
