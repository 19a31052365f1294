"""Hostile numbers in the policy file: every numeric setting and weight is bounded, and the
overall score stays finite whatever weights reach the scoring (so `--fail-under` always judges)."""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path

import pytest

from k8saudit.cli import demo_snapshot_path, main
from k8saudit.model import Finding, Severity, Status, Subject
from k8saudit.policy import MAX_AREA_WEIGHT, PolicyError, parse_policy
from k8saudit.registry import AREAS, CheckMeta, Config
from k8saudit.scoring import score

NUMERIC_SETTINGS = [f.name for f in fields(Config) if f.type in ("int", "float")]
FLOAT_SETTINGS = [f.name for f in fields(Config) if f.type == "float"]


def refusal(body: str) -> str:
    with pytest.raises(PolicyError) as caught:
        parse_policy(body, "p.toml")
    message = caught.value.message
    assert "\n" not in message
    return message


@pytest.mark.parametrize("weight", ["1e307", "1.7976931348623157e308", "1001", "-1", "inf", "nan"])
def test_a_weight_outside_0_to_1000_is_refused(weight: str) -> None:
    message = refusal(f"[weights]\nrbac = {weight}\n")
    assert message.startswith("p.toml: [weights] rbac:")
    assert "above 1000" in message or "expected a number" in message


def test_several_huge_weights_are_refused_too() -> None:
    message = refusal("[weights]\nrbac = 1e300\ndns = 1e300\n")
    assert "[weights] rbac" in message and f"above {MAX_AREA_WEIGHT}" in message


def test_weights_at_the_bounds_are_accepted() -> None:
    config = parse_policy(f"[weights]\nrbac = {MAX_AREA_WEIGHT}\ndns = 0\n").config
    assert config.area_weights["rbac"] == MAX_AREA_WEIGHT and config.area_weights["dns"] == 0.0


@pytest.mark.parametrize(
    ("name", "value"),
    [(name, value) for name in NUMERIC_SETTINGS for value in ("9223372036854775807", "0", "-1")]
    + [(name, value) for name in FLOAT_SETTINGS for value in ("1e300", "inf", "nan")],
)
def test_every_numeric_setting_is_bounded(name: str, value: str) -> None:
    message = refusal(f"[settings]\n{name} = {value}\n")
    assert message.startswith(f"p.toml: [settings] {name}: must be positive and at most ")


def test_ten_years_is_the_longest_age_limit() -> None:
    assert parse_policy("[settings]\nbackup_max_age_hours = 87600\n").config.backup_max_age_hours == 87600
    assert "at most 87600" in refusal("[settings]\nbackup_max_age_hours = 87601\n")
    assert "at most 3650" in refusal("[settings]\ncalendar_stale_days = 3651\n")
    assert "at most 1000000" in refusal("[settings]\ndns_nodes_per_replica = 1000001\n")


def test_the_defaults_are_within_the_bounds() -> None:
    parse_policy("[settings]\n" + "".join(f"{n} = {getattr(Config(), n)}\n" for n in NUMERIC_SETTINGS))


def test_cli_refuses_a_huge_weight_instead_of_passing_fail_under(tmp_path: Path, capsys) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("[weights]\nrbac = 1e307\n")
    argv = ["report", str(demo_snapshot_path()), "--waivers", str(policy), "--fail-under", "99"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("k8saudit: error:") and "[weights] rbac" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "setting", ["backup_max_age_hours = 1e300", "backup_max_age_hours = 9223372036854775807"]
)
def test_cli_refuses_a_backup_age_no_date_can_hold(tmp_path: Path, capsys, setting: str) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(f"[settings]\n{setting}\n")
    assert main(["report", str(demo_snapshot_path()), "--waivers", str(policy)]) == 1
    err = capsys.readouterr().err
    assert "backup_max_age_hours: must be positive and at most 87600" in err and err.count("\n") == 1


# -- the scoring's own defence --------------------------------------------------------------------


def _meta(check_id: str, area: str) -> CheckMeta:
    return CheckMeta(check_id, "t", area, Severity.HIGH, "r", "m", ("https://x",), (), lambda inv, ctx: [])


CHECKS = {"RBAC-001": _meta("RBAC-001", "rbac"), "DNS-001": _meta("DNS-001", "dns")}
FINDINGS = [
    Finding("RBAC-001", Status.PASS, Subject("Node", "", "a"), "m", {}),
    Finding("RBAC-001", Status.FAIL, Subject("Node", "", "b"), "m", {}),
    Finding("DNS-001", Status.PASS, Subject("Node", "", "a"), "m", {}),
]


@pytest.mark.parametrize("weight", [1e307, 1.7976931348623157e308, 1e-300, 5e-324])
def test_huge_or_tiny_equal_weights_score_like_equal_weights(weight: float) -> None:
    expected = score(FINDINGS, CHECKS)
    scores = score(FINDINGS, CHECKS, dict.fromkeys(AREAS, weight))
    assert scores.overall is not None and math.isfinite(scores.overall)
    assert scores.overall == pytest.approx(expected.overall) == pytest.approx(75.0)
    points = scores.points_for(FINDINGS[1])
    assert math.isfinite(points) and points == pytest.approx(expected.points_for(FINDINGS[1]))


@pytest.mark.parametrize("weight", [math.inf, math.nan, -1.0])
def test_a_weight_no_score_can_be_made_of_is_refused(weight: float) -> None:
    with pytest.raises(ValueError, match="area weight of rbac"):
        score(FINDINGS, CHECKS, {"rbac": weight})
