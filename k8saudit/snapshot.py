"""Snapshot files: a report saved as versioned JSON (`.json`, or gzip-compressed `.json.gz`).

Saving is atomic (temp file in the same directory, fsync, rename) and the file is created 0600:
a crash or a full disk never leaves a half-written snapshot or destroys the previous one.
Loading validates everything and fails with one clear line for a truncated, corrupt, foreign or
newer-format file, and refuses files that would decompress beyond a size cap.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import socket
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated, Any, BinaryIO, NamedTuple, TypedDict, cast

import msgspec
import orjson
from isal import isal_zlib

from k8saudit import __version__, heap, siblings
from k8saudit.errors import SnapshotError, check_input_file
from k8saudit.inventory import ClusterIdentity, Coverage, Inventory, malformed, share_pod_templates
from k8saudit.kinds import KINDS, KINDS_BY_KEY
from k8saudit.model import CHECK_ID_PATTERN, Finding, Status, Subject, shared_evidence
from k8saudit.registry import Config
from k8saudit.releases import ReleaseCalendar
from k8saudit.report import CollectionInfo, Report, evaluate, is_current, reevaluate_or_reuse
from k8saudit.schema import SCHEMA_REFUSALS, TOP_LEVEL_FIELDS, item_schema
from k8saudit.textsafe import dump_json
from k8saudit.waivers import WaiverPolicy, WaiverSummary

FORMAT_NAME = "k8saudit.snapshot"
# 2: sibling pods' shared parts written once (k8saudit.siblings); 3: their entries' parts too.
FORMAT_VERSION = 3
FORMAT = f"{FORMAT_NAME}/{FORMAT_VERSION}"
DEFAULT_MAX_BYTES = 2 * 1024**3  # decompressed; raise with --max-snapshot-size
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(slots=True, repr=False)
class Snapshot:
    """What a snapshot file holds, validated."""

    inventory: Inventory
    collection: CollectionInfo
    # The findings as recorded when the snapshot was written. Those decoded in C stay in that
    # form until `findings` is read: opening a snapshot whose findings are reused builds each
    # finding once, afresh without its waiver mark (`report`), instead of twice.
    recorded: list[Finding | _StoredFinding]
    calendar: ReleaseCalendar
    path: Path | None = None
    waivers: WaiverSummary | None = None  # what the waivers did when it was written
    fingerprint: str = ""  # of the code and settings that produced `findings` (report.py)
    _converted: bool = field(default=False, init=False, repr=False)

    @property
    def findings(self) -> list[Finding]:
        """The recorded findings, with the waiver marks they were saved with."""
        recorded = self.recorded
        if not self._converted:  # once: 337k findings at 100k pods
            with heap.gc_paused():  # acyclic, and they live as long as the snapshot (k8saudit.heap)
                for i, finding in enumerate(recorded):  # in place: each decoded one is freed once converted
                    if type(finding) is _StoredFinding:
                        recorded[i] = finding.as_finding()
                heap.settle()
            self._converted = True
        return cast("list[Finding]", recorded)

    @property
    def tool_version(self) -> str:
        return self.collection.tool_version

    def is_current(self, config: Config | None = None, calendar: ReleaseCalendar | None = None) -> bool:
        """True when `report()` reuses the recorded findings (they are what today's checks would
        say); False when it re-runs the checks (another k8saudit version, other settings)."""
        return is_current(self.fingerprint, config, calendar or self.calendar)

    def __repr__(self) -> str:  # short, as Report's: never the whole inventory
        return f"<Snapshot {str(self.path)!r}: {len(self.recorded)} findings>"

    def report(
        self,
        *,
        as_recorded: bool = False,
        config: Config | None = None,
        waivers: WaiverPolicy | None = None,
        today: date | None = None,
        calendar: ReleaseCalendar | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> Report:
        """Re-run today's checks over the saved inventory and apply today's `waivers`; or show
        the recorded findings with the waiver marks they were saved with (`as_recorded`).

        The checks use the calendar saved with the snapshot unless `calendar` replaces it; `stop`
        ends them early (see `evaluate`).
        """
        if as_recorded:
            return evaluate(
                self.inventory,
                self.collection,
                config,
                calendar or self.calendar,
                self.findings,
                recorded_waivers=self.waivers,
                recorded_fingerprint=self.fingerprint,
            )
        return reevaluate_or_reuse(
            self.inventory,
            self.collection,
            self.recorded,
            self.fingerprint,
            config,
            calendar or self.calendar,
            waivers=waivers,
            today=today,
            stop=stop,
        )


def to_dict(report: Report) -> dict[str, Any]:
    return {
        **_head(report),
        "inventory": report.inventory.to_dict(),
        "findings": [f.to_dict() for f in report.findings],
        **_tail(report),
    }


def _head(report: Report) -> dict[str, Any]:
    inv = report.inventory
    return {
        "format": FORMAT,
        "tool": {"name": "k8saudit", "version": __version__},
        "cluster": {**inv.cluster.to_dict(), "provider": inv.provider.name},
        "collection": report.collection.to_dict(),
        "coverage": {key: cov.to_dict() for key, cov in inv.coverage.items()},
        "calendar": report.calendar.to_dict(),
    }


def _tail(report: Report) -> dict[str, Any]:
    return {
        "scores": report.scores.to_dict(),
        "waivers": report.waivers.to_dict(),
        "evaluation": {"fingerprint": report.fingerprint},
    }


def dumps(report: Report) -> bytes:
    return b"".join(dump_chunks(report))


# Objects or findings serialized at a time: about a MB of JSON, never the whole document (which is
# ~400 MB for a 100k-pod cluster, on top of the report it describes).
_SLICE = 1_000


def dump_chunks(report: Report) -> Iterator[bytes]:
    """The snapshot document of `to_dict(report)`, same keys in the same order, as pieces of JSON."""
    with heap.gc_paused():  # the findings become many small dicts: no cycles to look for
        yield dump_json(_head(report))[:-1]  # '{"format":…,"calendar":{…}': the big parts follow
        objects, rest = report.inventory.stored()
        yield b',"inventory":{"objects":{'
        for n, (key, items) in enumerate(objects.items()):
            yield (b"," if n else b"") + dump_json(key) + b":"
            yield from _json_list(items)
        yield b"}," + dump_json(rest)[1:]
        yield b',"findings":'
        yield from _json_list(report.findings, Finding.to_dict)
        yield b"," + dump_json(_tail(report))[1:]


def _json_list(items: Iterable[Any], encode: Callable[[Any], Any] | None = None) -> Iterator[bytes]:
    yield b"["
    remaining = iter(items)
    separator = b""
    while part := list(itertools.islice(remaining, _SLICE)):
        yield separator + dump_json([encode(x) for x in part] if encode else part)[1:-1]
        separator = b","
    yield b"]"


# ISA-L level 1: on a 100k-pod snapshot (440 MB of JSON) it takes 0.25 s for 30 MB, where zlib's
# level 3 took 1.5 s for 32 MB (and its level 6, 2.6 s for a 16 MB snapshot of exact-copy pods).
GZIP_LEVEL = 1


def save(report: Report, path: str | os.PathLike[str], *, exclusive: bool = False) -> Path:
    """Write `report` to `path` atomically; gzip when the name ends in `.gz`. Returns the path
    written: with `exclusive`, the first free one of `path`, `path-2`, … (`write_atomically`)."""
    target = Path(path)
    # Closed even when the write fails: a suspended dump_chunks would keep its gc_paused for as
    # long as the error is kept (a TUI message, a test's excinfo).
    with contextlib.closing(dump_chunks(report)) as chunks:
        data = _gzipped(chunks) if target.name.endswith(".gz") else chunks
        return write_atomically(target, data, exclusive=exclusive)


def _gzipped(chunks: Iterable[bytes]) -> Iterator[bytes]:
    compressor = isal_zlib.compressobj(GZIP_LEVEL, isal_zlib.DEFLATED, 31)  # gzip framing, mtime 0
    for chunk in chunks:
        yield compressor.compress(chunk)
    yield compressor.flush()


def write_atomically(target: Path, data: bytes | Iterable[bytes], *, exclusive: bool = False) -> Path:
    """Replace `target` with `data` (bytes, or pieces written as they come) so that a reader, or
    the next run after a crash, sees the previous file or the new one, whole, never a mix: the
    data goes to a temp file next to the target (created 0600), is fsynced, then renamed over it.
    Any error removes the temp file; a process killed mid-write leaves one behind, which the next
    save next to it removes.

    Only a regular file is ever replaced: a device, FIFO, socket or directory at `target` is
    refused (a rename would put the snapshot in place of /dev/null). With `exclusive`, nothing is
    replaced: the data goes to the first free name of `target`, `target-2`, `target-3`, …
    (`numbered_name`). Returns the path written."""
    directory = target.parent if str(target.parent) else Path(".")
    tmp_name: str | None = None
    try:
        _check_directory(target, directory)
        _refuse_special_file(target)
        _remove_abandoned_temp_files(directory, target.name)
        fd, tmp_name = tempfile.mkstemp(prefix=_temp_prefix(target.name), suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as handle:  # mkstemp creates the file 0600
            for piece in (data,) if isinstance(data, bytes) else data:
                handle.write(piece)
            handle.flush()
            os.fsync(handle.fileno())
        written = _claim_free_name(target) if exclusive else target
        try:
            os.replace(tmp_name, written)
        except BaseException:  # a Ctrl-C too: the name stays free
            if exclusive:
                written.unlink(missing_ok=True)  # the empty file that claimed it
            raise
        tmp_name = None
        _fsync_directory(directory)  # the rename itself survives a power cut
    except OSError as exc:
        raise SnapshotError(f"cannot save {target}: {exc.strerror or exc}") from None
    finally:
        if tmp_name is not None:
            Path(tmp_name).unlink(missing_ok=True)
    return written


SNAPSHOT_SUFFIXES = (".json.gz", ".json")
# Default file names: `k8saudit-STEM-…`. A stem is at most this long.
CONTEXT_STEM_LENGTH = 60
_UNSAFE_IN_NAMES = re.compile(r"[^A-Za-z0-9._-]+")


def file_stem(text: str, length: int) -> str:
    """`text` as part of a file name: runs of other characters than letters, digits, `.`, `_`
    and `-` become `_`, no leading or trailing dot, at most `length` characters ("" if none)."""
    return _UNSAFE_IN_NAMES.sub("_", text).strip("._")[:length]


def context_stem(context: str) -> str:
    """`context` as default snapshot names spell it (the CLI's and the TUI's). A name kept as it
    is never holds a '~'; one that had to be sanitised or shortened ends in '~' and a hash of the
    whole name. So no two contexts share a stem, and --keep never prunes another cluster's."""
    safe = file_stem(context, len(context))
    if safe and safe == context and len(context) <= CONTEXT_STEM_LENGTH:
        return context
    digest = hashlib.sha256(context.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{safe[: CONTEXT_STEM_LENGTH - len(digest) - 1] or 'cluster'}~{digest}"


def legacy_context_stem(context: str) -> str:
    """The stem k8saudit gave before `context_stem`: different contexts could share it."""
    return file_stem(context, CONTEXT_STEM_LENGTH) or "cluster"


_RECORDED_CONTEXT = re.compile(rb'"cluster"\s*:\s*\{\s*"context"\s*:\s*("(?:[^"\\]|\\.)*")')


def recorded_context(path: Path) -> str | None:
    """The context a snapshot file records, read from its first bytes (the cluster comes right
    after the format and the tool); None if it cannot be read there."""
    try:
        head = _head_bytes(path)
    except (OSError, isal_zlib.error):
        return None
    match = _RECORDED_CONTEXT.search(head)
    try:
        context = orjson.loads(match[1]) if match else None
    except orjson.JSONDecodeError:
        return None
    return context if isinstance(context, str) else None


_MAX_NUMBERED = 10_000


def numbered_name(target: Path, number: int) -> Path:
    """`target` itself for 1, else with `-number` before its suffix: `s.json.gz` → `s-2.json.gz`."""
    if number == 1:
        return target
    name = target.name
    suffix = next((s for s in SNAPSHOT_SUFFIXES if name.endswith(s)), target.suffix)
    return target.with_name(f"{name.removesuffix(suffix)}-{number}{suffix}")


def _claim_free_name(target: Path) -> Path:
    """The first free numbered name of `target`, created empty with O_EXCL: two saves running
    at once can never both take it (an existence check followed by a rename could)."""
    for number in range(1, _MAX_NUMBERED + 1):
        candidate = numbered_name(target, number)
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            continue
        return candidate
    raise SnapshotError(f"cannot save {target}: {_MAX_NUMBERED} files of that name already exist")


def _check_directory(target: Path, directory: Path) -> None:
    if not directory.is_dir():  # raises, as OSError, when it cannot even be looked at
        raise SnapshotError(f"cannot save {target}: directory {directory} does not exist")


def _refuse_special_file(target: Path) -> None:
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise SnapshotError(f"refusing to save to {target}: it is not a regular file ({_file_type(mode)})")


def _file_type(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "a special file"


class SavedFile(NamedTuple):
    """What k8saudit writes to a path the user names, and how to recognise one it wrote."""

    noun: str  # "a k8saudit snapshot"
    suffixes: tuple[str, ...]  # the names it may take
    start: re.Pattern[bytes]  # how such a file begins (its first key), gzipped or not


SNAPSHOT_FILE = SavedFile(
    "a k8saudit snapshot",
    SNAPSHOT_SUFFIXES,
    re.compile(rb'\s*\{\s*"format"\s*:\s*"' + re.escape(FORMAT_NAME.encode()) + rb"/"),
)
# The JSON report (`render.report_dict`, schema k8saudit.report/N), as the TUI exports it.
REPORT_FILE = SavedFile(
    "a k8saudit JSON report", (".json",), re.compile(rb'\s*\{\s*"schema"\s*:\s*"k8saudit\.report/')
)


def check_save_target(target: Path, inputs: Iterable[Path] = (), saved: SavedFile = SNAPSHOT_FILE) -> None:
    """Refuse, before any work is done, a path `saved` must not be written to: a name without
    one of its suffixes (a typo must not replace ~/.kube/config), one of the command's `inputs`
    (the kubeconfig, the policy file), anything but a regular file, and a file k8saudit did not
    write. An existing file of the same kind may be replaced: that is a re-scan."""
    if not target.name.endswith(saved.suffixes):
        endings = " or ".join(sorted(saved.suffixes, key=len))
        raise SnapshotError(f"refusing to save to {target}: its name must end in {endings}")
    try:
        _check_directory(target, target.parent if str(target.parent) else Path("."))
        _refuse_special_file(target)
        if not target.exists():
            return
        if any(_same_file(target, source) for source in inputs):
            raise SnapshotError(f"refusing to save to {target}: the command reads it (an input file)")
        if not _starts_as(target, saved.start):
            raise SnapshotError(f"refusing to replace {target}: it is not {saved.noun} (choose another name)")
    except OSError as exc:
        raise SnapshotError(f"cannot save {target}: {exc.strerror or exc}") from None


def _same_file(target: Path, source: Path) -> bool:
    try:
        return os.path.samefile(target, source)
    except OSError:  # the input does not exist (a default that is not there)
        return False


def _starts_as(path: Path, start: re.Pattern[bytes]) -> bool:
    """Whether `path` begins as `start` says, gzipped or not; an empty file holds nothing to
    lose and counts as one."""
    try:
        head = _head_bytes(path)
    except isal_zlib.error:
        return False
    return not head or start.match(head) is not None


def _head_bytes(path: Path) -> bytes:
    """The first bytes of `path`'s document, inflated if it is gzipped (isal_zlib.error if the
    gzip stream is broken)."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head[:2] == _GZIP_MAGIC:
        head = isal_zlib.decompressobj(wbits=31).decompress(head, 1024)
    return head


# Temp files are named `.<target>.<host>.<pid>.<random>.tmp`, so a later save can tell the ones
# abandoned by a dead process on this host from a save still running (here or on another host
# or container sharing the directory).
_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"


def _temp_prefix(name: str) -> str:
    return f".{name}.{_HOST}.{os.getpid()}."


def _remove_abandoned_temp_files(directory: Path, name: str) -> None:
    if os.name != "posix":
        return  # no harmless liveness probe (os.kill would terminate the process on Windows)
    prefix = f".{name}.{_HOST}."
    try:
        candidates = [p for p in directory.iterdir() if p.name.startswith(prefix) and p.name.endswith(".tmp")]
    except OSError:
        return
    for path in candidates:
        pid = path.name[len(prefix) :].split(".", 1)[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            path.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # not every platform opens directories (Windows); the data itself is synced
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


STDIN = "-"  # as a path: the snapshot comes through a pipe (`cat s.json.gz | k8saudit report -`)


def load(path: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> Snapshot:
    """Read and validate a snapshot file (`-`: standard input); any problem is one SnapshotError
    line."""
    source = Path(path)
    from_stdin = str(path) == STDIN
    shown: Path | str = "standard input" if from_stdin else source
    if not from_stdin:
        check_input_file(source, "a snapshot file (.json or .json.gz)", SnapshotError)
    elif os.isatty(0):  # else it waits, silently, for a snapshot typed in
        raise SnapshotError(
            "standard input is a terminal, not a snapshot: "
            "pipe one in (cat snapshot.json.gz | k8saudit report -)"
        )
    try:
        # Boxed, so that the document's bytes (~400 MB for a 100k-pod cluster) are freed the
        # moment they are parsed instead of staying alive in this frame while objects are built.
        raw = [_read_bytes(source, shown, max_bytes)]
    except OSError as exc:
        raise SnapshotError(f"cannot read {shown}: {exc.strerror or exc}") from None
    with heap.gc_paused():
        snapshot = _loads(raw, shown, max_bytes)
    snapshot.path = None if from_stdin else source
    return snapshot


_PIPE_PIECE = 1024**2


def _read_bytes(source: Path, shown: Path | str, max_bytes: int) -> bytes:
    """The file as it is stored (gzipped or not), refused past `max_bytes`: a compressed file
    larger than what it may inflate to is refused before it is read whole. Read front to back,
    never seeking, so that a pipe (`-`, /dev/stdin) reads as a file does."""
    with open(0, "rb", closefd=False) if str(source) == STDIN else source.open("rb") as handle:
        status = os.fstat(handle.fileno())
        if stat.S_ISREG(status.st_mode):  # one buffer the file's size, not the limit's (read(n) allocates n)
            data = handle.read(min(status.st_size, max_bytes) + 1)
        else:
            data = _read_stream(handle, max_bytes + 1, shown)
    if len(data) > max_bytes:
        raise SnapshotError(_too_big(shown, max_bytes))
    return data


def _read_stream(handle: BinaryIO, limit: int, shown: Path | str) -> bytes:
    """At most `limit` bytes of a pipe, in pieces: a pipe has no size to size one buffer by. A
    stream that does not begin as a snapshot does (`/dev/zero`, `/dev/urandom`, a binary piped
    in) is refused at its first piece, not after gigabytes."""
    pieces: list[bytes] = []
    total = 0
    while total < limit and (piece := handle.read(min(_PIPE_PIECE, limit - total))):
        if not pieces and not _begins_as_snapshot(piece):
            raise SnapshotError(f"{shown} is not a k8saudit snapshot: not valid JSON, nor gzip")
        pieces.append(piece)
        total += len(piece)
    return b"".join(pieces)


def _begins_as_snapshot(start: bytes) -> bool:
    """Gzip's magic number, or JSON's first character after white space (or nothing yet)."""
    return start.startswith(_GZIP_MAGIC) or not start.strip() or _begins_as_json(start)


def _begins_as_json(start: bytes) -> bool:
    """A snapshot document's first character, however the rest was cut."""
    return start.lstrip()[:1] in (b"{", b"[")


def _gunzip(packed: bytes, source: Path | str, max_bytes: int) -> bytes:
    """Inflate at most `max_bytes`: a gzip bomb stops there.

    In one call, into one growing buffer: pieces joined at the end would hold the document twice
    (~900 MB at 100k pods), and ISA-L inflates it in half the time zlib takes (0.45 s vs 0.95 s)."""
    if len(packed) > max_bytes:
        raise SnapshotError(_too_big(source, max_bytes))
    decompressor = isal_zlib.decompressobj(wbits=31)
    try:
        document = decompressor.decompress(packed, max_bytes + 1)
    except isal_zlib.error:
        raise SnapshotError(f"{source} is not a valid snapshot: corrupt gzip data") from None
    if len(document) > max_bytes:
        raise SnapshotError(_too_big(source, max_bytes))
    if not decompressor.eof:
        raise SnapshotError(f"{source} is truncated: the gzip stream ends early")
    if decompressor.unused_data:
        raise SnapshotError(f"{source} is not a valid snapshot: trailing data after the gzip stream")
    return document


def _too_big(source: Path | str, max_bytes: int) -> str:
    limit = max_bytes // 1024**2
    return f"{source} is larger than {limit} MiB uncompressed; raise --max-snapshot-size to open it"


def loads(raw: bytes, source: Path | str = "snapshot", max_bytes: int = DEFAULT_MAX_BYTES) -> Snapshot:
    # Millions of acyclic objects are about to be created: see k8saudit.heap.
    with heap.gc_paused():
        return _loads([raw], source, max_bytes)


def _loads(box: list[bytes], source: Path | str, max_bytes: int) -> Snapshot:
    raw = box.pop()
    if raw[:2] == _GZIP_MAGIC:
        raw = _gunzip(raw, source, max_bytes)
    if not raw.strip():
        raise SnapshotError(f"{source} is empty")
    data, shape_checked = _parse(raw, source)
    del raw
    _check_format(data, source)
    try:
        loaded = _from_dict(data, max_bytes, shape_checked)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise SnapshotError(f"{source} is not a valid k8saudit snapshot: {_describe(exc)}") from None
    finally:
        heap.settle()  # the inventory stays for the whole session: later collections skip it
    _check_depth(data, source)
    return loaded


def _parse(raw: bytes, source: Path | str) -> tuple[Any, bool]:
    """The document, and whether its built-in kinds' objects were shape-checked on the way
    (by their schemas, `k8saudit.schema`); the generic parser decides what the schema refuses."""
    try:
        document = _document_decoder().decode(raw)
        _share_evidence(document.get("findings") or ())
    except SCHEMA_REFUSALS:
        pass
    else:
        objects = document.get("inventory", {}).get("objects")
        if isinstance(objects, msgspec.Struct):
            values = msgspec.structs.astuple(objects)
            document["inventory"]["objects"] = {
                key: value
                for key, value in zip(_KIND_KEYS, values, strict=True)
                if value is not msgspec.UNSET
            }
        return document, True
    try:
        return orjson.loads(raw), False
    except orjson.JSONDecodeError as exc:
        raise SnapshotError(_not_json(raw, source, exc)) from None


def _not_json(raw: bytes, source: Path | str, exc: orjson.JSONDecodeError) -> str:
    """Why `raw` is not a snapshot, in words: a file of another kind (an image, a tarball) is no
    "corrupt" snapshot, and orjson's "surrogates not allowed" says nothing about binary data."""
    if not _begins_as_json(raw):
        return f"{source} is not a k8saudit snapshot: not valid JSON, nor gzip"
    if "UTF-8" in str(exc):  # orjson checks the whole text first: it gives no position for it
        return f"{source} is corrupt: not valid JSON (not UTF-8 text)"
    problem = "truncated" if "EOF" in str(exc) or "end of" in str(exc).lower() else "corrupt"
    return f"{source} is {problem}: not valid JSON ({_short(exc)})"


_KIND_KEYS = tuple(kind.key for kind in KINDS)


@cache
def _document_decoder() -> msgspec.json.Decoder[Any]:
    """A snapshot: its inventory's objects by their kinds' schemas (custom kinds as they are),
    every other part as the generic parser reads it. Objects of a kind this k8saudit does not
    know are refused (forbid_unknown_fields): the generic parser reads them and `_from_dict`
    notes them."""
    objects = msgspec.defstruct(
        "SnapshotObjects",
        [
            (f"kind{n}", list[item_schema(key)] if key in TOP_LEVEL_FIELDS else Any, msgspec.UNSET)
            for n, key in enumerate(_KIND_KEYS)
        ],
        rename={f"kind{n}": key for n, key in enumerate(_KIND_KEYS)},
        forbid_unknown_fields=True,
    )
    inventory = TypedDict(  # type: ignore[operator]
        "SnapshotInventory",
        {"objects": objects, **dict.fromkeys(_INVENTORY_PARTS, Any)},
        total=False,
    )
    parts = {**dict.fromkeys(_PARTS, Any), "inventory": inventory, "findings": list[_StoredFinding]}
    document = TypedDict("Snapshot", parts, total=False)  # type: ignore[operator]
    return msgspec.json.Decoder(document)


class _StoredSubject(msgspec.Struct, gc=False):
    kind: str
    namespace: str = ""
    name: str = ""


class _StoredFinding(msgspec.Struct, gc=False):
    """A finding as `Finding.to_dict` writes it, built in C. One that does not fit (another type,
    a status this version lacks) sends the file to the generic parser and `Finding.from_dict`,
    which reads it as leniently as ever or names the problem."""

    check_id: Annotated[str, msgspec.Meta(pattern=CHECK_ID_PATTERN)]
    status: Status
    subject: _StoredSubject
    message: str = ""
    # Decoded as the JSON text it is in the file, then replaced by the evidence dict that every
    # finding with the same text holds (`_share_evidence`): always a dict once loaded.
    evidence: msgspec.Raw = msgspec.Raw(b"{}")
    waiver: dict[str, Any] | None = None

    def as_finding(self) -> Finding:
        finding = self.unwaived()
        finding.waiver = self.waiver
        return finding

    def unwaived(self) -> Finding:
        """As `Finding.unwaived`: the finding without its recorded waiver mark."""
        subject = self.subject
        return Finding(
            self.check_id,
            self.status,
            Subject(subject.kind, subject.namespace, subject.name),
            self.message,
            cast("dict[str, Any]", self.evidence),
        )


_EVIDENCE = msgspec.json.Decoder(dict[str, Any])


def _share_evidence(findings: Iterable[_StoredFinding]) -> None:
    """Decode each distinct evidence text once, for every finding that recorded it.

    Most findings repeat another's evidence word for word (a clean pod's, the replicas of one
    workload): at 100k pods, 84,864 texts for 336,727 findings. One dict each, refusing changes
    as the checks' shared evidence does (`shared_evidence`), instead of a dict per finding:
    84 MiB less at the peak of a load, and the depth guard encodes each text once.
    Raises msgspec's ValidationError for evidence that is not an object (the generic parser then
    reads the file, and `Finding.from_dict` judges it)."""
    shared: dict[bytes, dict[str, Any]] = {}
    for finding in findings:
        text = bytes(finding.evidence)
        evidence = shared.get(text)
        if evidence is None:
            evidence = shared[text] = shared_evidence(**_EVIDENCE.decode(text))
        finding.evidence = evidence  # type: ignore[assignment]


# What the loader reads besides the inventory's objects (and what it writes, read or not).
_INVENTORY_PARTS = ("same_as_previous", "served_api_versions", "applied_api_versions")
_PARTS = (
    "format", "tool", "cluster", "collection", "coverage", "calendar", "findings", "scores", "waivers",
    "evaluation",
)  # fmt: skip


def _check_format(data: object, source: Path | str) -> None:
    fmt = data.get("format") if isinstance(data, dict) else None
    if not isinstance(fmt, str) or not fmt.startswith(f"{FORMAT_NAME}/"):
        raise SnapshotError(f'{source} is not a k8saudit snapshot (no "format": "{FORMAT}")')
    version = fmt.rsplit("/", 1)[1]
    if not version.isdigit():
        raise SnapshotError(f"{source} has an unknown snapshot format {fmt[:40]!r}")
    if int(version) > FORMAT_VERSION:
        raise SnapshotError(
            f"{source} uses snapshot format {version}, newer than this k8saudit ({__version__}) reads "
            f"(format {FORMAT_VERSION}); upgrade k8saudit"
        )


def _from_dict(data: dict[str, Any], max_bytes: int, shape_checked: bool = False) -> Snapshot:
    inv_data = _mapping(data["inventory"], "inventory")
    objects = _mapping(inv_data["objects"], "inventory.objects")
    for key, items in objects.items():
        if not isinstance(items, list):
            raise TypeError(f"inventory.objects.{key} is not a list of objects")
        for index, obj in enumerate(() if shape_checked and key in TOP_LEVEL_FIELDS else items):
            problem = malformed(obj, key)
            if problem:
                raise TypeError(f"inventory.objects.{key}[{index}] {problem}")
        orjson.dumps(items)  # the depth guard (see _check_depth), before shared parts are restored
    coverage = {
        str(k): Coverage.from_dict(_mapping(v, f"coverage.{k}"))
        for k, v in _mapping(data["coverage"], "coverage").items()
    }
    # Kinds a newer k8saudit collects: kept out, so that everything here knows every kind.
    unknown = sorted((set(objects) | set(coverage)) - set(KINDS_BY_KEY))
    objects = {k: v for k, v in objects.items() if k in KINDS_BY_KEY}
    _restore_shared_parts(objects, inv_data.get("same_as_previous") or {}, max_bytes)
    share_pod_templates(objects)  # not written: found again as the collector found it
    coverage = {k: v for k, v in coverage.items() if k in KINDS_BY_KEY}
    applied = _mapping(inv_data.get("applied_api_versions") or {}, "applied_api_versions")
    served = inv_data.get("served_api_versions") or []
    if not isinstance(served, list):
        raise TypeError("inventory.served_api_versions is not a list")
    inventory = Inventory(
        objects,
        coverage,
        ClusterIdentity.from_dict(_mapping(data["cluster"], "cluster")),
        [str(v) for v in served],
        {str(k): {str(n): str(v) for n, v in _mapping(m, k).items()} for k, m in applied.items()},
    )
    findings = data.get("findings") or []
    if not isinstance(findings, list):
        raise TypeError("findings is not a list")
    if not shape_checked:  # read by the generic parser: checked and converted now, leniently
        for i, finding in enumerate(findings):  # in place: each parsed one is freed once converted
            findings[i] = Finding.from_dict(_mapping(finding, "finding"))
    calendar_data = data.get("calendar")
    calendar = (
        ReleaseCalendar.from_dict(calendar_data)
        if isinstance(calendar_data, dict)
        else ReleaseCalendar.shipped()
    )
    collection = CollectionInfo.from_dict(_mapping(data["collection"], "collection"))
    if unknown:
        collection.notes.append(f"ignored kinds this k8saudit does not know: {', '.join(unknown)[:200]}")
    waivers_data = data.get("waivers")
    waivers = WaiverSummary.from_dict(waivers_data) if isinstance(waivers_data, dict) else None
    evaluation = data.get("evaluation")
    fingerprint = evaluation.get("fingerprint") if isinstance(evaluation, dict) else ""
    return Snapshot(
        inventory,
        collection,
        findings,
        calendar,
        waivers=waivers,
        fingerprint=fingerprint if isinstance(fingerprint, str) else "",
    )


def _restore_shared_parts(objects: dict[str, list[Any]], tables: object, budget: int) -> None:
    """Put back the parts sibling objects share (k8saudit.siblings), which may stand for as much
    JSON as the file itself may hold (`budget`, --max-snapshot-size). The objects are
    depth-checked as stored: a restored part has the depth it has where it is written."""
    for key, table in _mapping(tables, "inventory.same_as_previous").items():
        if key not in KINDS_BY_KEY:
            continue  # dropped with its objects
        if key not in objects:
            raise ValueError(f"inventory.same_as_previous.{key} is for objects the file does not have")
        try:
            budget -= siblings.restore(objects[key], table, budget)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"inventory.same_as_previous.{key}: {exc}") from None


def _check_depth(data: dict[str, Any], source: Path | str) -> None:
    """orjson reads 1024 levels of nesting but writes only 254, and k8saudit never writes deeper:
    a deeper part is foreign, and would fail later when rendered or saved again. Checked with
    orjson itself, section by section (C speed, no copy of the whole file at once)."""
    try:
        for key in ("cluster", "coverage", "collection", "calendar", "waivers"):
            orjson.dumps(data.get(key))
        # The findings are decoded structs or Findings by now: only their evidence and waiver can
        # nest. Encoding just those, at the depth they have in the file, each shared evidence
        # once (`_share_evidence`), takes 0.1 s at 100k pods: 0.33 s one per finding.
        findings = data.get("findings") or ()
        evidence = {id(finding.evidence): finding.evidence for finding in findings}
        orjson.dumps([[value] for value in evidence.values()])
        orjson.dumps([[finding.waiver] for finding in findings if finding.waiver is not None])
        # The inventory's objects were checked as they were read (_from_dict).
        orjson.dumps({k: v for k, v in data["inventory"].items() if k != "objects"})
    except orjson.JSONEncodeError as exc:
        raise SnapshotError(f"{source} is not a valid k8saudit snapshot: {_short(exc)}") from None


def _mapping(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"{what} is not an object")
    return value


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return _short(exc)


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]
