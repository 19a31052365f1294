"""`k8saudit open` / `demo` / no command: the TUI entry points, and their text fallbacks."""

from __future__ import annotations

from pathlib import Path

import pytest

import k8saudit.cli as cli
import screens.app
from k8saudit.cli import demo_snapshot_path, main
from k8saudit.errors import SnapshotError
from k8saudit.snapshot import save
from screens.jobs import WaiverOptions
from tests.tui_support import sample_report

DEFAULT_WAIVERS = WaiverOptions()


@pytest.fixture
def tui_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    """Pretend a terminal is attached and record how the TUI would be started."""
    calls: list[dict[str, object]] = []

    def fake_run_app(**kwargs: object) -> int:
        calls.append(kwargs)
        return 0

    monkeypatch.setattr(cli, "_tui_available", lambda: True)
    monkeypatch.setattr(screens.app, "run_app", fake_run_app)
    return calls


def test_open_starts_the_tui_on_the_snapshot(tmp_path: Path, tui_calls: list[dict[str, object]]) -> None:
    path = save(sample_report(), tmp_path / "s.json.gz")
    assert main(["open", str(path)]) == 0
    assert tui_calls == [{"snapshot": path, "demo": False, "waivers": DEFAULT_WAIVERS, "kubeconfig": None}]


def test_demo_and_no_command_start_the_tui(tui_calls: list[dict[str, object]]) -> None:
    assert main(["demo"]) == 0
    assert main(["--context", "prod"]) == 0
    assert tui_calls == [
        {"snapshot": demo_snapshot_path(), "demo": True, "waivers": DEFAULT_WAIVERS, "kubeconfig": None},
        {"kubeconfig": None, "context": "prod", "waivers": DEFAULT_WAIVERS, "calendar": None, "notes": []},
    ]


def test_waiver_flags_reach_the_tui_before_or_after_the_command(
    tmp_path: Path, tui_calls: list[dict[str, object]]
) -> None:
    policy = tmp_path / "waivers.toml"
    policy.write_text("# no waiver yet\n")
    path = save(sample_report(), tmp_path / "s.json.gz")
    assert main(["open", str(path), "--waivers", str(policy), "--no-annotation-waivers"]) == 0
    assert main(["--waivers", str(policy), "demo", "--no-waivers"]) == 0
    assert main(["--no-waivers", "--context", "prod"]) == 0
    assert [call["waivers"] for call in tui_calls] == [
        WaiverOptions(str(policy), waivers=True, annotations=False),
        WaiverOptions(str(policy), waivers=False, annotations=True),
        WaiverOptions(None, waivers=False, annotations=True),
    ]


def test_a_bad_waivers_file_stops_the_tui_with_one_line(
    tmp_path: Path, tui_calls: list[dict[str, object]], capsys
) -> None:
    policy = tmp_path / "waivers.toml"
    policy.write_text("[[waiver]]\ncheck = 'RBAC-001'\n")
    assert main(["demo", "--waivers", str(policy)]) == 1
    assert main(["demo", "--waivers", str(tmp_path / "missing.toml")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "missing field 'reason'" in err[0] and "does not exist" in err[1]
    assert tui_calls == []


def test_open_a_directory_starts_the_fleet_view(tmp_path: Path, tui_calls: list[dict[str, object]]) -> None:
    save(sample_report(), tmp_path / "prod.json.gz")
    assert main(["open", str(tmp_path)]) == 0
    assert tui_calls == [
        {"fleet": tmp_path, "calendar": None, "waivers": DEFAULT_WAIVERS, "kubeconfig": None}
    ]


def test_the_kubeconfig_given_reaches_the_tui_opened_on_a_snapshot_or_a_fleet(
    tmp_path: Path, tui_calls: list[dict[str, object]]
) -> None:
    """`c` in the TUI lists its contexts, and picking one scans with it: a snapshot or fleet
    opened with --kubeconfig used to list ~/.kube/config instead."""
    kubeconfig = str(tmp_path / "other-kubeconfig")
    save(sample_report(), tmp_path / "prod.json.gz")
    assert main(["--kubeconfig", kubeconfig, "demo"]) == 0
    assert main(["--kubeconfig", kubeconfig, "open", str(tmp_path / "prod.json.gz")]) == 0
    assert main(["--kubeconfig", kubeconfig, "open", str(tmp_path)]) == 0
    assert [call["kubeconfig"] for call in tui_calls] == [kubeconfig] * 3


def test_open_a_directory_without_a_terminal_prints_the_fleet_table(tmp_path: Path, capsys) -> None:
    save(sample_report(), tmp_path / "prod.json.gz")
    (tmp_path / "broken.json").write_text("{not json")
    assert main(["open", str(tmp_path)]) == 5, "one snapshot could not be read: a partial fleet"
    out = capsys.readouterr().out
    assert (
        out.startswith("CLUSTER") and "broken.json" in out and "2 cluster(s), 1 without a usable scan" in out
    )


def test_open_without_a_terminal_prints_the_text_report(tmp_path: Path, capsys) -> None:
    path = save(sample_report(), tmp_path / "s.json")
    assert main(["open", str(path)]) == 0  # pytest's stdout is not a terminal
    out = capsys.readouterr().out
    assert out.startswith("k8saudit ") and "Overall:" in out
    assert main(["open", "--text", str(path)]) == 0


def test_open_a_missing_or_corrupt_snapshot_is_one_line(tmp_path: Path, capsys) -> None:
    assert main(["open", str(tmp_path / "missing.json")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such snapshot file or directory" in err
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text("{not json")
    assert main(["open", "--text", str(corrupt)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "corrupt" in err


def test_run_app_turns_a_bad_startup_snapshot_into_a_snapshot_error(monkeypatch, tmp_path: Path) -> None:
    """What `k8saudit open bad.json` does in a terminal: the app exits, the CLI prints one line."""

    def fake_run(self: screens.app.K8sAuditApp) -> int:
        self.startup_error = "bad.json is truncated: not valid JSON"
        return 1

    monkeypatch.setattr(screens.app.K8sAuditApp, "run", fake_run)
    with pytest.raises(SnapshotError, match="truncated"):
        screens.app.run_app(snapshot=tmp_path / "bad.json")
