"""Hostile cluster text through the TUI, end to end: a replay-server scan whose objects carry
Rich markup, ANSI, OSC 52 and OSC 8 sequences, bidi overrides and megabyte strings in names,
labels, annotations, images, messages, the version and a server error.

`tests/test_tui_hostile.py` shows every screen a synthetic report; here the text comes the real
way in (collector, redaction, checks, findings index) and every screen a user can reach shows it
literally: markup as brackets, escapes as visible `\\x1b`, bidi controls as `\\u202e`, no
hyperlink made of it, and megabyte strings clipped to a bounded length, on screen and in the
whole YAML of a resource.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console
from textual.widgets import Input, Static

from k8saudit.model import Status, Subject
from screens.app import K8sAuditApp
from screens.detail import DetailScreen
from screens.findings import FindingsScreen
from screens.overview import OverviewScreen
from screens.resource import ResourceScreen
from screens.scan import ScanScreen
from screens.text import MAX_LINE
from tests import factories as f
from tests.replay import ReplayServer
from tests.test_tui_hostile import ANSI, BIDI, LINK, MARKUP
from tests.tui_support import SIZE, content_text, make_app, screen_text, wait_for

OSC52 = "\x1b]52;c;ZXZpbA==\x07"  # "evil" to the clipboard
OSC8 = "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\"
HOSTILE = f"{MARKUP}{LINK}{ANSI}{OSC52}{OSC8}{BIDI}"
MEGABYTE = "M" * 1_000_000
SPACED_MEGABYTE = "lorem ipsum " * 85_000  # folds into thousands of lines if nothing clips it
# Each piece as the screen must show it: the characters themselves, escapes made visible.
SHOWN = {
    "markup": "[bold red]x[/]",
    "link": "[link=file:///etc/passwd]click[/link]",
    "ansi": "\\x1b[31mred\\x1b[0m",
    "osc52": "\\x1b]52;c;ZXZpbA==\\x07",
    "osc8": "\\x1b]8;;https://evil.example\\x1b\\click",
    "bidi": "evil\\u202etxt.exe",
}
# In YAML, the escapes are YAML's own (\e, \a): literal, and the YAML stays valid.
YAML_SHOWN = {
    "markup": "markup: '[bold red]x[/]'",
    "link": "link: '[link=file:///etc/passwd]click[/link]'",
    "ansi": 'ansi: "\\e[31mred\\e[0m"',
    "osc52": 'osc52: "\\e]52;c;ZXZpbA==\\a"',
    "osc8": 'osc8: "\\e]8;;https://evil.example\\e\\\\click',
    "bidi": "bidi: evil\\u202etxt.exe",
}
PIECES = {"markup": MARKUP, "link": LINK, "ansi": ANSI, "osc52": OSC52, "osc8": OSC8, "bidi": BIDI}
RAW = ("\x1b", "\x07", "\x9b", "\u202e")

BINDING = f"crb-{MARKUP}-{OSC52}"
SERVICE_ACCOUNT = f"sa-{LINK}"
NODE = f"node-{ANSI}-{BIDI}"
POD = f"pod-{OSC8}-{MARKUP}"
CONFIGMAP = f"cm-{LINK}"
BIG_BINDING = f"big-{MARKUP}{MEGABYTE}"


def serve_hostile_cluster(srv: ReplayServer) -> None:
    srv.set_version(git_version=f"v1.24.0+{HOSTILE}", platform=HOSTILE)
    srv.add_objects(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        [
            f.clusterrolebinding(
                BINDING, "cluster-admin", [f.subject("ServiceAccount", SERVICE_ACCOUNT, "kube-system")]
            ),
            f.clusterrolebinding(
                BIG_BINDING, "cluster-admin", [f.subject("ServiceAccount", MEGABYTE, "default")]
            ),
        ],
    )
    node = f.node(
        NODE,
        kubelet=f"v1.21.0-{HOSTILE}",
        os_image=HOSTILE,
        kernel=HOSTILE,
        runtime=f"containerd://{HOSTILE}",
        labels={**PIECES, "huge": MEGABYTE},
        conditions={"Ready": "False"},
    )
    node["status"]["conditions"][0]["message"] = HOSTILE + SPACED_MEGABYTE
    srv.add_objects("", "v1", "nodes", [node])
    pod = f.pod(
        POD,
        "shop",
        node_name=NODE,
        labels={"app": "hostile"},
        annotations={**PIECES, "blob": MEGABYTE},
        containers=[f.container("app", image=f"registry.example.com/{MARKUP}:1", args=[MEGABYTE])],
        phase="Failed",
    )
    pod["status"]["message"] = HOSTILE
    srv.add_objects("", "v1", "pods", [pod])
    # keys are kept (values are not): every sequence, and a megabyte key
    configmap = f.configmap(CONFIGMAP, "shop", data={**{p: "v" for p in PIECES.values()}, MEGABYTE: "v"})
    srv.add_objects("", "v1", "configmaps", [configmap])
    # an error message from the API server itself, shown as a coverage gap
    srv.fail("/api/v1/secrets", 403, times=None, body={"kind": "Status", "code": 403, "message": HOSTILE})


# -- reading the screens ---------------------------------------------------------------------------


def links_on_screen(app: K8sAuditApp) -> set[str]:
    """Every hyperlink target in what the terminal shows (an OSC 8 or [link] obeyed would be one)."""
    console = Console(
        width=SIZE[0], height=SIZE[1], file=io.StringIO(), force_terminal=True, legacy_windows=False
    )
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    return {seg.style.link for seg in console.render(update) if seg.style is not None and seg.style.link}


class Reader:
    """Reads screens as the terminal shows them; each must be inert, within the terminal's width
    and free of links made from cluster text."""

    def __init__(self, app: K8sAuditApp) -> None:
        self.app = app
        self.count = 0

    def read(self, where: str) -> str:
        text = screen_text(self.app)
        self.inert(where, text)
        assert all(len(line) <= SIZE[0] for line in text.splitlines()), f"{where}: a line overflows"
        links = {link for link in links_on_screen(self.app) if "passwd" in link or "evil" in link}
        assert not links, f"{where}: cluster text became a link: {links}"
        self.count += 1
        return text

    @staticmethod
    def inert(where: str, text: str) -> None:
        for char in RAW:
            assert char not in text, f"{where}: raw {char!r} reached the screen"


def assert_shown(where: str, text: str, pieces: dict[str, str], names: tuple[str, ...]) -> None:
    missing = [name for name in names if pieces[name] not in text]
    assert not missing, f"{where}: not shown literally: {[pieces[n] for n in missing]}"


def assert_bounded(where: str, text: str, limit: int) -> None:
    assert len(text) < limit, f"{where}: {len(text):,} characters"
    assert all(len(line) <= MAX_LINE + 100 for line in text.splitlines()), f"{where}: a line is not clipped"


async def open_finding(
    pilot, app: K8sAuditApp, check_id: str, kind: str, name: str, word: str
) -> DetailScreen:
    """The detail of `check_id` on `kind` `name`, found by filtering on `word`."""
    await pilot.press("x", "slash")
    screen = app.screen
    assert isinstance(screen, FindingsScreen)
    screen.query_one("#filter-text", Input).value = word
    await pilot.press("enter")
    target = next(
        i
        for i in screen.rows_shown
        if screen.index.findings[i].check_id == check_id
        and (screen.index.findings[i].subject.kind, screen.index.findings[i].subject.name) == (kind, name)
    )
    await pilot.press("home", *(["down"] * screen.rows_shown.index(target)), "enter")
    detail = app.screen
    assert isinstance(detail, DetailScreen)
    await pilot.pause()
    return detail


async def evidence_and_yaml(pilot, app: K8sAuditApp, reader: Reader, what: str) -> tuple[str, str]:
    """From a detail: its evidence (scrolled to, and whole), then its subject's YAML (on screen
    and whole). Returns the whole evidence and the whole YAML."""
    detail = app.screen
    assert isinstance(detail, DetailScreen)
    await pilot.press("tab", "end")
    reader.read(f"evidence of {what}")
    evidence = content_text(detail.query_one("#detail-evidence", Static))
    Reader.inert(f"whole evidence of {what}", evidence)
    await pilot.press("shift+tab", "enter")
    resource = app.screen
    assert isinstance(resource, ResourceScreen)
    await pilot.pause()
    reader.read(f"YAML of {what}")
    await pilot.press("end")
    reader.read(f"YAML of {what}, end")
    whole = content_text(resource.query_one("#resource-object", Static))
    Reader.inert(f"whole YAML of {what}", whole)
    return evidence, whole


async def test_hostile_text_from_a_scan_is_shown_literally_and_bounded_on_every_screen(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    serve_hostile_cluster(replay_server)
    kubeconfig = replay_server.write_kubeconfig(tmp_path / "kubeconfig")
    app = make_app(kubeconfig=str(kubeconfig), debounce_s=0.0)
    reader = Reader(app)
    async with app.run_test(size=SIZE) as pilot:
        for tick in range(1500):  # the scan screen, every frame until the overview
            if isinstance(app.screen, OverviewScreen):
                break
            if isinstance(app.screen, ScanScreen):
                reader.read(f"scan ({tick})")
            await pilot.pause(0.02)
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview")
        report = app.report
        assert report is not None
        assert not [x for x in report.findings if x.status is Status.ERROR], "no check broke on the text"

        overview = reader.read("overview")
        assert_shown("overview", overview, SHOWN, ("markup", "link", "ansi"))  # the forbidden kind's reason

        # every page of the findings; long names clipped in their cell
        await pilot.press("f")
        findings = app.screen
        assert isinstance(findings, FindingsScreen)
        pages = [reader.read("findings")]
        for _ in range(len(findings.rows_shown) // (findings.table.size.height - 1) + 1):
            await pilot.press("pagedown")
            pages.append(reader.read("findings, next page"))
        text = "\n".join(pages)
        assert "crb-[bold red]x[/]-\\x1b" in text and "node-\\x1b[31mred\\x1b[0m-evil" in text
        assert re.search(r"big-\[bold red\]x\[/\]M+…", text), "a megabyte name is clipped in its cell"

        # a filter that looks like markup is matched as text
        await pilot.press("slash", *"[bold", "enter")
        matched = {
            (x.check_id, x.subject.name)
            for x in map(findings.index.findings.__getitem__, findings.rows_shown)
        }
        assert {("RBAC-001", BINDING), ("RBAC-001", BIG_BINDING), ("EXP-007", POD)} <= matched
        assert len(matched) < len(findings.index) // 4
        reader.read("findings filtered by '[bold'")

        # RBAC-001 on the binding: markup and an OSC 52 in its name, a [link] in its service account's
        detail = await open_finding(pilot, app, "RBAC-001", "ClusterRoleBinding", BINDING, "crb-")
        text = reader.read("detail of RBAC-001 on the hostile binding")
        assert "crb-[bold red]x[/]-\\x1b]52;c;ZXZpbA==\\x07" in text  # subject, crumbs, table
        assert "sa-[link=file:///etc/passwd]click[/link]" in text  # the message
        _, yaml_text = await evidence_and_yaml(pilot, app, reader, "the hostile binding")
        assert "sa-[link=file:///etc/passwd]click[/link]" in yaml_text
        await pilot.press("escape", "escape")

        # RBAC-001 on the megabyte binding: its name is clipped everywhere it shows
        detail = await open_finding(pilot, app, "RBAC-001", "ClusterRoleBinding", BIG_BINDING, "big-")
        reader.read("detail of RBAC-001 on the megabyte binding")
        subject_line = content_text(detail.query_one("#detail-subject", Static))
        assert_bounded("the detail's subject line", subject_line, 2_000)
        assert "more characters" in subject_line
        evidence, yaml_text = await evidence_and_yaml(pilot, app, reader, "the megabyte binding")
        assert_bounded("the megabyte binding's evidence", evidence, 30_000)
        assert_bounded("the megabyte binding's YAML", yaml_text, 30_000)
        assert "more characters)" in evidence and "more characters)" in yaml_text
        await pilot.press("escape", "escape")

        # NODE-004 on the node: labels with every sequence, a megabyte condition message
        await open_finding(pilot, app, "NODE-004", "Node", NODE, "notready")
        text = reader.read("detail of NODE-004 on the hostile node")
        assert "node-\\x1b[31mred\\x1b[0m-evil\\u202etxt.exe" in text
        evidence, yaml_text = await evidence_and_yaml(pilot, app, reader, "the hostile node")
        assert_bounded("the node's evidence", evidence, 30_000)  # folded to the pane, yet bounded
        assert "more characters)" in evidence
        assert_shown("the node's YAML", yaml_text, YAML_SHOWN, tuple(YAML_SHOWN))
        assert_bounded("the node's YAML", yaml_text, 60_000)
        await pilot.press("escape", "escape")

        # EXP-007 on the pod: annotations with every sequence, a hostile image, a megabyte arg
        await open_finding(pilot, app, "EXP-007", "Pod", POD, "pod-")
        text = reader.read("detail of EXP-007 on the hostile pod")
        assert "pod-\\x1b]8;;https://evil.example\\x1b\\click" in text
        _, yaml_text = await evidence_and_yaml(pilot, app, reader, "the hostile pod")
        assert_shown("the pod's YAML", yaml_text, YAML_SHOWN, tuple(YAML_SHOWN))
        assert "image: registry.example.com/[bold red]x[/]:1" in yaml_text
        assert_bounded("the pod's YAML", yaml_text, 60_000)
        await pilot.press("escape", "escape")

        # the ConfigMap no finding names: its keys carry every sequence, one is a megabyte long
        app.open_subject(Subject("ConfigMap", "shop", CONFIGMAP))
        await pilot.pause()
        text = reader.read("YAML of the hostile ConfigMap")
        assert "cm-[link=file:///etc/passwd]click[/link]" in text  # crumbs and the pane's title
        whole = content_text(app.screen.query_one("#resource-object", Static))
        Reader.inert("whole YAML of the hostile ConfigMap", whole)
        assert "'[bold red]x[/]': <redacted by k8saudit>" in whole and '"\\e]52;c;ZXZpbA==\\a"' in whole
        assert_bounded("the ConfigMap's YAML", whole, 30_000)
        assert "more characters)" in whole
        await pilot.press("escape")

        assert reader.count > 20
        await pilot.press("q")
    assert app.return_code == 0
