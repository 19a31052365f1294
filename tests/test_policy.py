"""The policy file: where it is found, what it may say, one clear line for every mistake, and
appending a waiver without losing a comment."""

from __future__ import annotations

import stat
import textwrap
from datetime import date
from pathlib import Path

import pytest

from k8saudit.cli import main
from k8saudit.model import Finding, Status, Subject
from k8saudit.policy import (
    PROJECT_FILE,
    PolicyError,
    append_waiver,
    find_policy_file,
    load_policy,
    parse_policy,
    read_policy,
    writable_policy_path,
)
from k8saudit.registry import AREAS, Config
from k8saudit.waivers import Waiver, waiver_for_finding

GOOD = """\
# Shop production policy.
[settings]
backup_max_age_hours = 48     # nightly backups plus a day of slack
calendar_stale_days = 365

[weights]
rbac = 2
dns = 0.5

# Accepted risks, reviewed monthly.
[[waiver]]
check = "RBAC-001"
kind = "clusterrolebinding"   # matched case-insensitively
name = "ci-*"
reason = "CI deployer; scoped role in OPS-12"
owner = "platform-team"
expires = 2026-06-30
ticket = "https://tracker.example.com/OPS-12"

[[waiver]]
check = "RBAC-*"
namespace = "sandbox-*"
reason = "sandboxes are throw-away"
owner = "dev-experience"
expires = "2026-12-31"
"""


def test_a_good_file_gives_settings_weights_and_waivers() -> None:
    policy = parse_policy(GOOD, Path("/repo/.k8saudit.toml"))
    assert policy.config.backup_max_age_hours == 48.0 and policy.config.calendar_stale_days == 365
    assert policy.config.area_weights["rbac"] == 2.0 and policy.config.area_weights["dns"] == 0.5
    assert policy.config.area_weights["etcd"] == 1.0, "unnamed areas keep their default"
    first, second = policy.waivers
    assert (first.check, first.kind, first.namespace, first.name) == (
        "RBAC-001",
        "ClusterRoleBinding",
        "*",
        "ci-*",
    )
    assert first.expires == date(2026, 6, 30) and first.ticket.endswith("OPS-12")
    assert first.source == "/repo/.k8saudit.toml waiver #1 (line 11)"
    assert second.expires == date(2026, 12, 31) and second.kind == "*" and second.source.endswith("(line 20)")
    assert parse_policy("").config == Config()


def bad(body: str) -> str:
    with pytest.raises(PolicyError) as caught:
        parse_policy(textwrap.dedent(body), Path("p.toml"))
    message = caught.value.message
    assert "\n" not in message and message.startswith("p.toml: "), message
    return message


WAIVER = 'check = "RBAC-001"\nreason = "r"\nowner = "o"\nexpires = 2026-01-01\n'


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[settings\n", "invalid TOML"),
        ("[setings]\n", "unknown table 'setings' (did you mean 'settings'?)"),
        ("settings = 3\n", "'settings' must be a table"),
        (
            "[settings]\nbackup_max_age_hour = 1\n",
            "[settings] unknown setting 'backup_max_age_hour' (did you mean",
        ),
        (
            "[settings]\nbackup_max_age_hours = 'a day'\n",
            "[settings] backup_max_age_hours: expected a number, got str",
        ),
        ("[settings]\nbackup_max_age_hours = true\n", "expected a number, got bool"),
        ("[settings]\ncalendar_stale_days = 1.5\n", "calendar_stale_days: expected a whole number"),
        ("[settings]\nbackup_max_age_hours = -4\n", "backup_max_age_hours: must be positive"),
        ("[settings]\nbackup_max_age_hours = nan\n", "must be positive"),
        ("[settings]\narea_weights = 1\n", "unknown setting 'area_weights'"),
        (
            "[settings]\ncoredns_fail_age_days = 100\n",
            "[settings] coredns_warn_age_days (365) must be below coredns_fail_age_days (100)",
        ),
        ("[weights]\nrabc = 1\n", "[weights] rabc: unknown area (did you mean 'rbac'?)"),
        ("[weights]\nrbac = -1\n", "[weights] rbac: weights cannot be negative"),
        ("[weights]\nrbac = '2'\n", "[weights] rbac: expected a number"),
        ("[weights]\n" + "".join(f"{a} = 0\n" for a in AREAS), "every area weight is 0"),
        ("waiver = 3\n", "'waiver' must be an array of tables"),
        ("[waiver]\n" + WAIVER, "'waiver' must be an array of tables"),
        ("[[waiver]]\n" + WAIVER.replace('owner = "o"\n', ""), "waiver #1 (line 1): missing field 'owner'"),
        (
            "[[waiver]]\n" + WAIVER + 'reasn = "x"\n',
            "waiver #1 (line 1): unknown field 'reasn' (did you mean 'reason'?)",
        ),
        (
            "[[waiver]]\n" + WAIVER.replace("2026-01-01", '"next week"'),
            "field 'expires': expected a date like 2026-06-30",
        ),
        ("[[waiver]]\n" + WAIVER.replace("2026-01-01", "2026-01-01T10:00:00"), "not a date and time"),
        ("[[waiver]]\n" + WAIVER.replace('"RBAC-001"', '"rbac-001"'), "field 'check': expected a check id"),
        ("[[waiver]]\n" + WAIVER.replace('"RBAC-001"', "1"), "field 'check': expected a string, got int"),
        ("[[waiver]]\n" + WAIVER.replace('reason = "r"', 'reason = "  "'), "field 'reason' is empty"),
        (
            "[[waiver]]\n" + WAIVER + 'kind = "Deploymnet"\n',
            "field 'kind': unknown kind 'Deploymnet' (did you mean 'Deployment'?)",
        ),
        (
            "[[waiver]]\n" + WAIVER + "\n[[waiver]]\n" + WAIVER + "name = 3\n",
            "waiver #2 (line 7): field 'name'",
        ),
    ],
)
def test_every_mistake_is_one_line_naming_file_entry_and_field(body: str, expected: str) -> None:
    assert expected in bad(body)


def test_discovery_order(tmp_path: Path) -> None:
    cwd, xdg = tmp_path / "repo", tmp_path / "xdg"
    cwd.mkdir()
    env = {"XDG_CONFIG_HOME": str(xdg), "HOME": str(tmp_path / "home")}
    assert find_policy_file(None, cwd, env) is None
    assert load_policy(None, cwd, env).path is None
    assert writable_policy_path(None, cwd, env) == cwd / PROJECT_FILE, "a new waiver goes to the project file"

    user = xdg / "k8saudit" / "waivers.toml"
    user.parent.mkdir(parents=True)
    user.write_text("[settings]\ncalendar_stale_days = 10\n")
    assert find_policy_file(None, cwd, env) == user
    assert writable_policy_path(None, cwd, env) == user
    assert find_policy_file(None, cwd, {"HOME": str(xdg.parent / "nohome")}) is None
    home_default = tmp_path / "home" / ".config" / "k8saudit" / "waivers.toml"
    home_default.parent.mkdir(parents=True)
    home_default.write_text("")
    assert find_policy_file(None, cwd, {"HOME": str(tmp_path / "home")}) == home_default

    project = cwd / PROJECT_FILE
    project.write_text("[settings]\ncalendar_stale_days = 20\n")
    assert find_policy_file(None, cwd, env) == project
    assert load_policy(None, cwd, env).config.calendar_stale_days == 20

    explicit = tmp_path / "team.toml"
    explicit.write_text("[settings]\ncalendar_stale_days = 30\n")
    assert load_policy(str(explicit), cwd, env).config.calendar_stale_days == 30, "--waivers wins"
    with pytest.raises(PolicyError, match="does not exist"):
        find_policy_file(tmp_path / "missing.toml", cwd, env)


def test_append_keeps_comments_order_and_other_entries(tmp_path: Path) -> None:
    path = tmp_path / PROJECT_FILE
    path.write_text(GOOD)
    path.chmod(0o640)
    new = Waiver(
        "RBAC-002",
        "on-call break-glass, reviewed quarterly",
        "sre",
        date(2026, 9, 30),
        kind="ClusterRoleBinding",
        namespace="",
        name="oncall-[*]",
    )
    added = append_waiver(path, new)

    text = path.read_text()
    assert text.startswith(GOOD), "everything that was there stays byte for byte"
    assert "# nightly backups plus a day of slack" in text and "# Accepted risks, reviewed monthly." in text
    policy = read_policy(path)
    assert [w.check for w in policy.waivers] == ["RBAC-001", "RBAC-*", "RBAC-002"]
    assert policy.waivers[-1] == added
    assert (added.namespace, added.name, added.reason) == ("", "oncall-[*]", new.reason)
    assert "ticket" not in text.split("[[waiver]]")[-1], "defaults are left out"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640, "permissions kept"
    assert policy.config.backup_max_age_hours == 48.0


def test_append_creates_a_commented_file(tmp_path: Path) -> None:
    path = tmp_path / "new.toml"
    append_waiver(path, Waiver("VER-003", "r", "o", date(2026, 1, 31), ticket="OPS-9"))
    assert path.read_text().startswith("# k8saudit policy")
    assert [(w.check, w.ticket) for w in read_policy(path).waivers] == [("VER-003", "OPS-9")]


def test_a_waiver_of_a_finding_about_an_api_version_can_be_written_and_read(tmp_path: Path) -> None:
    """VER-010's subjects are group/versions, not objects: the dialog's default waiver (this
    subject only) names the kind APIVersion, and the file must take it back."""
    finding = Finding("VER-010", Status.WARN, Subject("APIVersion", "", "batch/v1beta1"), "removed in 1.25")
    path = tmp_path / "p.toml"
    append_waiver(path, waiver_for_finding(finding, reason="r", owner="o", expires=date(2026, 1, 31)))
    [waiver] = read_policy(path).waivers
    assert (waiver.kind, waiver.name) == ("APIVersion", "batch/v1beta1") and waiver.matches(finding)
    assert (
        parse_policy(GOOD.replace('"clusterrolebinding"', '"apiversion"'), path).waivers[0].kind
        == "APIVersion"
    )


def test_append_to_an_inline_array_of_waivers(tmp_path: Path) -> None:
    path = tmp_path / "inline.toml"
    path.write_text(
        '# inline style\nwaiver = [{check = "RBAC-001", reason = "r", owner = "o", expires = 2026-01-01}]\n'
    )
    append_waiver(path, Waiver("RBAC-002", "r2", "o2", date(2026, 2, 1)))
    assert path.read_text().startswith("# inline style")
    assert [w.check for w in read_policy(path).waivers] == ["RBAC-001", "RBAC-002"]


def test_append_refuses_a_broken_file_or_a_bad_waiver_and_changes_nothing(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[weights]\nrabc = 1\n")
    with pytest.raises(PolicyError, match="unknown area"):
        append_waiver(broken, Waiver("RBAC-001", "r", "o", date(2026, 1, 1)))
    assert broken.read_text() == "[weights]\nrabc = 1\n"

    good = tmp_path / "good.toml"
    good.write_text(GOOD)
    with pytest.raises(PolicyError, match="new waiver: field 'reason' is empty"):
        append_waiver(good, Waiver("RBAC-001", "", "o", date(2026, 1, 1)))
    with pytest.raises(PolicyError, match="field 'check'"):
        append_waiver(good, Waiver("not an id", "r", "o", date(2026, 1, 1)))
    assert good.read_text() == GOOD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.toml", "good.toml"], "no temp files left"


def test_cli_reports_a_bad_policy_file_in_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    from k8saudit.cli import demo_snapshot_path

    monkeypatch.chdir(tmp_path)
    (tmp_path / PROJECT_FILE).write_text("[[waiver]]\ncheck = 'RBAC-001'\n")
    assert main(["report", str(demo_snapshot_path())]) == 1
    err = capsys.readouterr().err
    assert err == f"k8saudit: error: {PROJECT_FILE}: waiver #1 (line 1): missing field 'reason'\n"


def test_append_round_trips_awkward_text(tmp_path: Path) -> None:
    path = tmp_path / PROJECT_FILE
    reason = 'said "temporary"\nin #incident-42 \\ [sic] = ok'
    append_waiver(path, Waiver("RBAC-*", reason, "o'neil", date(2026, 1, 31), namespace="team-[ab]"))
    (waiver,) = read_policy(path).waivers
    assert (waiver.reason, waiver.owner, waiver.namespace) == (reason, "o'neil", "team-[ab]")
