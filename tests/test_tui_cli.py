"""`k8saudit open` / `demo` / no command: the TUI entry points, and their text fallbacks."""

from __future__ import annotations

from pathlib import Path

import pytest

import k8saudit.cli as cli
import screens.app
from k8saudit.cli import demo_snapshot_path, main
from k8saudit.errors import SnapshotError
from k8saudit.snapshot import save
from tests.tui_support import sample_report


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
    assert tui_calls == [{"snapshot": path}]


def test_demo_and_no_command_start_the_tui(tui_calls: list[dict[str, object]]) -> None:
    assert main(["demo"]) == 0
    assert main(["--context", "prod"]) == 0
    assert tui_calls == [
        {"snapshot": demo_snapshot_path(), "demo": True},
        {"kubeconfig": None, "context": "prod"},
    ]


def test_open_without_a_terminal_prints_the_text_report(tmp_path: Path, capsys) -> None:
    path = save(sample_report(), tmp_path / "s.json")
    assert main(["open", str(path)]) == 0  # pytest's stdout is not a terminal
    out = capsys.readouterr().out
    assert out.startswith("k8saudit ") and "Overall:" in out
    assert main(["open", "--text", str(path)]) == 0


def test_open_a_missing_or_corrupt_snapshot_is_one_line(tmp_path: Path, capsys) -> None:
    assert main(["open", str(tmp_path / "missing.json")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such snapshot file" in err
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
