"""A fleet directory fed bad input: a scan never replaces a file it did not write, and a malformed
index, an odd file name or an unreadable directory or snapshot is one line naming the file, with
the other clusters still reported."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import orjson
import pytest

from k8saudit import snapshot
from k8saudit.cli import main
from k8saudit.errors import EXIT_PARTIAL, SnapshotError
from k8saudit.fleet import (
    INDEX_FILE,
    INDEX_FORMAT,
    fleet_dict,
    load_fleet,
    render_fleet_text,
    scan_fleet,
    snapshot_name,
)
from k8saudit.report import Report
from tests.check_subset import only_checks
from tests.test_fleet import cluster_report


@pytest.fixture(scope="module", autouse=True)
def _core_checks():
    with only_checks():
        yield


async def _scan(context: str) -> Report:
    return cluster_report(context)


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("k8saudit: error:") and err.count("\n") == 1, err
    assert "internal error" not in err
    return err


# -- a fleet scan writes only its own files -------------------------------------------------------


def test_a_scan_never_replaces_a_file_already_in_the_output_dir(tmp_path: Path) -> None:
    (tmp_path / "prod.json.gz").write_text("the user's own file")
    (tmp_path / "Dev.JSON.GZ").write_text("another, differing only in case")
    entries = asyncio.run(scan_fleet(["prod", "dev"], _scan, tmp_path))
    assert (tmp_path / "prod.json.gz").read_text() == "the user's own file"
    assert (tmp_path / "Dev.JSON.GZ").read_text() == "another, differing only in case"
    assert [e.snapshot.name for e in entries if e.snapshot] == ["prod-2.json.gz", "dev-2.json.gz"]
    index = json.loads((tmp_path / INDEX_FILE).read_text())
    assert [c["snapshot"] for c in index["clusters"]] == ["prod-2.json.gz", "dev-2.json.gz"]
    assert [(e.context, e.ok) for e in load_fleet(tmp_path)] == [("prod", True), ("dev", True)]


def test_snapshot_names_are_unique_whatever_the_case() -> None:
    assert snapshot_name("Prod", {"prod.json.gz"}) == "Prod-2.json.gz"


def test_a_scan_refuses_a_directory_with_a_foreign_fleet_json(tmp_path: Path) -> None:
    (tmp_path / INDEX_FILE).write_text('{"mine": true}')
    with pytest.raises(SnapshotError, match=f"already holds a fleet scan or another {INDEX_FILE}"):
        asyncio.run(scan_fleet(["prod"], _scan, tmp_path))
    assert (tmp_path / INDEX_FILE).read_text() == '{"mine": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == [INDEX_FILE]


def test_a_scan_refuses_an_output_dir_it_cannot_list(tmp_path: Path, monkeypatch) -> None:
    _unlistable(monkeypatch, tmp_path)
    with pytest.raises(
        SnapshotError, match=f"cannot use {tmp_path} as the output directory: Permission denied"
    ):
        asyncio.run(scan_fleet(["prod"], _scan, tmp_path))


# -- a malformed fleet.json -----------------------------------------------------------------------


def _index(directory: Path, clusters: object) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / INDEX_FILE).write_text(json.dumps({"format": INDEX_FORMAT, "clusters": clusters}))
    return directory


@pytest.mark.parametrize(
    ("clusters", "message"),
    [
        (5, '"clusters" must be a list, got int'),
        ("abc", '"clusters" must be a list, got str'),
        ({"a": 1}, '"clusters" must be a list, got dict'),
        (None, '"clusters" must be a list, got null'),
        ([], "lists no clusters"),
    ],
)
def test_an_index_without_a_list_of_clusters_is_one_line(tmp_path: Path, capsys, clusters, message) -> None:
    fleet = _index(tmp_path / "fleet", clusters)
    with pytest.raises(SnapshotError, match=message):
        load_fleet(fleet)
    assert main(["report", str(fleet)]) == 1
    err = _one_line_error(capsys)
    assert f"{fleet / INDEX_FILE}" in err and message in err


def test_bad_entries_are_listed_with_the_reason_and_the_others_still_reported(tmp_path: Path, capsys) -> None:
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    snapshot.save(cluster_report("prod"), fleet / "prod.json.gz")
    (fleet / "sub.json").mkdir()  # a snapshot that cannot be read
    _index(
        fleet,
        [
            {"context": "prod", "snapshot": "prod.json.gz"},
            {"context": "nul", "snapshot": "prod\u0000.json.gz"},
            5,
            {"context": 3, "snapshot": "prod.json.gz"},
            {"context": "up", "snapshot": ".."},
            {"context": "empty", "snapshot": ""},
            {"context": "typed", "snapshot": 7},
            {"context": "odd-error", "error": {"deep": [1]}},
            {"context": "dir", "snapshot": "sub.json"},
        ],
    )
    entries = load_fleet(fleet)
    assert [e.context for e in entries] == [
        "prod",
        "nul",
        "#3",
        "#4",
        "up",
        "empty",
        "typed",
        "odd-error",
        "dir",
    ]
    assert entries[0].ok and entries[0].problems == {"critical": 1}
    reasons = {e.context: e.error or "" for e in entries[1:]}
    assert "cluster #2: \"snapshot\" 'prod\\x00.json.gz' holds a NUL character" in reasons["nul"]
    assert "cluster #3 must be an object, got int" in reasons["#3"]
    assert 'cluster #4: "context" must be a string, got int' in reasons["#4"]
    assert "'..' is not a file name in the fleet directory" in reasons["up"]
    assert "'' is not a file name in the fleet directory" in reasons["empty"]
    assert '"snapshot" must be a file name, got int' in reasons["typed"]
    assert '"error" must be a string, got dict' in reasons["odd-error"]
    assert "is a directory; expected a snapshot file" in reasons["dir"]
    for context in ("nul", "#3", "#4", "up", "empty", "typed", "odd-error"):
        assert reasons[context].startswith(f"{fleet / INDEX_FILE}: cluster #"), context

    assert main(["report", str(fleet)]) == EXIT_PARTIAL
    captured = capsys.readouterr()
    assert "internal error" not in captured.err and len(captured.err.splitlines()) == len(entries) - 1
    assert captured.out.splitlines()[1].startswith("prod ")


# -- odd names and unreadable directories ---------------------------------------------------------


def _non_utf8_file(directory: Path) -> Path:
    path = directory / os.fsdecode(b"b\xff.json")
    try:
        path.write_bytes((directory / "a.json").read_bytes())
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses names that are not UTF-8")
    return path


def test_a_file_name_that_is_not_utf8_is_named_and_the_rest_reported(tmp_path: Path, capsys) -> None:
    snapshot.save(cluster_report("a"), tmp_path / "a.json")
    _non_utf8_file(tmp_path)
    entries = load_fleet(tmp_path)
    assert [(e.context, e.ok) for e in entries] == [("a", True), ("b\\xff.json", False)]
    assert entries[1].error == f"{tmp_path}/b\\xff.json: the file name is not UTF-8; rename it to read it"
    assert main(["report", str(tmp_path), "--format", "json"]) == EXIT_PARTIAL
    captured = capsys.readouterr()
    assert [c["context"] for c in json.loads(captured.out)["clusters"]] == ["a", "b\\xff.json"]
    assert "not UTF-8" in captured.err and "internal error" not in captured.err


def test_a_directory_name_that_is_not_utf8_is_shown_escaped(tmp_path: Path) -> None:
    directory = tmp_path / os.fsdecode(b"fleet\xfe")
    try:
        directory.mkdir()
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses names that are not UTF-8")
    snapshot.save(cluster_report("a"), directory / "a.json")
    (directory / "broken.json").write_text("{")
    entries = load_fleet(directory)
    assert [e.ok for e in entries] == [True, False]
    shown = orjson.dumps(fleet_dict(entries, directory))  # refused the lone surrogates before
    assert b"fleet\\\\xfe" in shown
    render_fleet_text(entries, directory).encode("utf-8")


def _unlistable(monkeypatch, directory: Path) -> None:
    """`directory` as a user without read permission sees it (the tests may run as root)."""
    listing = Path.iterdir

    def iterdir(self: Path):
        if self == directory:
            raise PermissionError(13, "Permission denied", str(self))
        return listing(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)


def test_an_unreadable_fleet_directory_is_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    snapshot.save(cluster_report("a"), tmp_path / "a.json")
    _unlistable(monkeypatch, tmp_path)
    with pytest.raises(SnapshotError, match=f"cannot read {tmp_path}: Permission denied"):
        load_fleet(tmp_path)
    assert main(["report", str(tmp_path)]) == 1
    assert "Permission denied" in _one_line_error(capsys)


def test_an_unsearchable_fleet_directory_is_one_line(tmp_path: Path, monkeypatch) -> None:
    """Readable but not searchable (mode r--): listing works, looking at an entry does not."""
    snapshot.save(cluster_report("a"), tmp_path / "a.json")
    status = Path.stat

    def stat(self: Path, *, follow_symlinks: bool = True):
        if self.parent == tmp_path:
            raise PermissionError(13, "Permission denied", str(self))
        return status(self, follow_symlinks=follow_symlinks)

    monkeypatch.setattr(Path, "stat", stat)
    with pytest.raises(SnapshotError, match=f"cannot read {tmp_path}: Permission denied"):
        load_fleet(tmp_path)


def test_an_unreadable_index_is_one_line(tmp_path: Path, monkeypatch) -> None:
    fleet = _index(tmp_path / "fleet", [{"context": "a", "snapshot": "a.json"}])
    reading = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == INDEX_FILE:
            raise PermissionError(13, "Permission denied", str(self))
        return reading(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(SnapshotError) as caught:
        load_fleet(fleet)
    assert caught.value.message == f"cannot read {fleet / INDEX_FILE}: Permission denied"
