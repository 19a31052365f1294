"""50 000 findings: the findings screen renders only what is visible and filters correctly.

Behaviour, never wall-clock: the table builds at most one line per visible row, the widget tree
does not grow with the number of findings, and every filter gives exactly what a brute-force
scan of the findings gives. Timings are measured in bench/tui_filter.py.
"""

from __future__ import annotations

import itertools

from k8saudit.model import Finding, Severity, Status, Subject
from screens.findings import FindingsScreen
from screens.findings_index import PROBLEMS, FindingFilter, FindingsIndex, SortOrder
from screens.table import RowTable
from tests.tui_support import CHECKS, SIZE, build_report, make_app, sample_inventory

VOLUME = 50_000
STATUS_CYCLE = (
    [Status.PASS] * 14 + [Status.FAIL] * 3 + [Status.WARN] * 2 + [Status.UNKNOWN] + [Status.NOT_APPLICABLE]
)


def volume_report(count: int = VOLUME):
    """`count` findings over the sample checks: pods in 250 namespaces, mostly passing."""
    check_ids = sorted(CHECKS)
    statuses = itertools.cycle(STATUS_CYCLE)
    findings = []
    for i in range(count):
        status = next(statuses)
        findings.append(
            Finding(
                check_ids[i % len(check_ids)],
                status,
                Subject("Pod", f"team-{i % 250:03d}", f"app-{i:05d}"),
                f"container app-{i:05d} {'lacks' if status.is_problem else 'has'} a memory limit",
                {"index": i},
                {"reason": "accepted risk"} if i % 97 == 0 else None,
            )
        )
    return build_report(sample_inventory(), findings)


def brute_force(index: FindingsIndex, flt: FindingFilter) -> set[int]:
    """What `flt` must keep, computed the slow, obvious way."""
    kept = set()
    for i, finding in enumerate(index.findings):
        meta = index.report.checks[finding.check_id]
        if flt.hide_waived and finding.waived:
            continue
        if flt.status == PROBLEMS and not finding.status.is_problem:
            continue
        if flt.status not in (None, PROBLEMS) and finding.status.value != flt.status:
            continue
        if flt.min_severity is not None and meta.severity.rank > flt.min_severity.rank:
            continue
        if flt.area is not None and meta.area != flt.area:
            continue
        if flt.namespace is not None and finding.subject.namespace != flt.namespace:
            continue
        haystack = " ".join(
            (
                meta.severity.value,
                finding.status.value,
                "waived" if finding.waived else "",
                meta.area,
                finding.check_id,
                meta.title,
                str(finding.subject),
                finding.message,
            )
        ).lower()
        if all(word in haystack for word in flt.words):
            kept.add(i)
    return kept


def test_filters_match_brute_force_on_50k_findings() -> None:
    index = FindingsIndex(volume_report())
    assert len(index) == VOLUME
    filters = [
        FindingFilter(text="app-4"),
        FindingFilter(text="app-49"),  # narrows the previous one: searched within its matches
        FindingFilter(text="app-499 lacks"),
        FindingFilter(text="app-4"),  # widens again: a full scan, not the narrowed set
        FindingFilter(min_severity=Severity.HIGH, status=PROBLEMS),
        FindingFilter(namespace="team-042", hide_waived=True),
        FindingFilter(area="resilience", status=Status.WARN.value, text="limit"),
        FindingFilter(text="no-such-thing"),
    ]
    for flt in filters:
        shown = index.select(flt, SortOrder())
        assert len(shown) == len(set(shown))
        assert set(shown) == brute_force(index, flt), flt
    # sorted: failing first, worst severity first within a status, then most points
    shown = index.select(FindingFilter(status=PROBLEMS), SortOrder())
    keys = [(index.findings[i].status.rank, index.severity[i].rank, -index.points[i]) for i in shown]
    assert keys == sorted(keys)
    # the whole default order, ties included, is the obvious five-part sort (stable)
    obvious = sorted(
        range(len(index)),
        key=lambda i: (
            index.findings[i].status.rank,
            index.severity_rank[i],
            -index.points[i],
            index.findings[i].check_id,
            index.subject_text[i],
        ),
    )
    assert index.order("status")[0] == obvious
    check_id, subject = index.findings[7].check_id, index.findings[7].subject
    assert sorted(index.subjects_of(check_id)) == [
        i for i, f in enumerate(index.findings) if f.check_id == check_id
    ]
    assert sorted(index.naming(subject)) == [i for i, f in enumerate(index.findings) if f.subject == subject]
    by_subject = index.select(FindingFilter(text="team-001"), SortOrder("subject", reverse=True))
    subjects = [index.subject_text[i].lower() for i in by_subject]
    assert subjects == sorted(subjects, reverse=True)


async def test_findings_screen_renders_only_visible_rows() -> None:
    small = make_app(report=volume_report(40))
    async with small.run_test(size=SIZE) as pilot:
        await pilot.press("f")
        small_widgets = len(list(small.screen.walk_children()))

    app = make_app(report=volume_report(), debounce_s=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f")
        screen = app.screen
        assert isinstance(screen, FindingsScreen)
        table = screen.query_one("#findings", RowTable)
        visible_rows = table.scrollable_content_region.height - 1  # minus the header line
        assert table.row_count == VOLUME
        assert 0 < table.rows_rendered <= visible_rows
        # the widget tree does not grow with the data (one table, not one widget per row)
        assert len(list(screen.walk_children())) == small_widgets

        # jump to the end: only the last page is built
        await pilot.press("G")
        assert table.cursor == VOLUME - 1
        assert table.rows_rendered <= 2 * visible_rows

        # type a filter: one filter run on enter, the table re-renders a page at most
        await pilot.press("slash", *"app-4999", "enter")
        expected = brute_force(screen.index, FindingFilter(text="app-4999"))
        assert set(screen.rows_shown) == expected and len(expected) == 10  # app-49990 … app-49999
        assert table.row_count == len(expected)
        assert table.rows_rendered <= visible_rows

        # severity filter on top of the text
        await pilot.press("x")
        assert table.row_count == VOLUME
        await pilot.press("v", "down", "enter")  # critical
        shown = set(screen.rows_shown)
        assert shown == brute_force(screen.index, FindingFilter(min_severity=Severity.CRITICAL))
        assert 0 < len(shown) < VOLUME
        assert table.rows_rendered <= visible_rows

        # page through: each page builds at most a page of lines
        before = table.rows_rendered
        await pilot.press("pagedown")
        assert table.rows_rendered - before <= visible_rows
