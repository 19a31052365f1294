"""Snapshot files: round trip, atomic writes, and one clear error for every bad file."""

from __future__ import annotations

import gzip
import json
import os
import stat
from pathlib import Path

import orjson
import pytest

from k8saudit import snapshot
from k8saudit.cli import main
from k8saudit.errors import SnapshotError
from tests.demo import build_report


@pytest.fixture(scope="module")
def report():
    return build_report()


@pytest.mark.parametrize("name", ["s.json", "s.json.gz"])
def test_round_trip_gives_the_same_report(tmp_path: Path, report, name: str) -> None:
    path = snapshot.save(report, tmp_path / name)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = snapshot.load(path)
    again = loaded.report()
    assert again.scores.to_dict() == report.scores.to_dict()
    assert [f.to_dict() for f in again.findings] == [f.to_dict() for f in report.findings]
    assert loaded.inventory.cluster == report.inventory.cluster
    assert loaded.report(as_recorded=True).as_recorded


def test_findings_off_the_fast_schema_load_as_leniently_as_ever(tmp_path: Path, report) -> None:
    """Recorded findings are built in C when they fit the shape k8saudit writes; one that does not
    (a null message, a waiver that is no object, evidence that is a list) sends the file to the
    generic reader, which reads every finding as before. A check id must be an id either way."""
    document = orjson.loads(snapshot.dumps(report))
    fast = snapshot.load(_written(tmp_path / "fast.json", document)).findings
    assert [f.to_dict() for f in fast] == [f.to_dict() for f in report.findings]
    document["findings"][0].update(message=None, waiver="x", evidence=[])
    lenient = snapshot.load(_written(tmp_path / "lenient.json", document)).findings
    assert (lenient[0].check_id, lenient[0].message, lenient[0].waiver) == (fast[0].check_id, "None", None)
    assert lenient[0].evidence == {}
    assert [f.to_dict() for f in lenient[1:]] == [f.to_dict() for f in fast[1:]]
    document["findings"][0]["check_id"] = 7
    with pytest.raises(SnapshotError, match="check id '7' is not an id like DNS-001"):
        snapshot.load(_written(tmp_path / "number.json", document))
    document["findings"][0]["check_id"] = fast[0].check_id
    document["findings"][1]["status"] = "maybe"
    with pytest.raises(SnapshotError, match="not a valid k8saudit snapshot: 'maybe' is not a valid Status"):
        snapshot.load(_written(tmp_path / "bad.json", document))


def test_findings_with_the_same_evidence_share_one_dict_that_refuses_changes(tmp_path: Path, report) -> None:
    """Loaded findings hold one evidence dict per distinct text, as the checks share theirs: a
    change through one finding would change them all, so it is refused."""
    loaded = snapshot.load(snapshot.save(report, tmp_path / "s.json")).findings
    holders: dict[bytes, set[int]] = {}
    for finding in loaded:
        holders.setdefault(orjson.dumps(finding.evidence), set()).add(id(finding.evidence))
    assert {len(ids) for ids in holders.values()} == {1}
    assert len(holders) < len(loaded)  # the demo's findings repeat evidence
    assert [f.to_dict() for f in loaded] == [f.to_dict() for f in report.findings]
    with pytest.raises(TypeError, match="shared by many findings"):
        loaded[0].evidence["note"] = "changed"


def _written(path: Path, document: dict) -> Path:
    path.write_bytes(orjson.dumps(document))
    return path


def test_gzip_is_detected_by_content_not_name(tmp_path: Path, report) -> None:
    path = tmp_path / "renamed.json"
    path.write_bytes(gzip.compress(snapshot.dumps(report)))
    assert snapshot.load(path).inventory.cluster.context == "shop-prod"


def test_a_gzipped_snapshot_is_plain_gzip(tmp_path: Path, report) -> None:
    """Written by ISA-L for speed, read back by any gzip: `zcat s.json.gz | jq` keeps working."""
    path = snapshot.save(report, tmp_path / "s.json.gz")
    assert gzip.decompress(path.read_bytes()) == snapshot.dumps(report)


def test_failed_save_keeps_the_previous_file(tmp_path: Path, report, monkeypatch) -> None:
    path = snapshot.save(report, tmp_path / "s.json")
    before = path.read_bytes()

    def full_disk(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", lambda fd: full_disk(fd, b""))
    with pytest.raises(SnapshotError, match="No space left on device"):
        snapshot.save(report, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"], "no temp file left behind"


def bad_files(tmp_path: Path, report) -> dict[str, tuple[bytes, str]]:
    good = snapshot.dumps(report)
    future = json.loads(good)
    future["format"] = "k8saudit.snapshot/9"
    broken = json.loads(good)
    del broken["inventory"]["objects"]
    return {
        "empty": (b"", "is empty"),
        "truncated": (good[: len(good) // 2], "is truncated"),
        "truncated-gzip": (gzip.compress(good)[:200], "truncated"),
        "corrupt": (b"\x00\x01garbage{", "not valid JSON"),
        "foreign": (b'{"apiVersion": "v1", "kind": "PodList", "items": []}', "is not a k8saudit snapshot"),
        "list": (b"[1, 2, 3]", "is not a k8saudit snapshot"),
        "future": (orjson.dumps(future), "newer than this k8saudit"),
        "missing-field": (orjson.dumps(broken), "missing field 'objects'"),
        "huge-number": (good.replace(b'"count":', b'"count":1' + b"0" * 400 + b',"x":', 1), "bad count"),
        "integer past 64 bits in an object": (
            good.replace(b'"metadata":{', b'"metadata":{"generation":' + b"9" * 30 + b",", 1),
            "Integer exceeds 64-bit range",
        ),
        "deep": (
            b'{"format": "k8saudit.snapshot/1", "inventory": ' + b"[" * 100000 + b"]" * 100000 + b"}",
            "not",
        ),
    }


def test_every_bad_file_is_one_clear_error(tmp_path: Path, report, capsys) -> None:
    for name, (data, expected) in bad_files(tmp_path, report).items():
        path = tmp_path / f"{name}.json"
        path.write_bytes(data)
        with pytest.raises(SnapshotError, match=expected.replace("(", r"\(")):
            snapshot.load(path)
        assert main(["report", str(path)]) == 1, name
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("k8saudit: error: "), (name, err)
        assert "Traceback" not in err


def test_missing_file_and_size_cap(tmp_path: Path, report, capsys) -> None:
    assert main(["report", str(tmp_path / "nope.json")]) == 1
    assert "No such file" in capsys.readouterr().err
    path = snapshot.save(report, tmp_path / "s.json.gz")
    with pytest.raises(SnapshotError, match="max-snapshot-size"):
        snapshot.load(path, max_bytes=1000)
    assert main(["report", str(path), "--max-snapshot-size", "1"]) == 0


def test_reports_snapshots_and_diffs_have_short_reprs(tmp_path: Path, report) -> None:
    """asyncio.run() has the repr of its task's result made when it restores the SIGINT handler
    (Python 3.11): the dataclass repr of a 100k-pod report took 5 s and 500 MB in every scan."""
    from k8saudit.diff import diff_reports

    loaded = snapshot.load(snapshot.save(report, tmp_path / "s.json"))
    for value in (report, loaded, diff_reports(report, loaded.report())):
        assert len(repr(value)) < 300, repr(value)[:300]
    assert repr(report) == f"<Report of 'shop-prod': {len(report.findings)} findings>"
