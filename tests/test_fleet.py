"""A fleet: concurrent scans where one broken cluster never stops the others, a directory of
snapshots with its index, the fleet table offline, and exit codes for partial failure."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from k8saudit import snapshot
from k8saudit.cli import main
from k8saudit.errors import (
    EXIT_CLUSTER,
    EXIT_FAIL_ON,
    EXIT_OK,
    EXIT_PARTIAL,
    ConnectionFailure,
    SnapshotError,
)
from k8saudit.fleet import (
    INDEX_FILE,
    FleetEntry,
    fleet_dict,
    fleet_exit_code,
    load_fleet,
    render_fleet_text,
    scan_fleet,
    snapshot_name,
)
from k8saudit.gates import Gates
from k8saudit.model import Severity
from k8saudit.registry import AREAS
from k8saudit.report import CollectionInfo, Report, evaluate
from k8saudit.waivers import Waiver, WaiverPolicy
from tests import factories as f
from tests.check_subset import only_checks
from tests.replay import ReplayServer, closed_port_url

COLLECTED = datetime(2026, 2, 20, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module", autouse=True)
def _core_checks():
    """Exact findings and counts: the trio of checks these tests are written against."""
    with only_checks():
        yield


def cluster_report(context: str, admin_accounts: int = 1) -> Report:
    bindings = [f.default_cluster_admin_binding()]
    bindings += [
        f.clusterrolebinding(f"ci-{i}", "cluster-admin", [f.subject("ServiceAccount", f"ci-{i}", "ci")])
        for i in range(admin_accounts)
    ]
    inventory = f.make_inventory(nodes=[f.node("node-1")], clusterrolebindings=bindings, rolebindings=[])
    inventory.cluster.context = context
    return evaluate(inventory, CollectionInfo(COLLECTED - timedelta(seconds=2), COLLECTED))


def test_one_broken_cluster_never_stops_the_others(tmp_path: Path) -> None:
    running = peak = 0

    async def scan_one(context: str) -> Report:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        if context == "staging":
            raise ConnectionFailure("connection refused by https://staging.example:6443")
        if context == "broken":
            raise RuntimeError("boom")
        return cluster_report(context, admin_accounts=0 if context == "dev" else 2)

    contexts = ["prod", "staging", "broken", "dev", "team/a"]
    finished: list[str] = []
    out = tmp_path / "fleet"
    entries = asyncio.run(
        scan_fleet(contexts, scan_one, out, max_parallel=2, on_done=lambda e: finished.append(e.context))
    )
    assert [e.context for e in entries] == contexts, "rows in the order asked"
    assert sorted(finished) == sorted(contexts)
    assert peak == 2, "bounded, and really concurrent"
    by_name = {e.context: e for e in entries}
    assert by_name["staging"].error == "connection refused by https://staging.example:6443"
    assert by_name["broken"].error == "internal error: RuntimeError: boom"
    assert by_name["prod"].ok and by_name["prod"].problems == {"critical": 2}
    assert by_name["prod"].worst[0].check_id == "RBAC-001" and len(by_name["prod"].worst) == 2
    assert set(by_name["dev"].areas) == set(AREAS) and by_name["dev"].grade == "A"
    assert sorted(p.name for p in out.iterdir()) == [
        "dev.json.gz",
        INDEX_FILE,
        "prod.json.gz",
        "team_a.json.gz",
    ]
    index = json.loads((out / INDEX_FILE).read_text())
    assert index["format"] == "k8saudit.fleet/1"
    assert [(c["context"], c["snapshot"], c["error"]) for c in index["clusters"]][:2] == [
        ("prod", "prod.json.gz", None),
        ("staging", None, "connection refused by https://staging.example:6443"),
    ]
    assert fleet_exit_code(entries, Gates())[0] == EXIT_PARTIAL
    with pytest.raises(SnapshotError, match="already holds a fleet scan"):
        asyncio.run(scan_fleet(["prod"], scan_one, out))


def test_snapshot_names_are_safe_and_unique() -> None:
    taken: set[str] = set()
    assert [snapshot_name(c, taken) for c in ("a/b", "a_b", "../x", "")] == [
        "a_b.json.gz",
        "a_b-2.json.gz",
        "x.json.gz",
        "cluster.json.gz",
    ]


def test_exit_codes() -> None:
    ok = FleetEntry.from_report("prod", cluster_report("prod", 1))
    clean = FleetEntry.from_report("dev", cluster_report("dev", 0))
    down = FleetEntry("down", error="connection refused")
    assert fleet_exit_code([down, FleetEntry("x", error="y")], Gates())[0] == EXIT_CLUSTER
    assert fleet_exit_code([ok, down], Gates())[0] == EXIT_PARTIAL
    assert fleet_exit_code([ok, clean], Gates())[0] == EXIT_OK
    code, messages = fleet_exit_code([ok, clean], Gates(fail_on=Severity.HIGH))
    assert code == EXIT_FAIL_ON and messages == [
        "prod: unwaived findings at or above high: 1 critical (--fail-on)"
    ]
    # A missing cluster decides the code; the scanned ones are still gated, one line each.
    code, messages = fleet_exit_code([ok, down], Gates(fail_on=Severity.HIGH))
    assert code == EXIT_PARTIAL and messages == [
        "down: connection refused",
        "prod: unwaived findings at or above high: 1 critical (--fail-on)",
    ]


def test_a_cluster_that_forbids_every_list_is_not_ok() -> None:
    forbidden = {key: "forbidden" for key in ("nodes", "clusterrolebindings", "rolebindings")}
    inventory = f.make_inventory(coverage=forbidden)
    for key in inventory.coverage:
        inventory.coverage[key].state = "forbidden"
    entry = FleetEntry.from_report("locked", evaluate(inventory, CollectionInfo(COLLECTED, COLLECTED)))
    assert not entry.ok and entry.error.startswith("nothing could be read: ")
    assert "- " in render_fleet_text([entry]).splitlines()[1]


def write_fleet(tmp_path: Path) -> Path:
    out = tmp_path / "fleet"

    async def scan_one(context: str) -> Report:
        if context == "down":
            raise ConnectionFailure("cannot resolve the API server host of https://down.example")
        return cluster_report(context, admin_accounts=1 if context == "prod" else 0)

    asyncio.run(scan_fleet(["prod", "down", "dev"], scan_one, out))
    return out


def test_load_fleet_reevaluates_with_todays_waivers(tmp_path: Path) -> None:
    out = write_fleet(tmp_path)
    entries = load_fleet(out)
    assert [(e.context, e.ok) for e in entries] == [("prod", True), ("down", False), ("dev", True)]
    assert entries[0].snapshot == out / "prod.json.gz" and entries[0].problems == {"critical": 1}
    assert entries[1].error == "cannot resolve the API server host of https://down.example"
    waiver = Waiver("RBAC-001", "known CI account", "platform", datetime(2099, 1, 1).date())
    waived = load_fleet(out, waivers=WaiverPolicy((waiver,)))
    assert waived[0].problems == {} and waived[0].waived == 1 and waived[0].grade == "A"


def test_load_fleet_judges_waiver_expiry_on_the_day_it_is_given(tmp_path: Path) -> None:
    out = write_fleet(tmp_path)
    last_day = datetime(2030, 6, 30).date()
    policy = WaiverPolicy((Waiver("RBAC-001", "known CI account", "platform", last_day),))
    assert load_fleet(out, waivers=policy, today=last_day)[0].waived == 1
    expired = load_fleet(out, waivers=policy, today=last_day + timedelta(days=1))[0]
    assert expired.waived == 0 and expired.problems == {"critical": 1}


def test_load_fleet_without_index_and_with_a_bad_file(tmp_path: Path) -> None:
    snapshot.save(cluster_report("a", 1), tmp_path / "a.json.gz")
    snapshot.save(cluster_report("b", 0), tmp_path / "b.json")
    (tmp_path / "c.json").write_text("{not json")
    (tmp_path / "notes.txt").write_text("ignored")
    entries = load_fleet(tmp_path)
    assert [(e.context, e.ok) for e in entries] == [("a", True), ("b", True), ("c.json", False)]
    assert "not valid JSON" in (entries[2].error or "")
    with pytest.raises(SnapshotError, match="is not a directory"):
        load_fleet(tmp_path / "a.json.gz")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SnapshotError, match="holds no snapshots"):
        load_fleet(empty)


def test_report_dir_prints_the_fleet_table(tmp_path: Path, capsys) -> None:
    out = write_fleet(tmp_path)
    assert main(["report", str(out)]) == EXIT_PARTIAL
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].split() == [
        "CLUSTER",
        "GRADE",
        "SCORE",
        "VER",
        "RBAC",
        "ING",
        "DNS",
        "NODE",
        "ETCD",
        "EXP",
        "RES",
    ]
    assert lines[1].startswith("prod ") and "findings: 1 critical" in captured.out
    assert "CRITICAL RBAC-001  ClusterRoleBinding ci-0" in captured.out
    down = next(line for line in lines if line.startswith("down"))
    assert down.split(None, 3)[1:] == ["-", "-", "cannot resolve the API server host of https://down.example"]
    assert captured.err == "k8saudit: down: cannot resolve the API server host of https://down.example\n"

    assert main(["report", str(out), "--format", "json"]) == EXIT_PARTIAL
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "k8saudit.fleet-report/1" and data["summary"]["failed"] == 1
    assert [c["context"] for c in data["clusters"]] == ["prod", "down", "dev"]
    assert data == json.loads(json.dumps(fleet_dict(load_fleet(out), out)))
    assert main(["report", str(out), "--format", "sarif"]) == 1


def test_fleet_option_conflicts_are_usage_errors(tmp_path: Path, capsys) -> None:
    for argv in (
        ["scan", "--all-contexts", "--contexts", "a"],
        ["scan", "--contexts", "a", "-o", "x.json"],
        ["scan", "--contexts", "a", "--format", "sarif"],
        ["scan", "--output-dir", str(tmp_path)],
        ["--context", "a", "scan", "--contexts", "b"],
        ["scan", "--contexts", " , "],
    ):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert err.startswith("k8saudit: error: scan:") and err.count("\n") == 1, err


# -- end to end through the replay server --------------------------------------------------------


def test_fleet_scan_with_an_unreachable_and_a_forbidden_cluster(
    replay_server: ReplayServer, tmp_path: Path, capsys
) -> None:
    """`prod` works, `locked` may read nothing but discovery, `down` does not answer at all."""
    replay_server.forbid("/api/v1/*", identity="auditor", times=None)
    replay_server.forbid("/apis/*/*/*", identity="auditor", times=None)
    kubeconfig = replay_server.write_kubeconfig(
        tmp_path / "kubeconfig",
        context="prod",
        extra_contexts=[
            {"name": "locked", "token": "auditor-token", "identity": "auditor"},
            {"name": "down", "server": closed_port_url()},
        ],
    )
    out = tmp_path / "fleet"
    argv = [
        "scan",
        "--kubeconfig",
        str(kubeconfig),
        "--all-contexts",
        "--output-dir",
        str(out),
        "--deadline",
        "60",
    ]
    assert main(argv) == EXIT_PARTIAL
    captured = capsys.readouterr()
    table = captured.out.split("\n\n")[0].splitlines()[1:]
    rows = {line.split()[0]: line for line in table if not line.startswith(" ")}
    assert set(rows) == {"down", "locked", "prod"}, captured.out
    assert "refused" in rows["down"] and "nothing could be read: " in rows["locked"]
    assert rows["prod"].split()[1] in "ABCDF"
    assert "FAIL down: " in captured.err and "ok   prod: " in captured.err and "FAIL locked: " in captured.err
    assert sorted(p.name for p in out.iterdir()) == [INDEX_FILE, "locked.json.gz", "prod.json.gz"]
    assert any(r.identity == "auditor" for r in replay_server.requests), "locked used its own identity"

    entries = load_fleet(out)
    assert [(e.context, e.ok) for e in entries] == [("down", False), ("locked", False), ("prod", True)]
    assert entries[1].unreadable, "the forbidden kinds are listed"
    assert main(["report", str(out), "--format", "json"]) == EXIT_PARTIAL
    data = json.loads(capsys.readouterr().out)
    assert [c["context"] for c in data["clusters"]] == ["down", "locked", "prod"]

    assert (
        main(["scan", "--kubeconfig", str(kubeconfig), "--contexts", "prod", "--no-save", "--quiet"])
        == EXIT_OK
    )
    assert main(["scan", "--kubeconfig", str(kubeconfig), "--contexts", "down", "--no-save", "--quiet"]) == (
        EXIT_CLUSTER
    )
    assert main(["scan", "--kubeconfig", str(kubeconfig), "--contexts", "nope", "--no-save"]) == EXIT_CLUSTER
    assert "context 'nope' not found in kubeconfig" in capsys.readouterr().err
