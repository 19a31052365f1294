"""What every screen shares: the top bar (where am I, which cluster, which data) and the footer."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from k8saudit.diff import Diff
from k8saudit.inventory import Inventory
from k8saudit.report import Report
from k8saudit.textsafe import safe_text
from screens.findings_index import FindingsIndex, IndexedRows

if TYPE_CHECKING:
    from screens.app import K8sAuditApp

# What a screen may hold of a report, each a way to all of it (the index holds the report, the
# report its inventory).
_REPORT_DATA = (Report, Inventory, FindingsIndex, IndexedRows, Diff)


def let_go_of_report_data(node: object) -> None:
    """Drop every reference `node` (a screen or widget being removed) holds to a report.

    Every big build freezes the heap (`k8saudit.heap`): what is alive then is never looked at by
    the cyclic collector again. A screen is a reference cycle (Textual's nodes point at each
    other), so a screen alive at a freeze and removed afterwards is never freed. Whatever it
    still refers to stays with it: after a rescan or another snapshot opened, the previous
    report and its inventory (over a GiB at 100k pods), once per replacement."""
    for name, value in list(vars(node).items()):
        if isinstance(value, _REPORT_DATA):
            setattr(node, name, None)


class TopBar(Static):
    """One line: the product, the breadcrumb of screens, and where the data comes from."""

    def on_mount(self) -> None:
        self.show()

    def show(self) -> None:
        """Say again where the screen is and where its data comes from (the app's state moved)."""
        self.update(self.build())

    def crumbs(self) -> list[str]:
        """The crumbs of every screen from the bottom of the stack up to this bar's screen."""
        crumbs: list[str] = []
        for screen in self.app.screen_stack:
            if isinstance(screen, AuditScreen):
                crumbs.extend(screen.crumbs())
            if screen is self.screen:
                break
        return crumbs

    def build(self) -> Text:
        app: K8sAuditApp = self.app  # type: ignore[assignment]
        text = Text()
        text.append(" k8saudit ", "bold reverse")
        for crumb in self.crumbs():
            text.append(" › ")
            text.append(safe_text(crumb, 80))
        screen = self.screen
        own = screen.origin() if isinstance(screen, AuditScreen) else None
        origin = app.origin_label() if own is None else own
        if origin:
            left = text.cell_len
            room = max(0, self.size.width - left - 1) if self.size.width else 0
            label = safe_text(origin, 200)
            if room and len(label) > room - 2:
                label = label[: max(0, room - 3)] + "…"
            if room:
                text.append(" " * max(1, room - len(label)))
            else:
                text.append("   ")
            text.append(label)
        return text

    def on_resize(self) -> None:
        self.show()


class ScrollingBody(VerticalScroll):
    """What a screen or dialog shows that may be taller than a small terminal (80x24).

    A tab stop (its arrows, page keys, home and end scroll it) only while it has something to
    scroll: in a terminal where everything fits, tab goes from table to table as before."""

    def allow_focus(self) -> bool:
        return self.allow_vertical_scroll


class AuditScreen(Screen[None]):
    """Base class of the app's screens.

    Subclasses set `SCOPE` (their rows in `screens.actions.ACTIONS`) and
    `BINDINGS = bindings_for(SCOPE)`, implement `compose_body()`, and may override `go_back()`.
    """

    SCOPE: ClassVar[str] = ""
    # Lists of positions into the findings index (one per finding shown: 336k at 100k pods),
    # emptied when the screen is removed, as its report data is (`let_go_of_report_data`).
    POSITIONS: ClassVar[tuple[str, ...]] = ()

    @property
    def audit_app(self) -> K8sAuditApp:
        return self.app  # type: ignore[return-value]

    def crumbs(self) -> list[str]:
        """This screen's own step(s) in the breadcrumb of the top bar."""
        return []

    def compose(self) -> ComposeResult:
        yield TopBar(id="topbar")
        yield from self.compose_body()
        yield Footer(compact=True, show_command_palette=False)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def origin(self) -> str | None:
        """What the top bar says about where the data comes from (None: the app's report)."""
        return None

    def on_unmount(self) -> None:
        let_go_of_report_data(self)
        for name in self.POSITIONS:
            setattr(self, name, [])

    def go_back(self) -> None:
        """`esc`: leave this screen (the app's root screens override this to stay)."""
        self.app.pop_screen()

    def index_replaced(self, old: FindingsIndex, new: FindingsIndex) -> None:
        """The waivers were applied again, or the exposure probe answered: `new` replaces `old`
        wherever this screen uses it.

        Both hold the same findings in the same order (only waiver marks and scores, or probe
        results in evidence and messages, differ), so positions into `old.findings` stay valid in
        `new.findings`."""

    def rebuild_later(self, default_focus: str | None = None) -> None:
        """Compose this screen again from its (new) data, keeping the focus on the same widget."""
        focused = self.focused.id if self.focused is not None else None
        self.call_later(self._rebuild, focused or default_focus)

    async def _rebuild(self, focus_id: str | None) -> None:
        await self.recompose()
        if focus_id:
            widgets = self.query(f"#{focus_id}")
            if widgets:
                self.set_focus(widgets.first())
