"""Snapshot files under stress: crashes during save, and a fuzzed loader.

- Saving is atomic: a process killed mid-write or an exception from the write never leaves a
  corrupt file nor destroys the previous one, and no temp file outlives the next save.
- Loading anything (random bytes, random JSON, the demo snapshot with fields deleted, retyped or
  replaced, deep nesting, huge numbers, gzip bombs) ends in a Snapshot or ONE SnapshotError; a
  loaded snapshot always evaluates and renders (a garbage object may make a check `error`, never
  the inventory, the scoring or the renderers crash).
"""

from __future__ import annotations

import copy
import gzip
import os
import signal
import stat
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from k8saudit import snapshot
from k8saudit.errors import SnapshotError
from k8saudit.export import render
from k8saudit.render import report_dict
from k8saudit.textsafe import CLIPPED, safe_json
from tests.demo import build_report
from tests.strategies import json_values

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def report():
    return build_report()


@pytest.fixture(scope="module")
def demo_document(report) -> dict[str, Any]:
    return orjson.loads(snapshot.dumps(report))


def temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# -- crashes during save ------------------------------------------------------------------------

_CRASHING_SAVE = """
import os, signal, sys
from k8saudit import snapshot
from tests.demo import build_report

report = build_report()
where = sys.argv[2]
real_fdopen = os.fdopen

class DiesMidWrite:
    def __init__(self, handle):
        self.handle = handle
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return self.handle.__exit__(*exc)
    def write(self, data):
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    def __getattr__(self, name):
        return getattr(self.handle, name)

if where == "write":
    os.fdopen = lambda fd, mode: DiesMidWrite(real_fdopen(fd, mode))
elif where == "fsync":
    os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)
elif where == "rename":
    os.replace = lambda a, b: os.kill(os.getpid(), signal.SIGKILL)
snapshot.save(report, sys.argv[1])
"""


@pytest.mark.parametrize("where", ["write", "fsync", "rename"])
@pytest.mark.parametrize("name", ["s.json", "s.json.gz"])
def test_process_killed_during_save_keeps_the_previous_file(
    tmp_path: Path, report, where: str, name: str
) -> None:
    target = snapshot.save(report, tmp_path / name)
    previous = target.read_bytes()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", _CRASHING_SAVE, str(target), where], env=env, capture_output=True, check=False
    )
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()[-2000:]
    assert target.read_bytes() == previous, "the previous snapshot is intact"
    assert snapshot.load(target).inventory.cluster.context == "shop-prod"
    assert len(temp_files(tmp_path)) == 1, "the killed process left its temp file"
    # The next save next to it removes what the dead process abandoned.
    snapshot.save(report, target)
    assert temp_files(tmp_path) == []
    assert snapshot.load(target).inventory.cluster.context == "shop-prod"


@pytest.mark.parametrize(
    "error", [RuntimeError("boom"), KeyboardInterrupt(), OSError(5, "Input/output error")]
)
def test_exception_during_write_keeps_the_previous_file(tmp_path: Path, report, monkeypatch, error) -> None:
    target = snapshot.save(report, tmp_path / "s.json.gz")
    previous = target.read_bytes()
    real_fdopen = os.fdopen

    class Failing:
        def __init__(self, handle: Any) -> None:
            self.handle = handle

        def __enter__(self) -> Failing:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def write(self, data: bytes) -> None:
            self.handle.write(data[:100])
            raise error

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: Failing(real_fdopen(fd, mode)))
    expected = SnapshotError if isinstance(error, OSError) else type(error)
    with pytest.raises(expected):
        snapshot.save(report, target)
    assert target.read_bytes() == previous
    assert temp_files(tmp_path) == []


def test_temp_files_of_live_or_foreign_writers_are_left_alone(tmp_path: Path, report) -> None:
    live = tmp_path / f".s.json.{snapshot._HOST}.{os.getpid()}.abc.tmp"  # a save in progress
    foreign = tmp_path / ".s.json.other-host.1.abc.tmp"  # another machine sharing the directory
    unrelated = tmp_path / ".other.json.x.1.abc.tmp"
    for path in (live, foreign, unrelated):
        path.write_bytes(b"partial")
    snapshot.save(report, tmp_path / "s.json")
    assert temp_files(tmp_path) == sorted(p.name for p in (live, foreign, unrelated))


def test_saved_file_is_private_even_when_replacing_a_public_one(tmp_path: Path, report) -> None:
    target = tmp_path / "s.json"
    target.write_bytes(b"old")
    target.chmod(0o644)
    old_umask = os.umask(0)
    try:
        snapshot.save(report, target)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


# -- size cap ---------------------------------------------------------------------------------------


def gzip_bomb(size: int) -> bytes:
    """`size` bytes of JSON whitespace, gzip-compressed to a few kilobytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b" " * (1 << 20)
    out = [compressor.compress(b'{"format": "k8saudit.snapshot/1", "pad": "')]
    for _ in range(size // len(chunk)):
        out.append(compressor.compress(chunk))
    out.append(compressor.compress(b'"}'))
    out.append(compressor.flush())
    return b"".join(out)


def test_gzip_bomb_is_refused_without_inflating_it(tmp_path: Path, capsys) -> None:
    from k8saudit.cli import main

    bomb = gzip_bomb(64 << 20)
    assert len(bomb) < 200_000
    path = tmp_path / "bomb.json.gz"
    path.write_bytes(bomb)
    with pytest.raises(SnapshotError, match="larger than 8 MiB uncompressed; raise --max-snapshot-size"):
        snapshot.load(path, max_bytes=8 << 20)
    assert main(["report", str(path), "--max-snapshot-size", "8"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--max-snapshot-size" in err
    # Raised above the bomb's size it inflates, and is then judged on its content.
    with pytest.raises(SnapshotError, match="not a valid k8saudit snapshot"):
        snapshot.load(path, max_bytes=128 << 20)


def test_uncompressed_size_cap_and_trailing_garbage(tmp_path: Path, report) -> None:
    data = snapshot.dumps(report)
    path = tmp_path / "s.json"
    path.write_bytes(data)
    with pytest.raises(SnapshotError, match="larger than"):
        snapshot.load(path, max_bytes=len(data) - 1)
    assert snapshot.load(path, max_bytes=len(data)).inventory.cluster.context == "shop-prod"
    packed = tmp_path / "s.json.gz"
    packed.write_bytes(gzip.compress(data))
    with pytest.raises(SnapshotError, match="larger than"):  # refused before it is read whole
        snapshot.load(packed, max_bytes=packed.stat().st_size - 1)
    twice = tmp_path / "twice.json.gz"
    twice.write_bytes(gzip.compress(data) + b"garbage after the stream")
    with pytest.raises(SnapshotError, match="trailing data"):
        snapshot.load(twice)


# -- the fuzzed loader ------------------------------------------------------------------------------


def must_load_or_fail_cleanly(raw: bytes) -> None:
    """A Snapshot that evaluates and renders, or one SnapshotError; nothing else."""
    try:
        loaded = snapshot.loads(raw, "fuzz.json", max_bytes=64 << 20)
    except SnapshotError as exc:
        message = str(exc)
        assert message and "\n" not in message and len(message) < 600, message
        return
    for as_recorded in (False, True):
        report = loaded.report(as_recorded=as_recorded)
        render(report, "text")
        safe_json(orjson.dumps(report_dict(report)))
    snapshot.dumps(loaded.report())  # and it saves again


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes(raw: bytes) -> None:
    must_load_or_fail_cleanly(raw)
    must_load_or_fail_cleanly(gzip.compress(raw))


@FUZZ
@given(json_values())
def test_random_json(value: Any) -> None:
    must_load_or_fail_cleanly(orjson.dumps(value))
    if isinstance(value, dict):
        must_load_or_fail_cleanly(orjson.dumps({**value, "format": "k8saudit.snapshot/1"}))


def paths_of(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into the document (dict keys and list indexes), lists cut to three items."""
    out = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            out.extend(paths_of(value, (*prefix, key)))
    elif isinstance(document, list):
        for index, value in enumerate(document[:3]):
            out.extend(paths_of(value, (*prefix, index)))
    return out


@pytest.fixture(scope="module")
def demo_paths(demo_document) -> list[tuple[Any, ...]]:
    return [p for p in paths_of(demo_document) if p and p != ("format",)]


MUTATIONS = ("delete", "replace", "wrap-in-list", "stringify", "empty", "huge-number", "deep")


def mutate(document: dict[str, Any], path: tuple[Any, ...], how: str, value: Any) -> None:
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    key = path[-1]
    old = parent[key]
    if how == "delete":
        del parent[key]
    elif how == "replace":
        parent[key] = value
    elif how == "wrap-in-list":
        parent[key] = [old]
    elif how == "stringify":
        parent[key] = orjson.dumps(old).decode()
    elif how == "empty":
        parent[key] = type(old)() if isinstance(old, dict | list | str) else None
    elif how == "huge-number":
        parent[key] = 2**63 - 1 if isinstance(value, bool) else 1.7976931348623157e308
    elif how == "deep":  # written by `serialize`: orjson itself cannot write it
        parent[key] = "__DEEP_LIST__" if isinstance(value, bool) else "__DEEP_DICT__"


def serialize(document: Any) -> bytes:
    """JSON bytes, with the deep placeholders expanded to 300 levels of nesting."""
    raw = orjson.dumps(document)
    raw = raw.replace(b'"__DEEP_LIST__"', b"[" * 300 + b'"bottom"' + b"]" * 300)
    return raw.replace(b'"__DEEP_DICT__"', b'{"x":' * 300 + b'"bottom"' + b"}" * 300)


# K8SAUDIT_FUZZ_EXAMPLES=5000 hunts longer than the suite does.
@settings(
    max_examples=int(os.environ.get("K8SAUDIT_FUZZ_EXAMPLES", "400")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.data())
def test_mutated_demo_snapshots(demo_document, demo_paths, data) -> None:
    document = copy.deepcopy(demo_document)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        path = data.draw(st.sampled_from(demo_paths), label="path")
        try:
            mutate(document, path, data.draw(st.sampled_from(MUTATIONS)), data.draw(json_values()))
        except (KeyError, IndexError, TypeError):
            assume(False)  # an earlier mutation removed or retyped this path's parent
    must_load_or_fail_cleanly(serialize(document))


@pytest.mark.parametrize(
    "section", ["inventory", "coverage", "collection", "cluster", "findings", "calendar", "scores"]
)
@pytest.mark.parametrize("how", MUTATIONS)
def test_every_section_mutated_every_way(demo_document, section: str, how: str) -> None:
    for value in (None, True, 0, -1, "x", [], {}, [None], {"": None}):
        document = copy.deepcopy(demo_document)
        mutate(document, (section,), how, value)
        must_load_or_fail_cleanly(serialize(document))


def test_deeply_nested_json_is_one_clear_error(demo_document) -> None:
    """orjson reads 1024 levels but writes only 254: deep evidence or objects from a foreign file
    must not load into something that cannot be rendered or saved again."""
    for depth in (300, 1000, 5000):
        must_load_or_fail_cleanly(b"[" * depth + b"]" * depth)
        for where in ("evidence", "object", "self_rules"):
            document = copy.deepcopy(demo_document)
            if where == "evidence":
                document["findings"][0]["evidence"] = {"deep": "PLACEHOLDER"}
            elif where == "object":
                document["inventory"]["objects"]["pods"][0]["spec"]["deep"] = "PLACEHOLDER"
            else:
                document["collection"]["self_rules"] = {"deep": "PLACEHOLDER"}
            nested = b"[" * depth + b"0" + b"]" * depth
            must_load_or_fail_cleanly(orjson.dumps(document).replace(b'"PLACEHOLDER"', nested))


def test_huge_numbers(demo_document) -> None:
    text = orjson.dumps(demo_document).decode()
    for number in ("1e400", "-1e400", "1" + "0" * 400, "123456789012345678901234567890"):
        must_load_or_fail_cleanly(text.replace('"count":', f'"count":{number},"was":', 1).encode())
    for field in ("count", "pages", "duration_s"):
        document = copy.deepcopy(demo_document)
        document["coverage"]["pods"][field] = 1.7976931348623157e308
        must_load_or_fail_cleanly(orjson.dumps(document))


def test_object_nested_deeper_than_json_writers_go_is_clipped_on_save(tmp_path: Path, capsys) -> None:
    """A CRD whose schema nests 300 levels: the scan saves it, cut at 200 levels, and reloads it."""
    from k8saudit.cli import main
    from tests.replay import ReplayServer

    schema: Any = {"type": "string"}
    for _ in range(150):
        schema = {"type": "object", "properties": {"x": schema}}
    crd = {
        "metadata": {"name": "deep.example.com"},
        "spec": {"group": "example.com", "versions": [{"name": "v1", "schema": {"openAPIV3Schema": schema}}]},
    }
    with ReplayServer() as srv:
        srv.add_objects("apiextensions.k8s.io", "v1", "customresourcedefinitions", [crd])
        kubeconfig = srv.write_kubeconfig(tmp_path / "k")
        out = tmp_path / "deep.json.gz"
        assert main(["scan", "--kubeconfig", str(kubeconfig), "-o", str(out), "-q", "--format", "json"]) == 0
    orjson.loads(capsys.readouterr().out)
    loaded = snapshot.load(out)
    kept = loaded.inventory.get("customresourcedefinitions", "", "deep.example.com")
    assert kept is not None and CLIPPED in orjson.dumps(kept).decode()
    assert loaded.inventory.coverage_of("customresourcedefinitions").state == "ok"


def test_recorded_informational_finding_of_an_unknown_check_renders(demo_document) -> None:
    """Found by the fuzzer: a snapshot (shown as recorded) whose failing finding names a check this
    version does not have is folded as informational, and its title must not be looked up."""
    document = copy.deepcopy(demo_document)
    problem = next(f for f in document["findings"] if f["status"] == "fail")
    problem["check_id"] = "NEW-999"
    report = snapshot.loads(orjson.dumps(document), "fuzz.json").report(as_recorded=True)
    text = render(report, "text")
    assert "NEW-999" in text and "a check this version of k8saudit does not have" in text


def test_a_recorded_check_id_that_is_not_an_id_is_refused(demo_document) -> None:
    """Renderers print check ids as they are: a file whose finding carries escapes (OSC 52) or
    anything else in its id is refused in one line, whichever parser reads it."""
    for how_read in ("schema", "generic"):
        document = copy.deepcopy(demo_document)
        document["findings"][0]["check_id"] = "X\x1b]52;c;ZXZpbA==\x07"
        if how_read == "generic":  # a status this version lacks sends the file to the generic parser
            document["findings"][1]["evidence"] = [1]
        with pytest.raises(SnapshotError, match=r"check id 'X\\x1b\]52.*is not an id like DNS-001"):
            snapshot.loads(orjson.dumps(document), "evil.json")


def test_a_recorded_waiver_summary_prints_inert(demo_document) -> None:
    document = copy.deepcopy(demo_document)
    hostile = "RBAC-*\x1b[2J\ufffe"
    document["waivers"] = {
        "waivers": [{"waiver": {"check": hostile, "reason": "r", "owner": "o"}, "note": f"n{hostile}"}],
    }
    text = render(snapshot.loads(orjson.dumps(document), "w.json").report(as_recorded=True), "text")
    assert "RBAC-*\\x1b[2J\\ufffe" in text and "\x1b" not in text and "\ufffe" not in text
