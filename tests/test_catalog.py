"""The catalog's invariants: complete metadata, stable unique ids, and a pass and a fail fixture
for every check that really pass and really fail."""

from __future__ import annotations

import pytest

from k8saudit.engine import run_check
from k8saudit.inventory import FORBIDDEN, KINDS_BY_KIND, Coverage
from k8saudit.kinds import KINDS
from k8saudit.model import Status
from k8saudit.registry import AREAS, Context, load_checks
from tests.check_fixtures import load_fixtures

CHECKS = load_checks()
FIXTURES = load_fixtures()
NOW = "2026-11-20T08:00:00+00:00"


def context() -> Context:
    from datetime import datetime

    return Context.default(datetime.fromisoformat(NOW))


def test_every_area_has_checks() -> None:
    areas = {meta.area for meta in CHECKS.values()}
    assert areas <= set(AREAS)
    assert len(CHECKS) >= 2


def test_kind_names_are_unique() -> None:
    assert len(KINDS_BY_KIND) == len(KINDS)


@pytest.mark.parametrize("check_id", list(CHECKS))
def test_metadata_is_complete(check_id: str) -> None:
    meta = CHECKS[check_id]
    assert len(meta.title) >= 10
    assert len(meta.rationale) >= 80, "the rationale names the failure the check prevents"
    assert len(meta.remediation) >= 30
    assert meta.references and all(r.startswith("https://") for r in meta.references)


@pytest.mark.parametrize("check_id", list(CHECKS))
def test_every_check_has_pass_and_fail_fixtures(check_id: str) -> None:
    fixtures = FIXTURES.get(check_id, {})
    assert "pass" in fixtures, f"{check_id} has no pass fixture in tests/check_fixtures/"
    assert "fail" in fixtures, f"{check_id} has no fail fixture in tests/check_fixtures/"


def test_no_fixture_for_an_unknown_check() -> None:
    assert set(FIXTURES) <= set(CHECKS)


@pytest.mark.parametrize("check_id", list(CHECKS))
def test_pass_fixture_passes(check_id: str) -> None:
    findings = run_check(CHECKS[check_id], FIXTURES[check_id]["pass"](), context())
    statuses = {f.status for f in findings}
    assert Status.PASS in statuses, [f.message for f in findings]
    assert statuses <= {Status.PASS, Status.NOT_APPLICABLE}, [(f.status, f.message) for f in findings]
    assert all(f.check_id == check_id for f in findings)


@pytest.mark.parametrize("check_id", list(CHECKS))
def test_fail_fixture_fails(check_id: str) -> None:
    findings = run_check(CHECKS[check_id], FIXTURES[check_id]["fail"](), context())
    problems = [f for f in findings if f.status in (Status.FAIL, Status.WARN)]
    assert problems, [(f.status, f.message) for f in findings]
    assert not [f for f in findings if f.status is Status.ERROR]


@pytest.mark.parametrize("check_id", [cid for cid, meta in CHECKS.items() if meta.inputs])
def test_unreadable_input_is_unknown_never_pass(check_id: str) -> None:
    meta = CHECKS[check_id]
    for key in meta.inputs:
        inventory = FIXTURES[check_id]["fail"]()
        inventory.coverage[key] = Coverage(FORBIDDEN, message=f"{key} is forbidden")
        findings = run_check(meta, inventory, context())
        assert [f.status for f in findings] == [Status.UNKNOWN]
        assert "could not be read" in findings[0].message


@pytest.mark.parametrize("check_id", list(CHECKS))
def test_findings_carry_plain_evidence(check_id: str) -> None:
    import orjson

    for outcome in ("pass", "fail"):
        for finding in run_check(CHECKS[check_id], FIXTURES[check_id][outcome](), context()):
            orjson.dumps(finding.to_dict())  # evidence must be JSON data
            assert finding.message.strip()
