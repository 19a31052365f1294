"""The `k8saudit` command line.

Exit codes: 0 ok, 1 usage or input error (bad arguments, unreadable snapshot), 2 the cluster
cannot be reached or authenticated to. Every failure is one line on stderr, never a traceback
(set K8SAUDIT_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import orjson

from k8saudit import __version__
from k8saudit.errors import EXIT_OK, EXIT_USAGE, K8sAuditError, UsageError
from k8saudit.textsafe import safe_text

if TYPE_CHECKING:
    from k8saudit.releases import ReleaseCalendar

DEMO_SNAPSHOT = "demo.json.gz"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse would exit 2, which means "cluster"
        raise UsageError(f"{self.prog}: {message}")


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


def _positive(kind: type) -> Callable[[str], float | int]:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
        return value

    return parse


def _add_connection_options(parser: argparse.ArgumentParser, default: object = None) -> None:
    """Accepted before and after the command; `default=SUPPRESS` keeps a subcommand from
    overwriting a value given before it."""
    parser.add_argument(
        "--kubeconfig", default=default, help="kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)"
    )
    parser.add_argument(
        "--context",
        default=default,
        help="kubeconfig context (default: the current one; 'in-cluster' in a pod)",
    )


def _add_calendar_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--refresh-releases",
        action="store_true",
        help="fetch the current Kubernetes release calendar instead of using the data shipped with "
        "k8saudit (offline is the default; a failed fetch falls back and the report says so)",
    )
    parser.add_argument(
        "--releases-url",
        default=None,
        metavar="URL",
        help="where --refresh-releases fetches from: an endoflife.date-format JSON document "
        "(default: https://endoflife.date/api/kubernetes.json; use a mirror in air-gapped networks)",
    )


def _add_format(parser: argparse.ArgumentParser, choices: Sequence[str] = ("text", "json")) -> None:
    parser.add_argument("--format", choices=choices, default="text", help="output format (default: text)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="k8saudit",
        description="Audit the hardening of a Kubernetes cluster (read-only). "
        "Without a command, opens the terminal UI on the current kubeconfig context.",
    )
    parser.add_argument("--version", action="version", version=f"k8saudit {__version__}")
    _add_connection_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    scan = commands.add_parser("scan", help="scan a cluster, print the report and save a snapshot")
    _add_connection_options(scan, argparse.SUPPRESS)
    scan.add_argument(
        "-o", "--output", help="snapshot file (.json or .json.gz; default: k8saudit-CONTEXT-TIME.json.gz)"
    )
    scan.add_argument("--no-save", action="store_true", help="do not write a snapshot")
    _add_format(scan)
    scan.add_argument("--concurrency", type=_positive(int), default=8, help="parallel requests (default: 8)")
    scan.add_argument(
        "--page-size", type=_positive(int), default=500, help="objects per list page (default: 500)"
    )
    scan.add_argument(
        "--timeout", type=_positive(float), default=30.0, help="per-request timeout in seconds (default: 30)"
    )
    scan.add_argument(
        "--deadline", type=_positive(float), default=300.0, help="overall deadline in seconds (default: 300)"
    )
    scan.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    _add_calendar_options(scan)

    report = commands.add_parser("report", help="print the report of a saved snapshot (no cluster needed)")
    report.add_argument("snapshot", help="snapshot file (.json or .json.gz)")
    _add_format(report)
    report.add_argument(
        "--as-recorded", action="store_true", help="show the findings as saved, not re-evaluated"
    )
    report.add_argument(
        "--max-snapshot-size",
        type=_positive(int),
        default=None,
        metavar="MIB",
        help="refuse bigger snapshots (default: 2048)",
    )
    _add_calendar_options(report)

    checks = commands.add_parser("checks", help="list the check catalog")
    _add_format(checks, ("text", "markdown", "json"))

    demo = commands.add_parser("demo", help="open the shipped demo snapshot (no cluster needed)")
    demo.add_argument("--text", action="store_true", help="print the report instead of opening the UI")
    _add_calendar_options(demo)

    rbac = commands.add_parser("rbac", help="print the least-privilege read-only RBAC k8saudit needs")
    rbac.add_argument(
        "--namespace", default="k8saudit", help="namespace of the ServiceAccount (default: k8saudit)"
    )
    rbac.add_argument("--service-account", default="k8saudit", help="ServiceAccount name (default: k8saudit)")
    rbac.add_argument("--no-secrets", action="store_true", help="leave Secrets (metadata) out of the role")
    return parser


# -- commands -----------------------------------------------------------------------------------


def _print_report(report: object, fmt: str) -> None:
    from k8saudit.render import render_text, report_dict

    if fmt == "json":
        sys.stdout.buffer.write(orjson.dumps(report_dict(report), option=orjson.OPT_INDENT_2) + b"\n")
    else:
        sys.stdout.write(render_text(report))


def _default_snapshot_name(context: str) -> str:
    from k8saudit.report import utcnow

    safe_context = re.sub(r"[^A-Za-z0-9._-]+", "_", context).strip("._") or "cluster"
    return f"k8saudit-{safe_context[:60]}-{utcnow():%Y%m%d-%H%M%S}.json.gz"


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

    url = args.releases_url or ENDOFLIFE_URL
    if not re.match(r"^https?://[^\s/]+", url):
        raise UsageError(f"--releases-url must be an http(s) URL, not {url[:80]!r}")
    calendar, note = refresh_calendar(fallback, fallback_name, url)
    return calendar, [note]


def cmd_scan(args: argparse.Namespace) -> int:
    from k8saudit.collector import CollectorSettings
    from k8saudit.releases import ReleaseCalendar
    from k8saudit.scan import scan_cluster
    from k8saudit.snapshot import save

    settings = CollectorSettings(
        concurrency=args.concurrency,
        page_size=args.page_size,
        request_timeout_s=args.timeout,
        deadline_s=args.deadline,
    )
    calendar, notes = _refresh_calendar(args, ReleaseCalendar.shipped(), "the shipped calendar")
    progress = None if args.quiet or not sys.stderr.isatty() else _ProgressLine()
    report = asyncio.run(
        scan_cluster(args.kubeconfig, args.context, settings, progress, calendar=calendar, notes=notes)
    )
    if progress:
        progress.clear()
    _print_report(report, args.format)
    if not args.no_save:
        path = save(report, args.output or _default_snapshot_name(report.inventory.cluster.context))
        print(f"Snapshot saved to {safe_text(path)}", file=sys.stderr)
    return EXIT_OK


class _ProgressLine:
    """One self-rewriting line on stderr while a scan runs."""

    def __init__(self) -> None:
        self.total = 0
        self.done = 0
        self.objects: dict[str, int] = {}

    def __call__(self, event: object) -> None:
        from k8saudit.collector import KindFinished, PageReceived, ScanStarted

        if isinstance(event, ScanStarted):
            self.total = len(event.kinds)
        elif isinstance(event, PageReceived):
            self.objects[event.key] = event.objects
        elif isinstance(event, KindFinished):
            self.done += 1
        sys.stderr.write(
            f"\rScanning: {self.done}/{self.total} kinds, {sum(self.objects.values()):,} objects "
        )
        sys.stderr.flush()

    def clear(self) -> None:
        sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()


def cmd_report(args: argparse.Namespace) -> int:
    from k8saudit.snapshot import DEFAULT_MAX_BYTES, load

    max_bytes = args.max_snapshot_size * 1024**2 if args.max_snapshot_size else DEFAULT_MAX_BYTES
    snapshot = load(args.snapshot, max_bytes)
    calendar, notes = _refresh_calendar(args, snapshot.calendar, "the calendar saved in the snapshot")
    report = snapshot.report(as_recorded=args.as_recorded, calendar=calendar)
    report.collection.notes.extend(notes)
    _print_report(report, args.format)
    return EXIT_OK


def cmd_checks(args: argparse.Namespace) -> int:
    from k8saudit.catalog import catalog_json, catalog_markdown, catalog_text

    render = {"text": catalog_text, "markdown": catalog_markdown, "json": catalog_json}[args.format]
    sys.stdout.write(render())
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from k8saudit.snapshot import load

    path = demo_snapshot_path()
    if args.text or not _tui_available():
        snapshot = load(path)
        calendar, notes = _refresh_calendar(args, snapshot.calendar, "the calendar saved in the demo")
        report = snapshot.report(calendar=calendar)
        report.collection.notes.extend(notes)
        _print_report(report, "text")
        return EXIT_OK
    if args.refresh_releases:
        calendar, notes = _refresh_calendar(args, load(path).calendar, "the calendar saved in the demo")
        return _run_tui(snapshot=path, calendar=calendar, notes=notes)
    return _run_tui(snapshot=path)


def cmd_rbac(args: argparse.Namespace) -> int:
    from k8saudit.access import reader_manifests, to_yaml

    sys.stdout.write(to_yaml(reader_manifests(args.namespace, args.service_account, not args.no_secrets)))
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
    return _run_tui(kubeconfig=args.kubeconfig, context=args.context)


COMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    None: cmd_tui,
    "scan": cmd_scan,
    "report": cmd_report,
    "checks": cmd_checks,
    "demo": cmd_demo,
    "rbac": cmd_rbac,
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except K8sAuditError as exc:
        print(f"k8saudit: error: {safe_text(exc.message, 500)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("k8saudit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK  # `k8saudit report x | head`: the reader left, nothing is wrong
    except Exception as exc:  # the last line of defence: one line, no traceback
        if os.environ.get("K8SAUDIT_DEBUG"):
            raise
        print(f"k8saudit: internal error: {type(exc).__name__}: {safe_text(exc, 300)}", file=sys.stderr)
        return EXIT_USAGE
