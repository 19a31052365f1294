"""Text from the cluster is data: markup, links, ANSI/OSC escapes and bidi overrides in names,
labels, annotations, messages and evidence are shown literally on every screen, never obeyed.

These use a synthetic report; `tests/test_tui_hostile_scan.py` brings the same kind of text in
through a real scan of the replay API server, with megabyte strings."""

from __future__ import annotations

from pathlib import Path

import yaml

from k8saudit.inventory import Coverage
from k8saudit.model import Finding, Status, Subject
from k8saudit.probe import PROBE_TARGETS
from screens.detail import DetailScreen
from screens.findings import FindingsScreen
from screens.overview import OverviewScreen
from screens.picker import ContextPickerScreen
from screens.probe import ProbeDialog
from screens.resource import ResourceScreen
from screens.waivers import WaiverDialog
from tests import factories as f
from tests.replay import closed_port_url
from tests.tui_support import SIZE, build_report, make_app, screen_text, wait_for

MARKUP = "[bold red]x[/]"
LINK = "[link=file:///etc/passwd]click[/link]"
ANSI = "\x1b[31mred\x1b[0m"
OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"
BIDI = "evil\u202etxt.exe"
HOSTILE = (MARKUP, LINK, ANSI, OSC52, BIDI)
# how each must appear on screen
SHOWN = ("[bold red]x[/]", "[link=file:///etc/passwd]", "\\x1b[31mred", "\\x1b]52;c;", "evil\\u202etxt.exe")
# in YAML, escapes are YAML's own double-quoted escapes (\e, \a): still literal, still valid YAML
YAML_SHOWN = (
    "'[bold red]x[/]'",
    "'[link=file:///etc/passwd]click[/link]'",
    '"\\e[31mred',
    '"\\e]52;c;',
    "evil\\u202e",
)
RAW_CONTROLS = ("\x1b", "\x07", "\u202e")


def hostile_report():
    labels = {"team": MARKUP, "osc": OSC52}
    annotations = {"note": LINK, "colour": ANSI, "bidi": BIDI}
    pods = [
        f.pod(
            f"pod-{i}",
            "shop",
            labels={**labels, "app": f"pod-{i}"},
            annotations=annotations,
            containers=[f.container("app", image=f"registry.example/{MARKUP}:1")],
        )
        for i in range(len(HOSTILE))
    ]
    inventory = f.make_inventory(pods=pods, namespaces=[f.namespace("shop")])
    inventory.cluster.context = f"ctx-{MARKUP}-{ANSI}"
    inventory.coverage["secrets"] = Coverage("forbidden", message=f"forbidden by {LINK} {OSC52}")
    findings = [
        Finding(
            "RES-102",
            Status.FAIL,
            Subject("Pod", "shop", f"pod-{i}"),
            f"container image is {text}",
            {"label": text, "nested": {"values": [text]}},
        )
        for i, text in enumerate(HOSTILE)
    ]
    findings.append(Finding("RES-101", Status.FAIL, Subject("Deployment", MARKUP, BIDI), ANSI, {"x": OSC52}))
    return build_report(inventory, findings, notes=[f"note {MARKUP} {OSC52}"])


def assert_literal(text: str, *, expect: tuple[str, ...] = SHOWN) -> None:
    for raw in RAW_CONTROLS:
        assert raw not in text, f"raw control {raw!r} reached the screen"
    missing = [shown for shown in expect if shown not in text]
    assert not missing, f"not shown literally: {missing}"


async def test_every_screen_shows_hostile_text_literally() -> None:
    app = make_app(report=hostile_report())
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, OverviewScreen)
        text = screen_text(app)
        assert "ctx-[bold red]x[/]-\\x1b[31m" in text  # top bar and cluster panel
        assert "note [bold red]x[/] \\x1b]52;c;" in text  # collection notes
        assert "forbidden by [link=file:///etc/passwd]" in text  # coverage gap message
        assert_literal(text, expect=("[bold red]x[/]",))

        await pilot.press("f")
        assert isinstance(app.screen, FindingsScreen)
        assert_literal(screen_text(app))

        # the namespace picker lists the hostile namespace as text
        await pilot.press("n")
        assert_literal(screen_text(app), expect=("[bold red]x[/]",))
        await pilot.press("escape", "escape")

        # filtering by a markup-looking word matches it as plain text
        await pilot.press("slash", *"[bold", "enter")
        shown = [app.screen.index.findings[i] for i in app.screen.rows_shown]
        assert shown and all(MARKUP in (f.message + str(f.subject)) for f in shown)
        await pilot.press("x")

        screen = app.screen
        for i, shown in enumerate(SHOWN):
            row = next(
                p
                for p, k in enumerate(screen.rows_shown)
                if screen.index.findings[k].subject.name == f"pod-{i}"
            )
            await pilot.press("home", *(["down"] * row), "enter")
            assert isinstance(app.screen, DetailScreen)
            assert_literal(screen_text(app), expect=(shown,))  # message and evidence
            await pilot.press("enter")  # the subject's YAML: labels, annotations, image
            assert isinstance(app.screen, ResourceScreen)
            assert_literal(screen_text(app), expect=YAML_SHOWN)
            await pilot.press("escape", "escape")
        await pilot.press("q")


async def test_hostile_context_names_in_the_picker(tmp_path: Path) -> None:
    name = f"prod-{MARKUP}-{ANSI}-{BIDI}"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": LINK, "cluster": {"server": closed_port_url()}}],
        "users": [{"name": OSC52, "user": {"token": "sekret-token-value"}}],
        "contexts": [{"name": name, "context": {"cluster": LINK, "user": OSC52}}],
        "current-context": name,
    }
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(config))
    app = make_app(kubeconfig=str(path))
    async with app.run_test(size=SIZE) as pilot:

        def failed_back_in_the_picker() -> bool:
            return isinstance(app.screen, ContextPickerScreen) and bool(app.screen.failures)

        await wait_for(pilot, failed_back_in_the_picker, "the failed scan", tries=1500)
        text = screen_text(app)
        assert_literal(
            text, expect=("prod-[bold red]x[/]-\\x1b[31m", "[link=file:")
        )  # cluster column is narrow
        assert "sekret-token-value" not in text


async def test_border_titles_show_cluster_text_literally() -> None:
    """Textual reads a `str` border title as markup: a resource named `[link=…]` became a link,
    and an unbalanced one crashed the app. Titles naming a subject or a recorded check id (a
    snapshot may hold any text there) are built as Text."""
    subject = Subject("Deployment", "shop", f"web-{LINK}-[b")
    findings = [
        Finding(
            "RES-101",
            Status.FAIL,
            subject,
            "runs 1 replica",
            {PROBE_TARGETS: [{"url": "http://203.0.113.9/"}]},
        ),
        Finding(f"X-{MARKUP}[link=", Status.FAIL, subject, "a check this version lacks", {}),
    ]
    inventory = f.make_inventory(
        deployments=[f.deployment(subject.name, "shop", replicas=1)], namespaces=[f.namespace("shop")]
    )
    app = make_app(report=build_report(inventory, findings))
    async with app.run_test(size=SIZE) as pilot:
        for position in range(len(findings)):
            app.open_finding(position)
            await pilot.pause()
            assert isinstance(app.screen, DetailScreen)
            text = screen_text(app)
            assert findings[position].check_id in text  # the pane's and the table's titles
            await pilot.press("enter")  # the resource view: its pane's title is the subject
            assert isinstance(app.screen, ResourceScreen)
            await pilot.pause()
            assert_literal(screen_text(app), expect=(f"Deployment shop/web-{LINK}-[b",))
            await pilot.press("escape", "escape")
        # the waiver and probe dialogs name the subject in their titles too (esc: nothing is sent)
        app.open_finding(0)
        await pilot.pause()
        for key, dialog in (("w", WaiverDialog), ("p", ProbeDialog)):
            await pilot.press(key)
            assert isinstance(app.screen, dialog)
            assert_literal(screen_text(app), expect=(f"on Deployment shop/web-{LINK}-[b",))
            await pilot.press("escape")
