"""Secrets never leave the cluster, through the TUI: canaries planted in a Secret's data, a Pod's
env literal, a last-applied annotation holding a Secret manifest, a ConfigMap outside the
allow-list and the kubeconfig's credentials (a bearer token; a client key in the client-cert
variant) never appear on any screen, in the snapshot saved from the TUI or in its JSON export.

The cluster is the HTTPS replay API server with the canaries of `tests/test_secrets_never_leave.py`
(the CLI's side of the same promise). Every screen is walked by keys and read as the terminal
shows it (`screen_text`), scrolled end to end where it scrolls; resource views are also read
whole (`content_text`), including the parts off screen.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml
from textual.widgets import Input, Static

from k8saudit.model import Subject
from k8saudit.redact import REDACTED
from screens.app import K8sAuditApp
from screens.detail import DetailScreen
from screens.dialogs import HelpScreen, PathDialog
from screens.findings import FindingsScreen
from screens.overview import OverviewScreen
from screens.picker import ContextPickerScreen
from screens.resource import ResourceScreen
from screens.scan import ScanScreen
from screens.table import RowTable
from tests.replay import ReplayServer
from tests.test_secrets_never_leave import CANARIES, assert_clean, files_under, plant, serve_full_secrets
from tests.tui_support import SIZE, content_text, make_app, open_dialog, screen_text, wait_for

# Findings the scan makes about the planted objects: (check, kind, name), all in namespace shop.
NAMING = (
    ("VER-009", "Secret", "applied"),  # the Secret whose last-applied manifest holds a canary
    ("DNS-014", "Pod", "leaky"),  # the Pod with the env literal and the secret-looking flags
    ("EXP-007", "Deployment", "api"),  # the Deployment with env literals in spec and last-applied
)
# Objects no finding names: their YAML is opened directly.
UNNAMED = (Subject("Secret", "shop", "canary"), Subject("ConfigMap", "shop", "app-config"))


class Seen:
    """Every screen text read during a test, by where it was read."""

    def __init__(self, app: K8sAuditApp, credentials: tuple[str, ...]) -> None:
        self.app = app
        self.credentials = credentials
        self.texts: dict[str, str] = {}

    def read(self, where: str) -> str:
        text = screen_text(self.app)
        self.check(where, text)
        return text

    def check(self, where: str, text: str) -> None:
        self.texts[where] = text
        assert_clean(f"the TUI's {where}", text, self.credentials)


def kubeconfig_for(variant: str, srv: ReplayServer, path: Path) -> tuple[Path, tuple[str, ...]]:
    """The kubeconfig, and the credentials in it that must never show (beyond the canaries)."""
    if variant == "cert":
        kubeconfig = srv.write_kubeconfig(path, auth="cert")
        user = yaml.safe_load(kubeconfig.read_text())["users"][0]["user"]
        key_pem = base64.b64decode(user["client-key-data"]).decode()
        key_lines = [line for line in key_pem.splitlines() if line and not line.startswith("-----")]
        return kubeconfig, (*key_lines, user["client-key-data"])
    return srv.write_kubeconfig(path, token=CANARIES["kubeconfig token"]), ()


async def scan_in_the_tui(pilot, app: K8sAuditApp, seen: Seen) -> None:
    """Until the overview: every frame of the picker and scan screens read on the way."""
    for tick in range(1500):
        if isinstance(app.screen, OverviewScreen):
            await pilot.pause()
            return
        if isinstance(app.screen, ScanScreen | ContextPickerScreen):
            seen.read(f"{type(app.screen).__name__} ({tick})")
        await pilot.pause(0.02)
    raise AssertionError("the scan did not reach the overview")


async def read_scrolled(pilot, seen: Seen, where: str, table: RowTable | None = None) -> None:
    """Read a screen page by page: the focused table (or pane) scrolled from top to bottom."""
    seen.read(f"{where}, top")
    if table is not None:
        for page in range(1, len(table.source) // max(1, table.size.height - 1) + 2):
            await pilot.press("pagedown")
            seen.read(f"{where}, page {page}")
    else:
        await pilot.press("end")
        seen.read(f"{where}, end")


async def open_finding(pilot, app: K8sAuditApp, check_id: str, kind: str, name: str) -> DetailScreen:
    await pilot.press("x", "slash")
    screen = app.screen
    assert isinstance(screen, FindingsScreen)
    screen.query_one("#filter-text", Input).value = f"{check_id} shop/{name}"  # typing is tested elsewhere
    await pilot.press("enter")
    target = next(
        i
        for i in screen.rows_shown
        if (f := screen.index.findings[i]).check_id == check_id and f.subject == Subject(kind, "shop", name)
    )
    await pilot.press("home", *(["down"] * screen.rows_shown.index(target)), "enter")
    detail = app.screen
    assert isinstance(detail, DetailScreen)
    return detail


async def read_resource(pilot, app: K8sAuditApp, seen: Seen, subject: Subject) -> str:
    screen = app.screen
    assert isinstance(screen, ResourceScreen) and screen.subject == subject
    await pilot.pause()
    await read_scrolled(pilot, seen, f"YAML of {subject}")
    whole = content_text(screen.query_one("#resource-object", Static))
    seen.check(f"whole YAML of {subject}", whole)
    assert f"name: {subject.name}" in whole, "the object itself is shown"
    return whole


@pytest.mark.parametrize("variant", ["token", "cert", "server-sends-values"])
async def test_no_canary_on_any_screen_nor_in_what_the_tui_writes(
    replay_server: ReplayServer, tmp_path: Path, variant: str
) -> None:
    plant(replay_server)
    if variant == "server-sends-values":
        serve_full_secrets(replay_server)
    kubeconfig, credentials = kubeconfig_for(variant, replay_server, tmp_path / "kubeconfig")
    out = tmp_path / "out"
    out.mkdir()
    app = make_app(kubeconfig=str(kubeconfig), debounce_s=0.0)
    seen = Seen(app, credentials)
    async with app.run_test(size=SIZE) as pilot:
        await scan_in_the_tui(pilot, app, seen)
        assert any(key.startswith("ScanScreen") for key in seen.texts), "the scan screen was read"
        overview = seen.read("overview")
        assert f"live · {replay_server.url}" in overview

        # the findings: unfiltered, every page; then filtered by text, namespace and status
        await pilot.press("f")
        findings = app.screen
        assert isinstance(findings, FindingsScreen)
        await read_scrolled(pilot, seen, "findings", findings.table)
        await pilot.press("slash", *"shop", "enter")
        await read_scrolled(pilot, seen, "findings filtered by 'shop'", findings.table)
        await pilot.press("x", "n")
        namespaces = findings.index.namespaces()
        await pilot.press(*(["down"] * (namespaces.index("shop") + 1)), "enter")
        await pilot.pause()
        assert findings.filter.namespace == "shop"
        await read_scrolled(pilot, seen, "findings in namespace shop", findings.table)
        await pilot.press("t", "down", "enter")  # fail + warn
        await pilot.pause()
        seen.read("findings in shop, failing or warning")

        # the detail of findings naming the planted objects (scrolled to the evidence), and
        # each object's YAML from there
        if variant != "server-sends-values":  # that server's only Secret is "full": none is named
            for check_id, kind, name in NAMING:
                await open_finding(pilot, app, check_id, kind, name)
                await pilot.pause()
                seen.read(f"detail of {check_id} on {kind} shop/{name}")
                await pilot.press("tab", "end")  # the detail pane, scrolled to the evidence
                seen.read(f"evidence of {check_id} on {kind} shop/{name}")
                detail = app.screen
                assert isinstance(detail, DetailScreen)
                seen.check(
                    f"whole evidence of {check_id}", content_text(detail.query_one("#detail-evidence"))
                )
                await pilot.press("shift+tab", "enter")
                yaml_text = await read_resource(pilot, app, seen, Subject(kind, "shop", name))
                if kind == "Pod":
                    assert "API_TOKEN" in yaml_text, "the env var's name is kept, its value is not"
                    assert REDACTED in yaml_text, "the screen shows where the value was"
                await pilot.press("escape", "escape")
            for subject in UNNAMED:
                app.open_subject(subject)
                await pilot.pause()
                yaml_text = await read_resource(pilot, app, seen, subject)
                if subject.kind == "ConfigMap":
                    assert "DATABASE_URL" in yaml_text and "keystore" in yaml_text, "keys are kept"
                await pilot.press("escape")
        else:
            full = Subject("Secret", "shop", "full")
            app.open_subject(full)
            await pilot.pause()
            await read_resource(pilot, app, seen, full)
            await pilot.press("escape")

        # help, the palette, the context picker
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        seen.read("help")
        await pilot.press("escape", "colon")
        await pilot.pause(0.2)
        seen.read("command palette")
        await pilot.press("escape", "c")
        await wait_for(pilot, lambda: isinstance(app.screen, ContextPickerScreen), "the picker")
        await wait_for(pilot, lambda: bool(app.screen.shown), "the contexts")
        seen.read("context picker")
        await pilot.press("escape")
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview again")

        # the save and export dialogs, and what they write
        snapshot, exported = out / "snap.json.gz", out / "report.json"
        for key, path in (("s", snapshot), ("e", exported)):
            dialog = await open_dialog(pilot, app, key, PathDialog)
            seen.read(f"{key} dialog")
            dialog.query_one(Input).value = str(path)
            await pilot.press("enter")
            await wait_for(pilot, path.exists, f"{path.name}")
            await pilot.pause()
            seen.read(f"after {key}")
    written = files_under(out)
    assert set(written) == {str(snapshot), str(exported)}
    for path, text in written.items():
        assert_clean(path, text, credentials)
    assert "API_TOKEN" in written[str(snapshot)], "the snapshot holds the objects, without the values"
    assert len(seen.texts) > 25
