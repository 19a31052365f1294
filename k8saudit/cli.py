"""The `k8saudit` command line.

Exit codes: 0 ok, 1 usage or input error (bad arguments, unreadable snapshot or waivers file),
2 the cluster cannot be reached or authenticated to, or the kubeconfig does not lead to it (a
fleet: none of them), 3 `--fail-under` not met, 4 `--fail-on` tripped, 5 a fleet scan where some
clusters could not be scanned, 130 interrupted (Ctrl-C). Every failure is one line on stderr, never
a traceback (set K8SAUDIT_DEBUG=1 to see one).
"""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a Ctrl-C
INTERRUPTED = "k8saudit: interrupted\n"

try:  # a Ctrl-C while these load comes before main() can catch it: the same line, no traceback
    import argparse
    import asyncio
    import math
    import os
    import re
    import signal
    import threading
    import time
    from collections.abc import Callable, Coroutine, Iterable, Sequence
    from pathlib import Path
    from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn, TypeVar

    import orjson

    from k8saudit import __version__
    from k8saudit.errors import (
        EXIT_OK,
        EXIT_USAGE,
        ConnectionFailure,
        K8sAuditError,
        SnapshotError,
        UsageError,
    )
    from k8saudit.model import Severity
    from k8saudit.textsafe import dump_json, safe_json, safe_text
except KeyboardInterrupt:
    sys.stderr.write(INTERRUPTED)
    raise SystemExit(EXIT_INTERRUPTED) from None

if TYPE_CHECKING:
    from k8saudit.collector import CollectorSettings
    from k8saudit.fleet import FleetEntry
    from k8saudit.gates import Gates
    from k8saudit.probe import ProbeSettings
    from k8saudit.registry import Config
    from k8saudit.releases import ReleaseCalendar
    from k8saudit.report import Report
    from k8saudit.waivers import WaiverPolicy
    from screens.jobs import WaiverOptions

DEMO_SNAPSHOT = "demo.json.gz"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse would exit 2, which means "cluster"
        raise UsageError(f"{self.prog}: {message}")

    def print_help(self, file: Any = None) -> None:
        """argparse ignores a failed write: `--help > /dev/full` would exit 0 having shown nothing."""
        if file is not None:
            super().print_help(file)
        else:
            _write_text(self.format_help(), "the help")


class _Version(argparse.Action):
    """--version, written as every output is (argparse's own ignores a failed write)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        kwargs.setdefault("help", "show program's version number and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> NoReturn:
        _write_text(f"k8saudit {__version__}\n", "the version")
        parser.exit()


def demo_snapshot_path() -> Path:
    """The demo snapshot shipped in the wheel (k8saudit/snapshots) or in a source checkout."""
    package_dir = Path(__file__).resolve().parent
    for candidate in (
        package_dir / "snapshots" / DEMO_SNAPSHOT,
        package_dir.parent / "snapshots" / DEMO_SNAPSHOT,
    ):
        if candidate.is_file():
            return candidate
    raise UsageError("the demo snapshot is missing from this installation")


def _positive(kind: type, maximum: int | None = None) -> Callable[[str], float | int]:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if isinstance(value, float) and not math.isfinite(value):  # nan compares false with 0
            raise argparse.ArgumentTypeError(f"must be a finite number: {text!r}")
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum}: {text!r}")
        return value

    return parse


def _non_empty(names: str) -> Callable[[str], str]:
    """An argument that must not be empty: `-o "$OUT"` with OUT unset would save under the
    default name, `report ""` read the working directory as a fleet, and `--releases-url
    "$MIRROR"` fetch from the public default in an air-gapped network."""

    def parse(text: str) -> str:
        if not text:
            raise argparse.ArgumentTypeError(f"an empty {names}")
        return text

    return parse


_path = _non_empty("path names no file")
_url = _non_empty("URL names no mirror")


def _add_connection_options(parser: argparse.ArgumentParser, default: object = None) -> None:
    """Accepted before and after the command; `default=SUPPRESS` keeps a subcommand from
    overwriting a value given before it."""
    parser.add_argument(
        "--kubeconfig",
        type=_path,
        default=default,
        help="kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)",
    )
    parser.add_argument(
        "--context",
        default=default,
        help="kubeconfig context (default: the current one; 'in-cluster' in a pod)",
    )


def _add_calendar_options(parser: argparse.ArgumentParser, default: object = None) -> None:
    """Accepted before and after the command, like the connection options (the terminal UI,
    without a command, scans with the calendar fetched before it starts)."""
    parser.add_argument(
        "--refresh-releases",
        action="store_true",
        default=False if default is None else default,
        help="fetch the current Kubernetes release calendar instead of using the data shipped with "
        "k8saudit (offline is the default; a failed fetch falls back and the report says so)",
    )
    parser.add_argument(
        "--releases-url",
        default=default,
        type=_url,
        metavar="URL",
        help="where --refresh-releases fetches from: an endoflife.date-format JSON document "
        "(default: https://endoflife.date/api/kubernetes.json; use a mirror in air-gapped networks)",
    )


def _add_format(parser: argparse.ArgumentParser, choices: Sequence[str] = ("text", "json")) -> None:
    parser.add_argument("--format", choices=choices, default="text", help="output format (default: text)")


REPORT_FORMATS = ("text", "json", "markdown", "sarif", "junit")


def _score_threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"must be between 0 and 100: {text!r}")
    return value


def _add_policy_options(parser: argparse.ArgumentParser, default: object = None) -> None:
    """Accepted before and after the command, like the connection options: the root parser has
    the defaults, a subcommand (`default=SUPPRESS`) only sets what is given after it."""
    flag_default = False if default is None else default
    group = parser.add_argument_group("waivers and settings")
    group.add_argument(
        "--waivers",
        type=_path,
        metavar="PATH",
        default=default,
        help="policy file with waivers and settings (default: ./.k8saudit.toml, "
        "then $XDG_CONFIG_HOME/k8saudit/waivers.toml)",
    )
    group.add_argument(
        "--no-waivers",
        action="store_true",
        default=flag_default,
        help="apply no waiver at all (the file's settings still apply)",
    )
    group.add_argument(
        "--no-annotation-waivers",
        action="store_true",
        default=flag_default,
        help="ignore k8saudit.io/waive annotations on objects",
    )


def _add_gates(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("pipeline gates")
    group.add_argument(
        "--fail-under",
        type=_score_threshold,
        metavar="SCORE",
        help="exit 3 when the overall score is below SCORE (0-100)",
    )
    group.add_argument(
        "--fail-on",
        choices=[s.value for s in Severity],
        metavar="SEVERITY",
        help="exit 4 when an unwaived fail or warn finding of SEVERITY or worse exists "
        "(critical, high, medium, low, info)",
    )


# kube-apiserver builds a whole list page in memory (and the scan holds it whole too) before the
# first byte is sent: a page of 100k pods is gigabytes on a server already under load, and one
# page that large is no paging at all. Ten times the default still pages a 100k-pod cluster in 20.
MAX_PAGE_SIZE = 5000

# kube-apiserver serves every client from about 400 read requests in flight by default, shared
# out by priority and fairness: past a few dozen parallel lists a scan only queues, earns 429s
# and crowds out the controllers the cluster runs on.
MAX_CONCURRENCY = 64

# 1 TiB: more than any snapshot that fits in memory, and the byte count stays a C size.
MAX_SNAPSHOT_MIB = 1024**2


def _add_max_size(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-snapshot-size",
        type=_positive(int, MAX_SNAPSHOT_MIB),
        default=None,
        metavar="MIB",
        help="refuse bigger snapshots (default: 2048)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="k8saudit",
        description="Audit the hardening of a Kubernetes cluster (read-only). "
        "Without a command, opens the terminal UI on the current kubeconfig context.",
    )
    parser.add_argument("--version", action=_Version)
    _add_connection_options(parser)
    _add_policy_options(parser)
    _add_calendar_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    scan = commands.add_parser("scan", help="scan a cluster, print the report and save a snapshot")
    _add_connection_options(scan, argparse.SUPPRESS)
    scan.add_argument(
        "-o",
        "--output",
        type=_path,
        help="snapshot file (.json or .json.gz; default: k8saudit-CONTEXT-TIME.json.gz)",
    )
    scan.add_argument("--no-save", action="store_true", help="do not write a snapshot")
    scan.add_argument(
        "--keep",
        type=_positive(int),
        metavar="N",
        help="keep only the N newest default-named snapshots of this context in the directory",
    )
    _add_format(scan, REPORT_FORMATS)
    scan.add_argument(
        "--concurrency",
        type=_positive(int, MAX_CONCURRENCY),
        default=8,
        help=f"parallel requests (default: 8; at most {MAX_CONCURRENCY}: more only queue at the API server)",
    )
    scan.add_argument(
        "--page-size",
        type=_positive(int, MAX_PAGE_SIZE),
        default=500,
        help=f"objects per list page (default: 500; at most {MAX_PAGE_SIZE}: the API server builds "
        "each page whole in memory, so huge pages load it and defeat paging)",
    )
    scan.add_argument(
        "--timeout", type=_positive(float), default=30.0, help="per-request timeout in seconds (default: 30)"
    )
    scan.add_argument(
        "--deadline", type=_positive(float), default=300.0, help="overall deadline in seconds (default: 300)"
    )
    scan.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    scan.add_argument(
        "--probe",
        action="store_true",
        help="after the checks, send one unauthenticated GET to each external address an exposure "
        "finding names, and record whether it answers without a login (off by default)",
    )
    scan.add_argument(
        "--probe-limit", type=_positive(int), default=None, help="addresses probed at most (default: 20)"
    )
    scan.add_argument(
        "--probe-timeout", type=_positive(float), default=None, help="seconds per probe (default: 3)"
    )
    _add_calendar_options(scan, argparse.SUPPRESS)
    fleet = scan.add_argument_group("a fleet of clusters")
    fleet.add_argument("--all-contexts", action="store_true", help="scan every context of the kubeconfig")
    fleet.add_argument("--contexts", metavar="A,B,C", help="scan these contexts")
    fleet.add_argument(
        "--output-dir",
        type=_path,
        metavar="DIR",
        help="fleet snapshots directory (default: ./k8saudit-fleet-TIME/)",
    )
    fleet.add_argument(
        "--max-clusters", type=_positive(int), default=4, help="clusters scanned at once (default: 4)"
    )
    _add_policy_options(scan, argparse.SUPPRESS)
    _add_gates(scan)

    report = commands.add_parser(
        "report", help="print the report of a saved snapshot, or the table of a fleet directory"
    )
    report.add_argument(
        "snapshot",
        type=_path,
        help="snapshot file (.json or .json.gz; - reads standard input), or a fleet directory",
    )
    _add_format(report, REPORT_FORMATS)
    report.add_argument(
        "--as-recorded",
        action="store_true",
        help="show the findings and their waivers as saved, not re-evaluated",
    )
    _add_max_size(report)
    _add_policy_options(report, argparse.SUPPRESS)
    _add_gates(report)
    _add_calendar_options(report, argparse.SUPPRESS)

    diff = commands.add_parser("diff", help="compare two snapshots: new, resolved and changed findings")
    diff.add_argument(
        "old", type=_path, help="the older snapshot (- reads standard input, for one side only)"
    )
    diff.add_argument("new", type=_path, help="the newer snapshot")
    _add_format(diff)
    diff.add_argument(
        "--as-recorded", action="store_true", help="compare the findings as saved, not re-evaluated"
    )
    _add_max_size(diff)
    _add_policy_options(diff, argparse.SUPPRESS)

    checks = commands.add_parser("checks", help="list the check catalog")
    _add_format(checks, ("text", "markdown", "json"))

    open_ = commands.add_parser(
        "open",
        help="open a saved snapshot, or a fleet directory of them, in the terminal UI (no cluster needed)",
    )
    open_.add_argument(
        "snapshot", type=_path, help="snapshot file (.json or .json.gz), or a directory of them (fleet view)"
    )
    open_.add_argument("--text", action="store_true", help="print the report instead of opening the UI")
    _add_calendar_options(open_, argparse.SUPPRESS)
    _add_policy_options(open_, argparse.SUPPRESS)

    demo = commands.add_parser("demo", help="open the shipped demo snapshot (no cluster needed)")
    demo.add_argument("--text", action="store_true", help="print the report instead of opening the UI")
    _add_calendar_options(demo, argparse.SUPPRESS)
    _add_policy_options(demo, argparse.SUPPRESS)

    rbac = commands.add_parser("rbac", help="print the least-privilege read-only RBAC k8saudit needs")
    rbac.add_argument(
        "--namespace", default="k8saudit", help="namespace of the ServiceAccount (default: k8saudit)"
    )
    rbac.add_argument("--service-account", default="k8saudit", help="ServiceAccount name (default: k8saudit)")
    rbac.add_argument("--no-secrets", action="store_true", help="leave Secrets (metadata) out of the role")

    _add_manifests_parser(commands)
    return parser


def _add_manifests_parser(commands: argparse._SubParsersAction) -> None:
    from k8saudit import manifests as m

    manifests = commands.add_parser(
        "manifests", help="print manifests that run k8saudit in the cluster on a schedule (CronJob)"
    )
    manifests.add_argument(
        "--namespace", default=m.DEFAULT_NAMESPACE, help=f"(default: {m.DEFAULT_NAMESPACE})"
    )
    manifests.add_argument(
        "--schedule", default=m.DEFAULT_SCHEDULE, help=f"cron schedule (default: '{m.DEFAULT_SCHEDULE}')"
    )
    manifests.add_argument(
        "--image", default=m.DEFAULT_IMAGE, help=f"image with k8saudit (default: {m.DEFAULT_IMAGE})"
    )
    manifests.add_argument(
        "--storage", default=m.DEFAULT_STORAGE, help=f"snapshot volume size (default: {m.DEFAULT_STORAGE})"
    )
    manifests.add_argument(
        "--storage-class", help="StorageClass of the volume (default: the cluster's default)"
    )
    manifests.add_argument("--service-account", default=m.NAME, help=f"(default: {m.NAME})")
    manifests.add_argument(
        "--keep",
        type=_positive(int),
        default=m.DEFAULT_KEEP,
        help=f"snapshots kept (default: {m.DEFAULT_KEEP})",
    )
    manifests.add_argument(
        "--waivers-configmap", metavar="NAME", help=f"ConfigMap whose key {m.POLICY_KEY} is the policy file"
    )
    manifests.add_argument(
        "--no-secrets", action="store_true", help="leave Secrets (metadata) out of the role"
    )


# -- commands -----------------------------------------------------------------------------------


def _write_stdout(pieces: Iterable[bytes], what: str = "the report") -> None:
    """Write `pieces` to standard output as they come. A reader that leaves early (`| head`) is
    no error: the output stops and the command goes on to the exit code its gates give. Any other
    failure (a full disk, a closed descriptor) is one line, exit 1."""
    stdout = sys.stdout
    if stdout is None:  # started with standard output closed (`>&-`)
        raise UsageError(f"cannot write {what} to standard output: it is closed")
    try:
        stdout.flush()  # what was written before comes first
        for piece in pieces:  # as it is made: never held whole
            stdout.buffer.write(piece)
        stdout.buffer.flush()
    except BrokenPipeError:
        _discard_stdout()
    except OSError as exc:
        _discard_stdout()
        raise UsageError(f"cannot write {what} to standard output: {exc.strerror or exc}") from None


def _write_text(text: str, what: str = "the report") -> None:
    _write_stdout([text.encode("utf-8", "replace")], what)


def _discard_stdout() -> None:
    """Point standard output at /dev/null: what is still buffered would fail again when Python
    flushes it at exit, with a traceback."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a file descriptor (a test's capture)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _say(line: str, end: str = "\n") -> None:
    """One line on standard error. With `2>&1 | head` the reader may have left: the line is lost,
    not the exit code (a gate's 3 or 4 must not turn into an error about the pipe)."""
    try:
        sys.stderr.write(line + end)
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe or stream, a full disk: there is nowhere to say it
        pass


def _print_report(report: Report, fmt: str) -> None:
    from k8saudit.export import chunks

    _write_stdout(chunks(report, fmt))


def _print_json(data: object, what: str = "the report") -> None:
    _write_stdout([safe_json(dump_json(data, option=orjson.OPT_INDENT_2)) + b"\n"], what)


def _policy(args: argparse.Namespace) -> tuple[Config, WaiverPolicy]:
    """(Config, WaiverPolicy) from the policy file and the waiver flags."""
    from k8saudit.policy import load_policy

    policy = load_policy(args.waivers)
    waivers = policy.waiver_policy(waivers=not args.no_waivers, annotations=not args.no_annotation_waivers)
    return policy.config, waivers


def _gates(args: argparse.Namespace) -> Gates:
    from k8saudit.gates import Gates

    return Gates(args.fail_under, Severity(args.fail_on) if args.fail_on else None)


def _gate_exit(report: Report, gates: Gates) -> int:
    from k8saudit.gates import exit_code, report_gate_failures

    failures = report_gate_failures(report, gates)
    for failure in failures:
        _say(f"k8saudit: gate failed: {failure.message}")
    return exit_code(failures)


def _default_snapshot_name(context: str) -> str:
    """`k8saudit-CONTEXT-YYYYmmdd-HHMMSS.json.gz`; a second scan within the same second is saved
    as `…-HHMMSS-2.json.gz` (`snapshot.numbered_name`)."""
    from k8saudit.report import utcnow
    from k8saudit.snapshot import context_stem

    return f"k8saudit-{context_stem(context)}-{utcnow():%Y%m%d-%H%M%S}.json.gz"


class Pruned(NamedTuple):
    removed: list[Path]
    later: list[Path]  # named after the snapshot just saved: left alone, and said so


def prune_snapshots(directory: Path, context: str, keep: int, saved: Path | None = None) -> Pruned:
    """Delete all but the `keep` newest default-named snapshots of `context` in `directory`.

    The time and the number a same-second scan adds are the end of the name, so the stem before
    them is read back exactly: a context whose name starts like this one's is never matched.
    Names an earlier k8saudit gave (`snapshot.legacy_context_stem`, shared by contexts that
    differ only in the characters it replaced) count only when the file records this context.

    `saved`, the snapshot this scan just wrote, is the newest by definition: it is never
    removed, and a name dated after it (a clock that was ahead, a copied file) neither counts
    among the newest nor is removed."""
    from k8saudit.snapshot import context_stem, legacy_context_stem, recorded_context

    # stem -> whether the file must record `context` to count; a plain name's stems are one
    stems = {legacy_context_stem(context): True, context_stem(context): False}
    ours = []
    for name in _directory_names(directory):
        match = _DEFAULT_NAME.fullmatch(name)
        if match is None or match["stem"] not in stems:
            continue
        if stems[match["stem"]] and recorded_context(directory / name) != context:
            continue
        ours.append(((match["time"], int(match["number"] or 1)), directory / name))
    ours.sort()
    later: list[Path] = []
    if saved is not None:
        newest = next((order for order, path in ours if path.name == saved.name), None)
        if newest is not None:
            later = [path for order, path in ours if order > newest]
            ours = [(order, path) for order, path in ours if order <= newest]
    doomed = [path for _, path in ours[:-keep]]
    for path in doomed:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise SnapshotError(f"cannot remove old snapshot {path}: {exc.strerror or exc}") from None
    return Pruned(doomed, later)


# `_default_snapshot_name`'s names: the stem, the time, and a number for a same-second scan.
_DEFAULT_NAME = re.compile(r"k8saudit-(?P<stem>.+)-(?P<time>\d{8}-\d{6})(?:-(?P<number>\d+))?\.json\.gz")


def _directory_names(directory: Path) -> list[str]:
    try:
        return os.listdir(directory)
    except OSError as exc:  # a write-only (chmod 300) or unreadable directory
        raise SnapshotError(
            f"cannot list {directory} to prune old snapshots (--keep): {exc.strerror or exc}"
        ) from None


def _input_files(args: argparse.Namespace) -> list[Path]:
    """The files a scan reads: its snapshot must never be saved over one of them."""
    from k8saudit.connection import kubeconfig_paths
    from k8saudit.policy import find_policy_file

    policy = find_policy_file(args.waivers)
    return [*kubeconfig_paths(args.kubeconfig), *([policy] if policy else [])]


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before the scan, where a single-cluster scan could not or must not save."""
    from k8saudit.snapshot import check_save_target

    if args.output:
        check_save_target(Path(args.output), _input_files(args))
    if args.keep:  # the directory whose old snapshots are pruned must be listable
        _directory_names(Path(args.output).parent if args.output else Path("."))


def _check_scan_args(args: argparse.Namespace) -> bool:
    """True for a fleet scan; usage errors for options that do not go together."""
    fleet = bool(args.all_contexts or args.contexts)
    if args.all_contexts and args.contexts:
        raise UsageError("scan: --all-contexts and --contexts do not go together")
    if fleet and args.context:
        raise UsageError("scan: --context names one cluster; use --contexts A,B for several")
    if fleet and args.output:
        raise UsageError("scan: a fleet scan writes one snapshot per cluster; use --output-dir")
    if fleet and args.format not in ("text", "json"):
        raise UsageError("scan: a fleet scan prints its table as --format text or json")
    if fleet and args.keep:
        raise UsageError("scan: --keep applies to single-cluster scans")
    if not fleet and args.output_dir:
        raise UsageError("scan: --output-dir is for fleet scans (--all-contexts, --contexts)")
    if args.no_save and (args.output or args.output_dir):  # one of the two is a mistake: say which
        raise UsageError("scan: --no-save writes no snapshot; -o and --output-dir name where to write one")
    if args.keep and (args.output or args.no_save):
        raise UsageError("scan: --keep prunes default-named snapshots; it does not go with -o or --no-save")
    return fleet


def _refresh_calendar(
    args: argparse.Namespace, fallback: ReleaseCalendar, fallback_name: str
) -> tuple[ReleaseCalendar | None, list[str]]:
    """(calendar, notes) for --refresh-releases: the fetched calendar, or `fallback` with a note
    saying why; (None, []) when no refresh was asked for."""
    if not args.refresh_releases:
        if args.releases_url:
            raise UsageError("--releases-url needs --refresh-releases")
        return None, []
    from k8saudit.releases import ENDOFLIFE_URL, refresh_calendar

    # refresh_calendar refuses a malformed URL in one line, never echoing its credentials.
    calendar, note = refresh_calendar(fallback, fallback_name, args.releases_url or ENDOFLIFE_URL)
    return calendar, [note]


def cmd_scan(args: argparse.Namespace) -> int:
    from k8saudit.collector import CollectorSettings
    from k8saudit.fleet import nothing_read
    from k8saudit.releases import ReleaseCalendar
    from k8saudit.scan import probe_report, scan_cluster

    fleet = _check_scan_args(args)
    config, waivers = _policy(args)
    gates = _gates(args)
    settings = CollectorSettings(
        concurrency=args.concurrency,
        page_size=args.page_size,
        request_timeout_s=args.timeout,
        deadline_s=args.deadline,
    )
    calendar, notes = _refresh_calendar(args, ReleaseCalendar.shipped(), "the shipped calendar")
    if fleet:
        if args.probe:
            raise UsageError("scan: --probe scans one cluster at a time; leave out --all-contexts/--contexts")
        return _scan_fleet(args, settings, config, waivers, gates, calendar, notes)
    probe = _probe_settings(args)
    progress = None if args.quiet else _progress_for_stderr()

    async def scan_then_probe() -> Report:
        report = await scan_cluster(
            args.kubeconfig,
            args.context,
            settings,
            progress,
            config=config,
            calendar=calendar,
            notes=notes,
            waivers=waivers,
        )
        if probe is not None:
            await probe_report(report, probe)
        return report

    if not args.no_save:
        _check_outputs(args)
    try:
        report = _run_async(scan_then_probe())
    finally:  # a failed or interrupted scan's line must not run into the error's
        if progress:
            progress.clear()
    if unread := nothing_read(report):  # as a fleet scan says of the same cluster
        raise ConnectionFailure(f"{unread}; no report and no snapshot")
    # Saved before printing, so a reader that leaves early loses no snapshot; printed before a
    # failed save is reported, so a full disk loses no report.
    saved, save_error = None, None
    if not args.no_save:
        try:
            saved = _save_scan(report, args)
        except SnapshotError as exc:
            save_error = exc
    _print_report(report, args.format)
    if save_error is not None:
        raise save_error
    if saved is not None and args.keep:
        _prune_old_snapshots(saved, report.inventory.cluster.context, args.keep)
    return _gate_exit(report, gates)


def _save_scan(report: Report, args: argparse.Namespace) -> Path:
    from k8saudit.snapshot import save

    if args.output:
        path = save(report, args.output)
    else:  # never over another scan's snapshot, even one taken in the same second
        path = save(report, _default_snapshot_name(report.inventory.cluster.context), exclusive=True)
    _say(f"Snapshot saved to {safe_text(path)}")
    return path


def _prune_old_snapshots(saved: Path, context: str, keep: int) -> None:
    """--keep, after the report: a snapshot that cannot be removed is a warning, never the
    scan's outcome (the gates decide the exit code)."""
    try:
        pruned = prune_snapshots(saved.parent, context, keep, saved)
        for old in pruned.removed:
            _say(f"Removed old snapshot {safe_text(old)}")
        for later in pruned.later:
            _say(
                f"k8saudit: warning: {safe_text(later)} is named after the snapshot just saved "
                "(a clock ahead?): not counted by --keep, and left alone"
            )
    except SnapshotError as exc:
        _say(f"k8saudit: warning: {safe_text(exc.message, 300)}")


_Result = TypeVar("_Result")


def _run_async(coroutine: Coroutine[Any, Any, _Result]) -> _Result:
    """asyncio.run, except that Ctrl-C cancels every task, not only the main one: a list left
    running after the scan's HTTP client closed would fail and print "Task exception was never
    retrieved". A second Ctrl-C stops at once, as with asyncio.run. Raises KeyboardInterrupt
    after a Ctrl-C, however the coroutine ended."""
    with asyncio.Runner() as runner:
        loop = runner.get_loop()
        if (
            threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler  # e.g. ignored
        ):
            return runner.run(coroutine)
        presses = 0

        def on_interrupt(signum: int, frame: object) -> None:
            nonlocal presses
            presses += 1
            if presses > 1:
                raise KeyboardInterrupt
            loop.call_soon_threadsafe(_cancel_all_tasks, loop)  # from the loop, not mid-step

        signal.signal(signal.SIGINT, on_interrupt)
        try:
            result = runner.run(coroutine)
        except BaseException:
            if presses:  # a cancelled scan ends in whatever error its cancellation caused
                raise KeyboardInterrupt from None
            raise
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        if presses:
            raise KeyboardInterrupt
        return result


def _cancel_all_tasks(loop: asyncio.AbstractEventLoop) -> None:
    for task in asyncio.all_tasks(loop):
        task.cancel()


def _scan_fleet(
    args: argparse.Namespace,
    settings: CollectorSettings,
    config: Config,
    waivers: WaiverPolicy,
    gates: Gates,
    calendar: ReleaseCalendar | None,
    notes: list[str],
) -> int:
    from k8saudit.fleet import (
        cluster_scanner,
        default_output_dir,
        scan_fleet,
        select_contexts,
    )

    names = [n.strip() for n in (args.contexts or "").split(",") if n.strip()]
    if args.contexts is not None and not names:
        raise UsageError("scan: --contexts needs at least one context name")
    try:
        contexts = select_contexts(args.kubeconfig, args.all_contexts, names)
    except UsageError as exc:  # a context the kubeconfig lacks: exit 2, as `--context` (connection.py)
        raise ConnectionFailure(exc.message) from None
    output_dir = None if args.no_save else Path(args.output_dir) if args.output_dir else default_output_dir()

    def on_done(entry: FleetEntry) -> None:
        if entry.ok:
            score = "n/a" if entry.overall is None else f"{entry.overall:.1f}"
            _say(f"ok   {safe_text(entry.context, 80)}: {entry.grade} {score}")
        else:
            _say(f"FAIL {safe_text(entry.context, 80)}: {safe_text(entry.error, 300)}")

    scan_one = cluster_scanner(args.kubeconfig, settings, config, waivers, calendar, notes)
    entries = _run_async(
        scan_fleet(
            contexts,
            scan_one,
            output_dir,
            max_parallel=args.max_clusters,
            on_done=None if args.quiet else on_done,
        )
    )
    return _print_fleet(entries, output_dir, args.format, gates)


def _print_fleet(entries: list[FleetEntry], directory: Path | None, fmt: str, gates: Gates) -> int:
    from k8saudit.fleet import fleet_dict, fleet_exit_code, render_fleet_text

    if fmt == "json":
        _print_json(fleet_dict(entries, directory))
    else:
        _write_text(render_fleet_text(entries, directory))
    code, messages = fleet_exit_code(entries, gates)
    for message in messages:
        _say(f"k8saudit: {message}")
    return code


def _probe_settings(args: argparse.Namespace) -> ProbeSettings | None:
    from k8saudit.probe import ProbeSettings

    if not args.probe:
        if args.probe_limit is not None or args.probe_timeout is not None:
            raise UsageError("--probe-limit and --probe-timeout need --probe")
        return None
    defaults = ProbeSettings()
    return ProbeSettings(
        limit=args.probe_limit or defaults.limit, timeout_s=args.probe_timeout or defaults.timeout_s
    )


# A terminal that shows \r and escape sequences as text (Emacs' shell, some CI log viewers) says so
# with TERM=dumb; without TERM at all nothing says it understands them either.
_DUMB_TERMINALS = ("", "dumb")
PLAIN_PROGRESS_EVERY_S = 5.0  # a dumb terminal gets a new line at most this often: a log, not a flood


def _progress_for_stderr() -> _ProgressLine | None:
    """The progress display standard error can show: none for a file or a pipe (a log would
    fill with counts), plain lines for a dumb terminal, one line rewritten in place otherwise."""
    if not sys.stderr.isatty():
        return None
    return _ProgressLine(rewrite=os.environ.get("TERM", "") not in _DUMB_TERMINALS)


class _ProgressLine:
    """The scan's progress on stderr: one self-rewriting line, or with `rewrite=False` plain
    lines (no carriage return, no escape sequence) at most every PLAIN_PROGRESS_EVERY_S seconds
    and the last count at the end."""

    def __init__(self, rewrite: bool = True, clock: Callable[[], float] = time.monotonic) -> None:
        self.rewrite = rewrite
        self.clock = clock
        self.total = 0
        self.done = 0
        self.objects: dict[str, int] = {}
        self.shown = ""  # the last plain line written
        self.next_plain_at = -math.inf

    def __call__(self, event: object) -> None:
        from k8saudit.collector import KindFinished, PageReceived, ScanStarted

        if isinstance(event, ScanStarted):
            self.total = len(event.kinds)
        elif isinstance(event, PageReceived):
            self.objects[event.key] = event.objects
        elif isinstance(event, KindFinished):
            self.done += 1
        if self.rewrite:
            _say(f"\r{self._text()} ", end="")
        elif self.clock() >= self.next_plain_at:
            self._plain_line()

    def _text(self) -> str:
        return f"Scanning: {self.done}/{self.total} kinds, {sum(self.objects.values()):,} objects"

    def _plain_line(self) -> None:
        self.next_plain_at = self.clock() + PLAIN_PROGRESS_EVERY_S
        if (text := self._text()) != self.shown:
            _say(text)
            self.shown = text

    def clear(self) -> None:
        """Erase the line, so that what follows starts clean; a plain display ends on the last
        count instead (a line written cannot be taken back)."""
        if self.rewrite:
            _say("\r\x1b[K", end="")
        elif self.shown:
            self._plain_line()


def _max_bytes(args: argparse.Namespace) -> int:
    from k8saudit.snapshot import DEFAULT_MAX_BYTES

    return args.max_snapshot_size * 1024**2 if args.max_snapshot_size else DEFAULT_MAX_BYTES


def _check_as_recorded(args: argparse.Namespace) -> None:
    if args.as_recorded and (args.waivers or args.no_waivers or args.no_annotation_waivers):
        raise UsageError(
            "--as-recorded shows the waivers as they were saved; "
            "--waivers, --no-waivers and --no-annotation-waivers do not apply to it"
        )
    if args.as_recorded and args.refresh_releases:
        raise UsageError(
            "--as-recorded shows the findings as they were judged, with the calendar saved in the "
            "snapshot; --refresh-releases does not apply to it"
        )


def cmd_report(args: argparse.Namespace) -> int:
    from k8saudit.snapshot import STDIN, load

    _check_as_recorded(args)
    config, waivers = _policy(args)
    gates = _gates(args)
    if args.snapshot != STDIN and _is_directory(Path(args.snapshot)):
        return _report_fleet(args, config, waivers, gates)
    snapshot = load(args.snapshot, _max_bytes(args))
    calendar, notes = _refresh_calendar(args, snapshot.calendar, "the calendar saved in the snapshot")
    report = snapshot.report(as_recorded=args.as_recorded, config=config, waivers=waivers, calendar=calendar)
    report.collection.notes.extend(notes)
    _print_report(report, args.format)
    return _gate_exit(report, gates)


def _report_fleet(args: argparse.Namespace, config: Config, waivers: WaiverPolicy, gates: Gates) -> int:
    from k8saudit.fleet import load_fleet
    from k8saudit.releases import ReleaseCalendar

    if args.format not in ("text", "json"):
        raise UsageError("report: a fleet directory prints its table as --format text or json")
    calendar, notes = _refresh_calendar(args, ReleaseCalendar.shipped(), "the shipped calendar")
    for note in notes:
        _say(f"k8saudit: {safe_text(note, 300)}")
    entries = load_fleet(
        args.snapshot,
        config=config,
        waivers=waivers,
        as_recorded=args.as_recorded,
        max_bytes=_max_bytes(args),
        calendar=calendar,
    )
    return _print_fleet(entries, Path(args.snapshot), args.format, gates)


# The names of standard input as a path: `-`, and what the system calls it.
_STDIN_PATHS = ("-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0")


def cmd_diff(args: argparse.Namespace) -> int:
    from k8saudit.diff import diff_snapshots, render_diff_text

    if args.old in _STDIN_PATHS and args.new in _STDIN_PATHS:  # the second would find it empty
        raise UsageError("diff: only one of the two snapshots can be read from standard input")
    _check_as_recorded(args)
    config, waivers = _policy(args)
    diff = diff_snapshots(
        args.old,
        args.new,
        as_recorded=args.as_recorded,
        config=config,
        waivers=waivers,
        max_bytes=_max_bytes(args),
    )
    if args.format == "json":
        _print_json(diff.to_dict(), "the comparison")
    else:
        _write_text(render_diff_text(diff), "the comparison")
    return EXIT_OK


def cmd_manifests(args: argparse.Namespace) -> int:
    from k8saudit.manifests import CronJobOptions, manifests_yaml

    options = CronJobOptions(
        namespace=args.namespace,
        schedule=args.schedule,
        image=args.image,
        storage=args.storage,
        storage_class=args.storage_class,
        service_account=args.service_account,
        include_secrets=not args.no_secrets,
        keep=args.keep,
        waivers_configmap=args.waivers_configmap,
    )
    _write_text(manifests_yaml(options), "the manifests")
    return EXIT_OK


def cmd_checks(args: argparse.Namespace) -> int:
    from k8saudit.catalog import catalog_json, catalog_markdown, catalog_text

    render = {"text": catalog_text, "markdown": catalog_markdown, "json": catalog_json}[args.format]
    _write_text(render(), "the catalog")
    return EXIT_OK


def _tui_waivers(args: argparse.Namespace) -> WaiverOptions:
    """The TUI's waiver options from the flags; the policy file is read once here so that a bad
    one is the CLI's one-line error (exit 1) before the UI starts."""
    from screens.jobs import WaiverOptions

    _policy(args)
    return WaiverOptions(args.waivers, not args.no_waivers, not args.no_annotation_waivers)


def cmd_demo(args: argparse.Namespace) -> int:
    return _open_snapshot(args, demo_snapshot_path(), demo=True)


def _is_directory(path: Path) -> bool:
    """Whether `path` is a directory; one that cannot even be looked at (a parent without
    search permission, a name too long) is a one-line error, not a traceback."""
    try:
        return path.is_dir()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None


def cmd_open(args: argparse.Namespace) -> int:
    path = Path(args.snapshot)
    if args.snapshot == "-":  # "no such file: -" would send the reader looking for a file named so
        raise UsageError(
            "open reads a snapshot file, not standard input; print one from it with: k8saudit report -"
        )
    if _is_directory(path):
        return _open_fleet(args, path)
    if not path.is_file():
        if path.exists():  # a pipe (`open <(...)`): the UI may read the file again, a pipe gives it once
            raise UsageError(
                f"open reads a snapshot file; {path} is not a regular file (print it with: k8saudit report)"
            )
        raise UsageError(f"no such snapshot file or directory: {path}")
    return _open_snapshot(args, path)


def _open_snapshot(args: argparse.Namespace, path: Path, demo: bool = False) -> int:
    """The TUI on a snapshot file, or its text report without a terminal (or with --text)."""
    from k8saudit.snapshot import load

    saved_calendar = "the calendar saved in the demo" if demo else "the calendar saved in the snapshot"
    if args.text or not _tui_available():
        snapshot = load(path)
        config, waivers = _policy(args)
        calendar, notes = _refresh_calendar(args, snapshot.calendar, saved_calendar)
        report = snapshot.report(calendar=calendar, config=config, waivers=waivers)
        report.collection.notes.extend(notes)
        _print_report(report, "text")
        return EXIT_OK
    options = _tui_waivers(args)
    if args.refresh_releases:
        calendar, notes = _refresh_calendar(args, load(path).calendar, saved_calendar)
        return _run_tui(
            snapshot=path,
            demo=demo,
            calendar=calendar,
            notes=notes,
            waivers=options,
            kubeconfig=args.kubeconfig,
        )
    return _run_tui(snapshot=path, demo=demo, waivers=options, kubeconfig=args.kubeconfig)


def _open_fleet(args: argparse.Namespace, directory: Path) -> int:
    """`open DIR`: the fleet view (or, without a terminal, the fleet table `report DIR` prints)."""
    from k8saudit.fleet import load_fleet
    from k8saudit.gates import Gates
    from k8saudit.releases import ReleaseCalendar

    calendar, notes = _refresh_calendar(args, ReleaseCalendar.shipped(), "the shipped calendar")
    for note in notes:
        _say(f"k8saudit: {safe_text(note, 300)}")
    if args.text or not _tui_available():
        config, waivers = _policy(args)
        entries = load_fleet(directory, config=config, waivers=waivers, calendar=calendar)
        return _print_fleet(entries, directory, "text", Gates())
    return _run_tui(
        fleet=directory, calendar=calendar, waivers=_tui_waivers(args), kubeconfig=args.kubeconfig
    )


def cmd_rbac(args: argparse.Namespace) -> int:
    from k8saudit.access import reader_manifests, to_yaml
    from k8saudit.manifests import check_identity

    check_identity(args.namespace, args.service_account)  # before any YAML is printed
    identity = reader_manifests(args.namespace, args.service_account, not args.no_secrets)
    _write_text(to_yaml(identity), "the manifests")
    return EXIT_OK


def _tui_available() -> bool:
    try:
        import screens.app  # noqa: F401
    except ImportError:
        return False
    return sys.stdout.isatty()


def _run_tui(**kwargs: object) -> int:
    from screens.app import run_app

    return run_app(**kwargs)


def cmd_tui(args: argparse.Namespace) -> int:
    if not _tui_available():
        build_parser().print_help()
        return EXIT_OK
    from k8saudit.releases import ReleaseCalendar

    calendar, notes = _refresh_calendar(args, ReleaseCalendar.shipped(), "the shipped calendar")
    return _run_tui(
        kubeconfig=args.kubeconfig,
        context=args.context,
        waivers=_tui_waivers(args),
        calendar=calendar,
        notes=notes,
    )


def _stop_at_next_interrupt() -> None:
    """After a Ctrl-C, another one ends the process at once: Python's shutdown may still wait
    for a worker thread (a DNS lookup, an exec plugin), and interrupting that prints a traceback."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_DFL)


COMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    None: cmd_tui,
    "scan": cmd_scan,
    "report": cmd_report,
    "checks": cmd_checks,
    "open": cmd_open,
    "demo": cmd_demo,
    "rbac": cmd_rbac,
    "diff": cmd_diff,
    "manifests": cmd_manifests,
}


def run() -> NoReturn:
    """The `k8saudit` command. A Ctrl-C that lands as main() returns, its own handler left
    behind, is the same one line, and one after that ends the process at once: never a
    traceback at exit."""
    try:
        code = main()
    except KeyboardInterrupt:
        _say(INTERRUPTED, end="")
        code = EXIT_INTERRUPTED
    _stop_at_next_interrupt()
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except K8sAuditError as exc:
        _say(f"k8saudit: error: {safe_text(exc.message, 500)}")
        return exc.exit_code
    except KeyboardInterrupt:
        _stop_at_next_interrupt()
        _say(INTERRUPTED, end="")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # a write `_write_stdout` does not make (help text, stderr)
        _discard_stdout()
        return EXIT_USAGE  # the outcome could not be told: never 0, which would pass a gate
    except Exception as exc:  # the last line of defence: one line, no traceback
        if os.environ.get("K8SAUDIT_DEBUG"):
            raise
        _say(f"k8saudit: internal error: {type(exc).__name__}: {safe_text(exc, 300)}")
        return EXIT_USAGE
