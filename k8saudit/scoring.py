"""Scores that explain themselves.

- A check scores the share of its subjects that pass (a warning counts half). Waived findings,
  `unknown`, `not-applicable` and `error` are out of the denominator, and counted for display.
- An area scores the severity-weighted mean of its scored checks (info checks weigh nothing).
- The overall score is the (area-weighted) mean of the scored areas. Grades: A ≥ 90, B ≥ 80,
  C ≥ 70, D ≥ 60, F below.

Because every step is a weighted mean, the points a fix would gain are exact: fixing one failing
finding of check c in area a raises the overall score by
    100 · (1 − credit) / n_c · w_c / W_a · aw_a / AW
where n_c is the check's denominator, w_c its severity weight, W_a the sum of the weights of the
area's scored checks, aw_a the area's weight and AW the sum of the scored areas' weights.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from k8saudit.model import Finding, Severity, Status
from k8saudit.registry import AREAS, CheckMeta

SEVERITY_WEIGHT: dict[Severity, float] = {
    Severity.CRITICAL: 10.0,
    Severity.HIGH: 5.0,
    Severity.MEDIUM: 3.0,
    Severity.LOW: 1.0,
    Severity.INFO: 0.0,
}
CREDIT: dict[Status, float] = {Status.PASS: 1.0, Status.WARN: 0.5, Status.FAIL: 0.0}
GRADES: tuple[tuple[float, str], ...] = ((90, "A"), (80, "B"), (70, "C"), (60, "D"))


def grade(score: float | None) -> str:
    if score is None:
        return "-"
    for floor, letter in GRADES:
        if score >= floor:
            return letter
    return "F"


@dataclass(slots=True)
class CheckScore:
    check_id: str
    area: str
    severity: Severity
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys((s.value for s in Status), 0))
    waived: int = 0
    earned: float = 0.0  # credit summed over the scored findings

    @property
    def denominator(self) -> int:
        return self.counts["pass"] + self.counts["warn"] + self.counts["fail"]

    @property
    def ratio(self) -> float | None:
        return self.earned / self.denominator if self.denominator else None

    @property
    def weight(self) -> float:
        return SEVERITY_WEIGHT[self.severity]

    def to_dict(self) -> dict[str, Any]:
        ratio = self.ratio
        return {
            "area": self.area,
            "severity": self.severity.value,
            "counts": self.counts,
            "waived": self.waived,
            "score": None if ratio is None else round(100 * ratio, 2),
        }


@dataclass(slots=True)
class AreaScore:
    area: str
    score: float | None  # 0..100
    weight: float  # the area's weight in the overall score
    check_weight: float  # sum of the severity weights of its scored checks (W_a)

    @property
    def grade(self) -> str:
        return grade(self.score)

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": None if self.score is None else round(self.score, 2),
            "grade": self.grade,
            "weight": self.weight,
        }


@dataclass(slots=True)
class Scores:
    overall: float | None
    areas: dict[str, AreaScore]
    checks: dict[str, CheckScore]
    area_shares: dict[str, float] = field(default_factory=dict)  # aw_a / AW of each scored area

    @property
    def grade(self) -> str:
        return grade(self.overall)

    def check_points(self, check_id: str, credit_gain: float) -> float:
        """Overall points gained when `credit_gain` more credit is earned in check `check_id`."""
        cs = self.checks.get(check_id)
        if cs is None or not cs.denominator or not cs.weight:
            return 0.0
        area = self.areas[cs.area]
        if not area.check_weight:
            return 0.0
        share = self.area_shares.get(cs.area, 0.0)
        return 100.0 * credit_gain / cs.denominator * cs.weight / area.check_weight * share

    def points_for(self, finding: Finding) -> float:
        """Overall points gained if this finding passed (0 for passing or waived findings)."""
        if finding.waived or finding.status not in (Status.FAIL, Status.WARN):
            return 0.0
        return self.check_points(finding.check_id, 1.0 - CREDIT[finding.status])

    def top_fixes(self, limit: int = 10) -> list[tuple[str, float, int]]:
        """(check id, points gained by fixing all its failing subjects, how many) best first."""
        fixes = []
        for check_id, cs in self.checks.items():
            if cs.ratio is None or cs.ratio >= 1.0:
                continue
            gain = cs.denominator - cs.earned
            fixes.append((check_id, self.check_points(check_id, gain), cs.counts["fail"] + cs.counts["warn"]))
        fixes.sort(key=lambda f: (-f[1], f[0]))
        return [f for f in fixes if f[1] > 0][:limit]

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": None if self.overall is None else round(self.overall, 2),
            "grade": self.grade,
            "areas": {name: a.to_dict() for name, a in self.areas.items()},
            "checks": {cid: c.to_dict() for cid, c in self.checks.items()},
        }


def score(
    findings: Iterable[Finding],
    checks: Mapping[str, CheckMeta],
    area_weights: Mapping[str, float] | None = None,
) -> Scores:
    check_scores = {cid: CheckScore(cid, meta.area, meta.severity) for cid, meta in checks.items()}
    _tally(findings, check_scores)
    return _combine(check_scores, _checked_area_weights(area_weights))


def rescore_checks(
    scores: Scores,
    findings: Iterable[Finding],
    check_ids: Iterable[str],
    checks: Mapping[str, CheckMeta],
) -> Scores:
    """`scores` with the checks `check_ids` scored again from `findings` (all of theirs, and only
    theirs) and every other check as it was: a what-if over one check's findings costs those
    findings, not the report's (a waiver's preview at 100k pods), and gives what `score` would."""
    check_scores = dict(scores.checks)
    for cid in check_ids:
        if cid in checks:
            check_scores[cid] = CheckScore(cid, checks[cid].area, checks[cid].severity)
    _tally(findings, {cid: check_scores[cid] for cid in check_ids if cid in checks})
    return _combine(check_scores, {name: area.weight for name, area in scores.areas.items()})


def _tally(findings: Iterable[Finding], check_scores: Mapping[str, CheckScore]) -> None:
    """Count `findings` into the check scores of their checks (others are skipped)."""
    # Counted in C per (check, status, waived), then credited per group: 337k findings at 100k
    # pods, a few hundred groups. Credits are multiples of 0.5, so the sums are exact either way.
    tally = Counter((f.check_id, f.status, f.waiver is not None) for f in findings)
    for (check_id, status, waived), count in tally.items():
        cs = check_scores.get(check_id)
        if cs is None:
            continue  # a finding of a check this version no longer has (as-recorded snapshots)
        if waived:
            cs.waived += count
            continue
        cs.counts[status.value] += count
        cs.earned += CREDIT.get(status, 0.0) * count


def _combine(check_scores: dict[str, CheckScore], weights_by_area: Mapping[str, float]) -> Scores:
    """The areas' and the overall score from the checks' (see the module's docstring)."""
    areas: dict[str, AreaScore] = {}
    for area in AREAS:
        scored = [
            cs for cs in check_scores.values() if cs.area == area and cs.ratio is not None and cs.weight
        ]
        total = sum(cs.weight for cs in scored)
        value = 100.0 * sum(cs.weight * (cs.ratio or 0.0) for cs in scored) / total if total else None
        areas[area] = AreaScore(area, value, weights_by_area[area], total)

    scaled = _scaled_area_weights(areas)
    total_weight = sum(scaled.values())
    if not total_weight:
        return Scores(None, areas, check_scores)
    overall = sum(w * (areas[name].score or 0.0) for name, w in scaled.items()) / total_weight
    shares = {name: w / total_weight for name, w in scaled.items()}
    return Scores(overall, areas, check_scores, shares)


def _checked_area_weights(area_weights: Mapping[str, float] | None) -> dict[str, float]:
    """Every area's weight (default 1); a negative, infinite or nan one is a programming error
    (the policy file refuses them), never a score that is nan and so passes every gate."""
    weights = {area: float((area_weights or {}).get(area, 1.0)) for area in AREAS}
    for area, weight in weights.items():
        if not (math.isfinite(weight) and weight >= 0):
            raise ValueError(f"area weight of {area} must be a finite number >= 0, got {weight}")
    return weights


def _scaled_area_weights(areas: Mapping[str, AreaScore]) -> dict[str, float]:
    """The weights of the scored areas divided by the largest: the same proportions, but the sum
    of huge weights (1e307) stays finite and tiny ones (5e-324) keep their precision. The default
    weights (all 1) come out unchanged."""
    weights = {name: a.weight for name, a in areas.items() if a.score is not None and a.weight > 0}
    largest = max(weights.values(), default=0.0)
    return {name: w / largest for name, w in weights.items()}
