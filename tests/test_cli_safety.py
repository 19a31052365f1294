"""The CLI fed bad input: it never replaces a file it should not, never prunes another cluster's
snapshots, keeps its exit code when the reader leaves, and ends every failure (a full disk, a
Ctrl-C, an unreadable directory) with one line on stderr."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from k8saudit import cli, snapshot
from k8saudit.cli import demo_snapshot_path, main, prune_snapshots
from k8saudit.errors import EXIT_CLUSTER, EXIT_FAIL_ON, EXIT_OK, EXIT_USAGE, SnapshotError
from tests.replay import ReplayServer

REPO = Path(__file__).resolve().parents[1]
DEMO = str(demo_snapshot_path())
# A kubeconfig that names one context and no reachable server: enough to select contexts.
KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: only
clusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: only, context: {cluster: c, user: u}}]
"""


def run_cli(*argv: str, cwd: Path, **options) -> subprocess.CompletedProcess[bytes]:
    """`python -m k8saudit ARGV` in a process of its own (a real stdout, real signals)."""
    options.setdefault("capture_output", "stdout" not in options)
    if "stdout" in options:
        options.setdefault("stderr", subprocess.PIPE)
    return subprocess.run(
        [sys.executable, "-m", "k8saudit", *argv],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=300,
        check=False,
        **options,
    )


def one_error_line(err: str, *words: str) -> None:
    assert err.count("\n") == 1 and err.startswith("k8saudit: error: "), err
    assert "internal error" not in err and "Traceback" not in err
    for word in words:
        assert word in err, err


def at(monkeypatch, moment: datetime) -> None:
    import k8saudit.report

    monkeypatch.setattr(k8saudit.report, "utcnow", lambda: moment)


@pytest.fixture
def kubeconfig(replay_server: ReplayServer, tmp_path: Path) -> Path:
    return replay_server.write_kubeconfig(tmp_path / "kubeconfig", context="shop")


# -- 1. -o never replaces what is not a snapshot -------------------------------------------------


@pytest.mark.parametrize("name", ["kubeconfig", "notes.txt", "s.json.gz.bak", "s.gz"])
def test_scan_output_must_be_named_as_a_snapshot(
    replay_server: ReplayServer, kubeconfig: Path, tmp_path: Path, capsys, name: str
) -> None:
    target = tmp_path / name
    before = target.read_bytes() if target.exists() else None
    code = main(["scan", "--kubeconfig", str(kubeconfig), "--quiet", "-o", str(target)])
    one_error_line(capsys.readouterr().err, "refusing", ".json or .json.gz")
    assert code == EXIT_USAGE
    assert (target.read_bytes() if target.exists() else None) == before
    assert replay_server.requests == [], "refused before the scan: no scan wasted"


def test_scan_output_is_never_an_input_file(
    replay_server: ReplayServer, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "kc.json", context="shop")  # YAML is JSON
    waivers = tmp_path / "waivers.json"
    waivers.write_text("[settings]\n")
    for target, given in (
        (kubeconfig, ["--kubeconfig", str(kubeconfig)]),
        (waivers, ["--waivers", str(waivers)]),
    ):
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig))  # the kubeconfig in use, not given
        before = target.read_bytes()
        assert main(["scan", *given, "--quiet", "-o", target.name]) == EXIT_USAGE
        one_error_line(capsys.readouterr().err, "refusing", "input file")
        assert target.read_bytes() == before
    assert replay_server.requests == []


def test_scan_output_is_never_a_device_fifo_or_directory(
    replay_server: ReplayServer, kubeconfig: Path, tmp_path: Path, capsys
) -> None:
    device = tmp_path / "null.json"
    device.symlink_to(os.devnull)
    fifo = tmp_path / "fifo.json.gz"
    os.mkfifo(fifo)
    directory = tmp_path / "dir.json"
    directory.mkdir()
    for target, kind in ((device, "device"), (fifo, "FIFO"), (directory, "directory")):
        assert main(["scan", "--kubeconfig", str(kubeconfig), "--quiet", "-o", str(target)]) == EXIT_USAGE
        one_error_line(capsys.readouterr().err, "not a regular file", kind)
    assert replay_server.requests == []
    assert Path(os.devnull).is_char_device()


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["-o", ""], "-o/--output"),
        (["--output="], "-o/--output"),
        (["--all-contexts", "--output-dir", ""], "--output-dir"),
        (["--waivers", ""], "--waivers"),
    ],
    ids=["-o", "--output=", "--output-dir", "--waivers"],
)
def test_an_empty_path_is_refused_before_the_scan(
    replay_server: ReplayServer, kubeconfig: Path, tmp_path: Path, capsys, monkeypatch, argv, option
) -> None:
    """`-o "$OUT"` with OUT unset: not a snapshot saved under the default name."""
    monkeypatch.chdir(tmp_path)
    assert main(["scan", "--kubeconfig", str(kubeconfig), "--quiet", *argv]) == EXIT_USAGE
    one_error_line(capsys.readouterr().err, f"argument {option}: an empty path names no file")
    assert replay_server.requests == []
    assert list(tmp_path.iterdir()) == [kubeconfig], "nothing saved"


@pytest.mark.parametrize(
    "argv",
    [["report", ""], ["open", "--text", ""], ["diff", DEMO, ""], ["--kubeconfig", "", "scan"]],
    ids=["report", "open", "diff", "--kubeconfig"],
)
def test_an_empty_input_path_is_not_the_working_directory(
    tmp_path: Path, capsys, monkeypatch, argv: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    snapshot.save(snapshot.load(DEMO).report(), tmp_path / "s.json.gz")  # `report ""` read it as a fleet
    assert main(argv) == EXIT_USAGE
    captured = capsys.readouterr()
    one_error_line(captured.err, "an empty path names no file")
    assert captured.out == ""


@pytest.mark.parametrize(
    "argv", [["-o", "s.json.gz"], ["--all-contexts", "--output-dir", "fleet"]], ids=["-o", "fleet"]
)
def test_an_output_with_no_save_is_refused_not_ignored(
    replay_server: ReplayServer, kubeconfig: Path, tmp_path: Path, capsys, monkeypatch, argv: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["scan", "--kubeconfig", str(kubeconfig), "--quiet", "--no-save", *argv]) == EXIT_USAGE
    one_error_line(capsys.readouterr().err, "--no-save writes no snapshot; -o and --output-dir name where")
    assert replay_server.requests == []


def test_scan_output_replaces_a_snapshot_but_no_other_json(kubeconfig: Path, tmp_path: Path, capsys) -> None:
    foreign = tmp_path / "package.json"
    foreign.write_text('{"name": "web"}\n')
    assert main(["scan", "--kubeconfig", str(kubeconfig), "--quiet", "-o", str(foreign)]) == EXIT_USAGE
    one_error_line(capsys.readouterr().err, "not a k8saudit snapshot")
    assert foreign.read_text() == '{"name": "web"}\n'
    for name in ("s.json", "s.json.gz"):  # a re-scan replaces the previous snapshot
        target = tmp_path / name
        for _ in range(2):
            assert main(["scan", "--kubeconfig", str(kubeconfig), "--quiet", "-o", str(target)]) == EXIT_OK
            assert snapshot.load(target).inventory.cluster.context == "shop"
    capsys.readouterr()


def test_fleet_output_dir_never_replaces_a_foreign_file(
    replay_server: ReplayServer, kubeconfig: Path, tmp_path: Path, capsys
) -> None:
    """The user's file keeps its name and bytes; the scan's snapshot takes another name."""
    output = tmp_path / "fleet"
    output.mkdir()
    (output / "shop.json.gz").write_bytes(b"my notes")
    argv = ["scan", "--kubeconfig", str(kubeconfig), "--contexts", "shop", "--quiet"]
    assert main([*argv, "--output-dir", str(output)]) == EXIT_OK
    assert (output / "shop.json.gz").read_bytes() == b"my notes"
    assert snapshot.load(output / "shop-2.json.gz").report().inventory.cluster.context == "shop"


def test_write_atomically_never_replaces_a_special_file(tmp_path: Path) -> None:
    """The TUI's save and export go through it too."""
    device = tmp_path / "export.json"
    device.symlink_to(os.devnull)
    with pytest.raises(SnapshotError, match="not a regular file"):
        snapshot.write_atomically(device, b"{}")
    assert device.is_symlink() and Path(os.devnull).is_char_device()
    assert [p.name for p in tmp_path.iterdir()] == ["export.json"], "no temp file left"


# -- 2. default names and --keep -----------------------------------------------------------------


def test_keep_never_prunes_a_context_sharing_the_first_60_characters(tmp_path: Path, monkeypatch) -> None:
    prod, staging = "x" * 60 + "-prod", "x" * 60 + "-staging"
    names: dict[str, list[str]] = {prod: [], staging: []}
    for day in (1, 2, 3):
        at(monkeypatch, datetime(2026, 3, day, 8, 0, tzinfo=UTC))
        for context, written in names.items():
            written.append(cli._default_snapshot_name(context))
            (tmp_path / written[-1]).write_bytes(b"x")
    assert [p.name for p in prune_snapshots(tmp_path, prod, 1).removed] == names[prod][:2]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*names[staging], names[prod][2]])
    assert prune_snapshots(tmp_path, staging, 3).removed == []


@pytest.mark.parametrize(
    ("ours", "theirs"), [("prod/eu", "prod_eu"), ("prod/eu", "prod:eu"), ("", "cluster"), (".prod", "prod")]
)
def test_sanitised_context_names_never_share_snapshots(
    tmp_path: Path, monkeypatch, ours: str, theirs: str
) -> None:
    at(monkeypatch, datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
    assert cli._default_snapshot_name(ours) != cli._default_snapshot_name(theirs)
    (tmp_path / cli._default_snapshot_name(theirs)).write_bytes(b"x")
    assert prune_snapshots(tmp_path, ours, 1).removed == prune_snapshots(tmp_path, ours, 1).removed == []
    assert len(list(tmp_path.iterdir())) == 1


def test_two_scans_in_the_same_second_keep_both_snapshots(
    kubeconfig: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    at(monkeypatch, datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
    scan = ["scan", "--kubeconfig", str(kubeconfig), "--quiet", "--format", "json"]
    for _ in range(3):
        assert main(scan) == EXIT_OK
    names = sorted(p.name for p in tmp_path.glob("k8saudit-shop-*"))
    assert names == [
        "k8saudit-shop-20260301-080000-2.json.gz",
        "k8saudit-shop-20260301-080000-3.json.gz",
        "k8saudit-shop-20260301-080000.json.gz",
    ]
    # --keep counts a same-second scan's number as newer: the -3 and the new -4 stay.
    assert main([*scan, "--keep", "2"]) == EXIT_OK
    assert sorted(p.name for p in tmp_path.glob("k8saudit-shop-*")) == [
        "k8saudit-shop-20260301-080000-3.json.gz",
        "k8saudit-shop-20260301-080000-4.json.gz",
    ]
    assert "Removed old snapshot k8saudit-shop-20260301-080000.json.gz" in capsys.readouterr().err


def test_keep_never_removes_the_snapshot_just_saved(
    kubeconfig: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    """A default-named file dated later (a clock that was ahead, a copied file) used to count as
    the newest: `--keep 1` then removed the snapshot the scan had just written."""
    monkeypatch.chdir(tmp_path)
    at(monkeypatch, datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
    ahead = tmp_path / "k8saudit-shop-20990101-000000.json.gz"
    ahead.write_bytes(b"not a snapshot")
    older = tmp_path / "k8saudit-shop-20260201-080000.json.gz"
    older.write_bytes(b"x")
    assert main(["scan", "--kubeconfig", str(kubeconfig), "--quiet", "--keep", "1"]) == EXIT_OK
    assert sorted(p.name for p in tmp_path.glob("k8saudit-shop-*")) == [
        "k8saudit-shop-20260301-080000.json.gz",
        ahead.name,
    ]
    err = capsys.readouterr().err
    assert f"Removed old snapshot {older.name}" in err
    assert f"{ahead.name} is named after the snapshot just saved" in err


# -- 3. standard output --------------------------------------------------------------------------


def closed_pipe() -> int:
    """The write end of a pipe whose reader has already left (`| head -0`)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    return write_end


def test_broken_pipe_keeps_the_gate_exit_code(tmp_path: Path) -> None:
    pipe = closed_pipe()
    try:
        done = run_cli("report", str(demo_snapshot_path()), "--fail-on", "low", cwd=tmp_path, stdout=pipe)
    finally:
        os.close(pipe)
    err = done.stderr.decode()
    assert done.returncode == EXIT_FAIL_ON, err
    assert err.startswith("k8saudit: gate failed: ") and err.count("\n") == 1, err


def test_gate_exit_code_survives_stderr_on_the_same_closed_pipe(tmp_path: Path) -> None:
    """`2>&1 | head`: the gate's own line meets the closed pipe; the code must stay the gate's."""
    pipe = closed_pipe()
    try:
        argv = ("report", str(demo_snapshot_path()), "--fail-on", "low")
        done = run_cli(*argv, cwd=tmp_path, stdout=pipe, stderr=pipe)
    finally:
        os.close(pipe)
    assert done.returncode == EXIT_FAIL_ON


def test_scan_saves_its_snapshot_before_printing(kubeconfig: Path, tmp_path: Path) -> None:
    pipe = closed_pipe()
    target = tmp_path / "s.json.gz"
    try:
        argv = ["scan", "--kubeconfig", str(kubeconfig), "-o", str(target), "--fail-on", "info"]
        done = run_cli(*argv, cwd=tmp_path, stdout=pipe)
    finally:
        os.close(pipe)
    assert done.returncode == EXIT_FAIL_ON, done.stderr.decode()
    assert snapshot.load(target).inventory.cluster.context == "shop"
    assert "Traceback" not in done.stderr.decode() and "Exception ignored" not in done.stderr.decode()


def test_full_or_closed_stdout_is_one_line(tmp_path: Path) -> None:
    with open("/dev/full", "wb") as full:
        done = run_cli("report", str(demo_snapshot_path()), cwd=tmp_path, stdout=full)
    assert done.returncode == EXIT_USAGE
    one_error_line(done.stderr.decode(), "cannot write the report to standard output", "No space left")
    done = run_cli(
        "checks", cwd=tmp_path, stdout=None, stderr=subprocess.PIPE, preexec_fn=lambda: os.close(1)
    )
    assert done.returncode == EXIT_USAGE
    one_error_line(done.stderr.decode(), "cannot write the catalog to standard output", "closed")


@pytest.mark.parametrize(
    ("argv", "what"),
    [
        (["--help"], "the help"),
        (["scan", "--help"], "the help"),
        ([], "the help"),  # no terminal: the help instead of the UI
        (["--version"], "the version"),
        (["diff", DEMO, DEMO], "the comparison"),
        (["diff", DEMO, DEMO, "--format", "json"], "the comparison"),
    ],
    ids=["--help", "scan --help", "no command", "--version", "diff", "diff json"],
)
def test_every_output_to_a_full_disk_is_one_line_and_never_0(
    tmp_path: Path, argv: list[str], what: str
) -> None:
    with open("/dev/full", "wb") as full:
        done = run_cli(*argv, cwd=tmp_path, stdout=full, stdin=subprocess.DEVNULL)
    assert done.returncode == EXIT_USAGE
    one_error_line(done.stderr.decode(), f"cannot write {what} to standard output", "No space left")


# -- 4. numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--deadline", "--timeout", "--probe-timeout"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN"])
def test_seconds_must_be_finite(capsys, option: str, value: str) -> None:
    assert main(["scan", f"{option}={value}", "--probe"]) == EXIT_USAGE
    one_error_line(capsys.readouterr().err, option, "finite")


@pytest.mark.parametrize("size", ["99999999999999999999", "1048577"])
def test_huge_max_snapshot_size_is_refused(capsys, size: str) -> None:
    assert main(["report", str(demo_snapshot_path()), "--max-snapshot-size", size]) == EXIT_USAGE
    one_error_line(capsys.readouterr().err, "--max-snapshot-size", "at most 1048576")


@pytest.mark.parametrize("size", ["5001", "99999999999999999999"])
def test_huge_page_size_is_refused_before_the_scan(
    replay_server: ReplayServer, kubeconfig: Path, capsys, size: str
) -> None:
    """The API server would build the whole page in memory: one huge page is no paging at all."""
    assert main(["scan", "--kubeconfig", str(kubeconfig), "--no-save", "--page-size", size]) == EXIT_USAGE
    one_error_line(capsys.readouterr().err, "--page-size", "at most 5000")
    assert replay_server.requests == []
    assert (
        main(["scan", "--kubeconfig", str(kubeconfig), "--no-save", "-q", "--page-size", "5000"]) == EXIT_OK
    )


def test_a_device_given_as_a_snapshot_is_refused_at_its_first_bytes(capsys) -> None:
    """Read like a pipe, /dev/zero filled memory up to the size limit (2 GiB by default) before
    being called "larger than the limit"; its first bytes already say it is no snapshot."""
    assert main(["report", "/dev/zero", "--max-snapshot-size", "8"]) == EXIT_USAGE
    one_error_line(capsys.readouterr().err, "/dev/zero is not a k8saudit snapshot", "nor gzip")


@pytest.mark.parametrize("refresh", [[], ["--refresh-releases"]])
def test_an_empty_releases_url_is_refused_not_the_public_default(capsys, refresh: list[str]) -> None:
    """`--releases-url "$MIRROR"` with MIRROR unset must not send an air-gapped scan to the internet."""
    argv = [*refresh, "--releases-url", "", "report", str(demo_snapshot_path())]
    assert main(argv) == EXIT_USAGE
    one_error_line(capsys.readouterr().err, "--releases-url", "an empty URL names no mirror")


@pytest.mark.parametrize("count", ["65", "1000000"])
def test_huge_concurrency_is_refused_before_the_scan(
    replay_server: ReplayServer, kubeconfig: Path, capsys, count: str
) -> None:
    """Past a few dozen parallel lists a scan only queues at the API server and crowds its controllers."""
    assert main(["scan", "--kubeconfig", str(kubeconfig), "--no-save", "--concurrency", count]) == EXIT_USAGE
    one_error_line(capsys.readouterr().err, "--concurrency", "at most 64")
    assert replay_server.requests == []


def test_report_from_a_terminal_says_to_pipe_a_snapshot(monkeypatch, capsys) -> None:
    """`report -` typed at a prompt would wait, silently, for a snapshot typed in."""
    monkeypatch.setattr(os, "isatty", lambda fd: fd == 0)
    assert main(["report", "-"]) == EXIT_USAGE
    one_error_line(capsys.readouterr().err, "standard input is a terminal", "pipe one in")


def test_largest_max_snapshot_size_reads_without_reserving_it(capsys) -> None:
    """read(n) allocates n bytes: a limit of 1 TiB must not mean a 1 TiB buffer."""
    assert main(["report", str(demo_snapshot_path()), "--max-snapshot-size", "1048576"]) == EXIT_OK
    assert "Overall" in capsys.readouterr().out


# -- 5. Ctrl-C -----------------------------------------------------------------------------------


def test_ctrl_c_during_a_scan_is_one_line_and_exit_130(
    replay_server: ReplayServer, kubeconfig: Path, tmp_path: Path
) -> None:
    replay_server.slow("pods", 60)  # discovery answers, the pod list hangs
    process = subprocess.Popen(
        [sys.executable, "-m", "k8saudit", "scan", "--kubeconfig", str(kubeconfig), "-o", "s.json.gz"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # A test run in the background has SIGINT ignored; the child must see it as a terminal does.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while not any(r.path.endswith("/pods") for r in replay_server.requests):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    time.sleep(0.3)  # the other lists are under way too
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    # 130, or killed by SIGINT (which a shell also shows as 130): CPython exits that way when
    # a Ctrl-C interrupted an exec() of a string (dataclasses), even once caught.
    assert process.returncode in (130, -signal.SIGINT), err.decode()
    assert err.decode() == "k8saudit: interrupted\n" and out == b""
    assert [p.name for p in tmp_path.iterdir()] == ["kubeconfig"], "no snapshot, no temp file"


# Runs k8saudit as `python -m k8saudit` does, with a Ctrl-C arriving while cli.py loads orjson.
_INTERRUPTED_IMPORT = """
import runpy, sys

class CtrlC:
    def find_spec(self, name, path=None, target=None):
        if name == "orjson":
            raise KeyboardInterrupt

sys.meta_path.insert(0, CtrlC())
runpy.run_module("k8saudit", run_name="__main__", alter_sys=True)
"""


def test_ctrl_c_cancels_every_task_not_only_the_main_one() -> None:
    """A list still running after the scan's HTTP client closed fails, and asyncio prints "Task
    exception was never retrieved": Ctrl-C must cancel it with the rest."""
    lists: list[asyncio.Task[None]] = []
    client_closed = False

    async def one_list() -> None:
        while True:
            await asyncio.sleep(0.01)
            if client_closed:
                raise RuntimeError("Cannot send a request, as the client has been closed.")

    async def scan() -> None:
        nonlocal client_closed
        lists.append(asyncio.create_task(one_list()))
        await asyncio.sleep(0.05)
        signal.raise_signal(signal.SIGINT)
        try:
            await asyncio.wait(lists)
        finally:
            client_closed = True
            await asyncio.sleep(0.1)  # closing the client takes a moment

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # ignored in a background run
    try:
        with pytest.raises(KeyboardInterrupt):
            cli._run_async(scan())
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, "restored"
    finally:
        signal.signal(signal.SIGINT, previous)
    assert lists[0].cancelled()


# -- 6. directories that cannot be read or listed ------------------------------------------------


def test_keep_in_a_directory_that_cannot_be_listed(
    replay_server: ReplayServer, kubeconfig: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)

    real_listdir = os.listdir

    def listdir(path: str = ".") -> list[str]:  # the working directory is chmod 300: root lists it anyway
        if Path(path).resolve() == tmp_path.resolve():
            raise PermissionError(13, "Permission denied")
        return real_listdir(path)

    monkeypatch.setattr(os, "listdir", listdir)
    assert main(["scan", "--kubeconfig", str(kubeconfig), "--quiet", "--keep", "2"]) == EXIT_USAGE
    one_error_line(capsys.readouterr().err, "cannot list", "--keep", "Permission denied")
    assert replay_server.requests == [], "checked before the scan"


def test_a_snapshot_keep_cannot_remove_is_a_warning_after_the_report(
    kubeconfig: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "k8saudit-shop-20000101-000000.json.gz").mkdir()  # named as ours, not removable
    assert main(["scan", "--kubeconfig", str(kubeconfig), "--quiet", "--keep", "1", "--fail-on", "info"]) == (
        EXIT_FAIL_ON
    )
    out, err = capsys.readouterr()
    assert "Overall" in out, "the report is printed"
    assert "k8saudit: warning: cannot remove old snapshot" in err and "gate failed" in err


def _legacy_snapshot(path: Path, context: str) -> Path:
    """A snapshot's first bytes as an earlier k8saudit wrote them, under its default name."""
    head = {"format": "k8saudit.snapshot/3", "tool": {"name": "k8saudit"}, "cluster": {"context": context}}
    path.write_bytes(gzip.compress(json.dumps(head, separators=(",", ":")).encode()))
    return path


def test_keep_prunes_the_names_earlier_versions_gave_only_for_this_context(tmp_path: Path) -> None:
    arn, twin = "arn:aws:eks:eu-west-1:1:cluster/prod", "arn_aws_eks_eu-west-1_1_cluster/prod"
    ours = [
        _legacy_snapshot(
            tmp_path / f"k8saudit-arn_aws_eks_eu-west-1_1_cluster_prod-2026010{day}-080000.json.gz", arn
        )
        for day in (1, 2)
    ]
    theirs = _legacy_snapshot(
        tmp_path / "k8saudit-arn_aws_eks_eu-west-1_1_cluster_prod-20260103-080000.json.gz", twin
    )
    newest = tmp_path / cli._default_snapshot_name(arn)
    newest.write_bytes(b"")
    assert prune_snapshots(tmp_path, arn, 2).removed == [ours[0]]
    assert sorted(tmp_path.iterdir()) == sorted([ours[1], theirs, newest])


# Every option that reads a file, with the path it reads put last: (argv, exit code, what it expects)
INPUT_FILES = [
    (["report", DEMO, "--waivers"], EXIT_USAGE, "a waivers TOML file"),
    (["demo", "--text", "--waivers"], EXIT_USAGE, "a waivers TOML file"),
    (["diff", DEMO, DEMO, "--waivers"], EXIT_USAGE, "a waivers TOML file"),
    (["scan", "--no-save", "--kubeconfig"], EXIT_CLUSTER, "a kubeconfig file"),
    (["diff", DEMO], EXIT_USAGE, "a snapshot file (.json or .json.gz)"),
]
INPUT_IDS = [" ".join(word for word in argv if word != DEMO) for argv, _, _ in INPUT_FILES]


@pytest.mark.parametrize(("argv", "code", "expected"), INPUT_FILES, ids=INPUT_IDS)
def test_a_directory_given_for_an_input_file_says_so(
    tmp_path: Path, capsys, argv: list[str], code: int, expected: str
) -> None:
    """Not "does not exist" nor "Is a directory": what the path is, and what the option wants."""
    assert main([*argv, str(tmp_path)]) == code
    one_error_line(capsys.readouterr().err, f"{tmp_path} is a directory; expected {expected}")


def test_a_device_given_as_waivers_file_is_not_called_missing(capsys) -> None:
    assert main(["report", DEMO, "--waivers", os.devnull]) == EXIT_USAGE
    one_error_line(capsys.readouterr().err, "is not a regular file; expected a waivers TOML file")


@pytest.mark.parametrize(
    ("name", "said"),
    [("d" * 300 + "/config", "File name too long"), (".", "is a directory; expected a kubeconfig file")],
    ids=["name too long", "directory"],
)
def test_a_kubeconfig_variable_naming_no_file_is_one_line(
    tmp_path: Path, capsys, monkeypatch, name: str, said: str
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / name))
    assert main(["scan", "--no-save", "--quiet"]) == EXIT_CLUSTER
    one_error_line(capsys.readouterr().err, said)


@pytest.mark.parametrize(
    ("argv", "code"),
    [(["report"], EXIT_USAGE), (["open", "--text"], EXIT_USAGE)]
    + [(argv, code) for argv, code, _ in INPUT_FILES],
    ids=["report", "open --text", *INPUT_IDS],
)
def test_a_path_that_cannot_be_looked_at(tmp_path: Path, capsys, argv: list[str], code: int) -> None:
    assert main([*argv, str(tmp_path / ("d" * 300) / "s.json")]) == code
    one_error_line(capsys.readouterr().err, "cannot read", "File name too long")


# -- 7. rbac -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--namespace", "Prod"),
        ("--namespace", "a.b"),
        ("--namespace", "x" * 64),
        ("--service-account", "ci:bot"),
    ],
)
def test_rbac_names_are_kubernetes_names(capsys, option: str, value: str) -> None:
    assert main(["rbac", option, value]) == EXIT_USAGE
    captured = capsys.readouterr()
    one_error_line(captured.err, option, "not a valid")
    assert captured.out == ""


# -- 8. exit codes -------------------------------------------------------------------------------


def test_unknown_context_exits_2_for_one_cluster_and_for_a_fleet(tmp_path: Path, capsys) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    for option in ("--context", "--contexts"):
        assert main(["scan", "--kubeconfig", str(kubeconfig), option, "nope", "--no-save"]) == EXIT_CLUSTER
        one_error_line(capsys.readouterr().err, "'nope' not found in kubeconfig")


def wrong_snapshot(tmp_path: Path, kind: str) -> Path:
    demo = Path(DEMO).read_bytes()
    text = gzip.decompress(demo)
    content = {
        "binary": bytes(range(256)) * 8,  # an image, a tarball
        "text": b"hello\n",
        "not UTF-8": text[:5000] + b"\xff\xfe" + text[5002:],
        "truncated": demo[: len(demo) // 3],
        "empty": b"",
    }[kind]
    path = tmp_path / f"{kind.replace(' ', '-')}.json.gz"
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    "command", [["report"], ["open", "--text"], ["diff", DEMO]], ids=["report", "open", "diff"]
)
@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("binary", "is not a k8saudit snapshot: not valid JSON, nor gzip"),
        ("text", "is not a k8saudit snapshot: not valid JSON, nor gzip"),
        ("not UTF-8", "is corrupt: not valid JSON (not UTF-8 text)"),
        ("truncated", "is truncated: the gzip stream ends early"),
        ("empty", "is empty"),
    ],
)
def test_a_file_that_is_no_snapshot_says_what_it_is(
    tmp_path: Path, capsys, command: list[str], kind: str, said: str
) -> None:
    path = wrong_snapshot(tmp_path, kind)
    assert main([*command, str(path)]) == EXIT_USAGE
    one_error_line(capsys.readouterr().err, f"{path} {said}")


# -- 9. a snapshot through a pipe ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["-", "/dev/stdin"])
def test_report_reads_a_snapshot_from_a_pipe(tmp_path: Path, path: str) -> None:
    packed = demo_snapshot_path().read_bytes()
    done = run_cli("report", path, "--format", "json", cwd=tmp_path, input=packed)
    assert done.returncode == EXIT_OK, done.stderr.decode()
    assert b'"shop-prod"' in done.stdout
    done = run_cli("report", path, cwd=tmp_path, input=gzip.decompress(packed))
    assert done.returncode == EXIT_OK and b"Overall" in done.stdout


@pytest.mark.parametrize("new", ["-", "/dev/stdin"])
def test_diff_reads_only_one_side_from_standard_input(tmp_path: Path, new: str) -> None:
    with open(DEMO, "rb") as stdin:  # a file: its offset, shared with the process, tells what it read
        done = run_cli("diff", "-", new, cwd=tmp_path, stdin=stdin)
        assert os.lseek(stdin.fileno(), 0, os.SEEK_CUR) == 0, "refused before reading anything"
    assert done.returncode == EXIT_USAGE
    one_error_line(done.stderr.decode(), "only one of the two snapshots can be read from standard input")
    with open(DEMO, "rb") as stdin:
        done = run_cli("diff", "-", DEMO, cwd=tmp_path, stdin=stdin)
    assert done.returncode == EXIT_OK and b"Overall: F -> F" in done.stdout, done.stderr.decode()


@pytest.mark.parametrize("text", [[], ["--text"]], ids=["ui", "text"])
def test_open_points_a_snapshot_in_a_pipe_to_report(tmp_path: Path, capsys, text: list[str]) -> None:
    """Not "no such snapshot file or directory: -": what open wants, and the command that reads a pipe."""
    fifo = tmp_path / "s.json.gz"
    os.mkfifo(fifo)
    for target, said in (("-", "not standard input"), (str(fifo), f"{fifo} is not a regular file")):
        assert main(["open", *text, target]) == EXIT_USAGE
        one_error_line(capsys.readouterr().err, "open reads a snapshot file", said, "k8saudit report")


def test_a_pipe_is_held_to_the_size_limit(tmp_path: Path) -> None:
    done = run_cli("report", "-", "--max-snapshot-size", "1", cwd=tmp_path, input=b" " * (2 * 1024**2))
    assert done.returncode == EXIT_USAGE
    one_error_line(done.stderr.decode(), "standard input is larger than 1 MiB")


def test_load_reads_a_pipe_without_seeking(tmp_path: Path) -> None:
    fifo = tmp_path / "s.json.gz"
    os.mkfifo(fifo)
    packed = demo_snapshot_path().read_bytes()

    def feed() -> None:
        with fifo.open("wb") as handle:
            handle.write(packed)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        assert snapshot.load(fifo).inventory.cluster.context == "shop-prod"
    finally:
        writer.join()


def test_the_tuis_save_and_export_never_replace_a_foreign_file(tmp_path: Path) -> None:
    """The TUI's `s` and `e` write through screens.jobs: the same guard as `scan -o`."""
    from screens.jobs import export_report, save_snapshot
    from screens.messages import FileWritten, WriteFailed

    report = snapshot.load(demo_snapshot_path()).report()
    posted: list[object] = []
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("apiVersion: v1\n")
    notes = tmp_path / "notes.json"
    notes.write_text('{"todo": []}\n')
    for write, path in ((save_snapshot, kubeconfig), (save_snapshot, notes), (export_report, notes)):
        write(report, path, posted.append)
        assert isinstance(posted[-1], WriteFailed) and "refusing" in posted[-1].reason
    assert kubeconfig.read_text() == "apiVersion: v1\n" and notes.read_text() == '{"todo": []}\n'
    for write, name in ((save_snapshot, "s.json.gz"), (export_report, "r.json")):
        for _ in range(2):  # written, then replaced: a file k8saudit wrote
            write(report, tmp_path / name, posted.append)
            assert isinstance(posted[-1], FileWritten), getattr(posted[-1], "reason", "")
    assert b'"schema": "k8saudit.report/' in (tmp_path / "r.json").read_bytes()[:40]


# A Ctrl-C that lands just as main() returns (after its own handler).
_INTERRUPTED_RETURN = """
import runpy, sys
import k8saudit.cli as cli

real_main = cli.main
def main(*args):
    real_main(*args)
    raise KeyboardInterrupt

cli.main = main
runpy.run_module("k8saudit", run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize(
    ("script", "command"),
    [(_INTERRUPTED_IMPORT, "checks"), (_INTERRUPTED_RETURN, "rbac")],
    ids=["loading", "returning"],
)
def test_ctrl_c_while_the_cli_loads_or_returns_is_one_line_and_exit_130(
    tmp_path: Path, script: str, command: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", script, command],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 130, done.stderr.decode()
    assert done.stderr.decode() == "k8saudit: interrupted\n", "no traceback"


# -- 10. the scan's progress on standard error ---------------------------------------------------


class Terminal(io.StringIO):
    """Standard error as a terminal: what was written to it, exactly."""

    def isatty(self) -> bool:
        return True


def progress_shown(monkeypatch, kubeconfig: Path, term: str | None, stderr: io.StringIO) -> str:
    if term is None:
        monkeypatch.delenv("TERM", raising=False)
    else:
        monkeypatch.setenv("TERM", term)
    monkeypatch.setattr(sys, "stderr", stderr)
    assert main(["scan", "--kubeconfig", str(kubeconfig), "--no-save"]) == EXIT_OK
    return stderr.getvalue()


@pytest.mark.parametrize("term", ["dumb", None])
def test_a_dumb_terminal_gets_plain_progress_lines(monkeypatch, kubeconfig: Path, term: str | None) -> None:
    shown = progress_shown(monkeypatch, kubeconfig, term, Terminal())
    assert "\x1b" not in shown and "\r" not in shown, repr(shown)
    lines = shown.splitlines()
    assert lines[0].startswith("Scanning: 0/"), lines
    assert re.fullmatch(r"Scanning: (\d+)/\1 kinds, [\d,]+ objects", lines[-1]), "ends on the last count"


def test_a_capable_terminal_gets_one_line_rewritten_then_erased(monkeypatch, kubeconfig: Path) -> None:
    shown = progress_shown(monkeypatch, kubeconfig, "xterm-256color", Terminal())
    assert shown.startswith("\rScanning: ") and shown.endswith("\r\x1b[K"), repr(shown[-80:])
    assert "\n" not in shown


def test_no_progress_when_stderr_is_not_a_terminal(monkeypatch, kubeconfig: Path) -> None:
    assert progress_shown(monkeypatch, kubeconfig, "xterm-256color", io.StringIO()) == ""


def test_plain_progress_is_a_line_every_few_seconds_not_one_per_event(monkeypatch) -> None:
    from k8saudit.collector import KindFinished, ScanStarted

    now = [0.0]
    stderr = Terminal()
    monkeypatch.setattr(sys, "stderr", stderr)
    progress = cli._ProgressLine(rewrite=False, clock=lambda: now[0])
    progress(ScanStarted(("pods", "nodes", "services")))
    every = cli.PLAIN_PROGRESS_EVERY_S
    for moment in (1.0, every + 0.5, every + 1.0):
        now[0] = moment
        progress(KindFinished("pods", None))  # type: ignore[arg-type]
    progress.clear()
    assert stderr.getvalue().splitlines() == [
        "Scanning: 0/3 kinds, 0 objects",
        "Scanning: 2/3 kinds, 0 objects",
        "Scanning: 3/3 kinds, 0 objects",  # the end, however soon after the last line
    ]
