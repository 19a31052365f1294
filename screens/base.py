"""What every screen shares: the top bar (where am I, which cluster, which data) and the footer."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, Static
from textual.widgets._footer import FooterKey  # not exported; test_tui_review's footer tests guard it

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


CRUMB_GAP = " › "
ORIGIN_GLIMPSE = 20  # cells of the top bar kept for where the data comes from, if it needs them


def fitted_crumbs(crumbs: list[str], room: int) -> list[str]:
    """`crumbs` as they fit in `room` cells (0: unknown, all of them), each after a " › ": the
    first ones give way to one "…", as the last ones say where the reader is; the last one alone
    is cut if it must be. One line, never wrapped away."""

    def width(parts: list[str]) -> int:
        return sum(len(CRUMB_GAP) + cell_len(part) for part in parts)

    if not room or width(crumbs) <= room:
        return crumbs
    kept = list(crumbs)
    while len(kept) > 1 and width(["…", *kept]) > room:
        kept.pop(0)
    fitted = ["…", *kept]
    if width(fitted) > room:  # the last crumb alone is too long: cut it
        spare = room - width(["…", ""])
        fitted[-1] = set_cell_size(fitted[-1], max(1, spare - 1)) + "…" if spare > 1 else "…"
    return fitted


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
        screen = self.screen
        own = screen.origin() if isinstance(screen, AuditScreen) else None
        label = safe_text(app.origin_label() if own is None else own, 200)
        width = self.size.width  # 0 before the first layout: nothing is cut then
        # The crumbs come first (where the reader is); the origin keeps a short glimpse at least.
        room = max(1, width - text.cell_len - 1 - min(len(label) + 1, ORIGIN_GLIMPSE)) if width else 0
        for crumb in fitted_crumbs([safe_text(crumb, 80) for crumb in self.crumbs()], room):
            text.append(CRUMB_GAP)
            text.append(crumb)
        if label:
            self._append_origin(text, label, width)
        return text

    @staticmethod
    def _append_origin(text: Text, label: str, width: int) -> None:
        """`label` right-aligned in what is left of the line, cut to fit; left out if nothing is."""
        if not width:
            text.append(f"   {label}")
            return
        room = width - text.cell_len - 1
        if room < 4:
            return
        if len(label) > room - 2:
            label = label[: room - 3] + "…"
        text.append(" " * max(1, room - len(label)))
        text.append(label)

    def on_resize(self) -> None:
        self.show()


ALWAYS_IN_FOOTER = ("help",)  # the actions the footer never leaves out: `?` lists every key


def footer_key_width(key: Widget) -> int:
    """The cells a key takes in the compact footer: "k Description" (a key without one: "k").
    Anything else a footer may hold (a group of bindings: this app makes none) counts as 0."""
    if not isinstance(key, FooterKey):
        return 0
    label = cell_len(key.key_display)
    return label + (1 + cell_len(key.description) if key.description else 0)


def fitted_keys(keys: list[Widget], room: int) -> list[Widget]:
    """`keys` as they fit in `room` cells, one apart: whole keys, the last ones (the screen's
    own keys come first, then the app's in the order of the action table) left out first, and
    never the help."""
    kept = list(keys)

    def width() -> int:
        return sum(footer_key_width(key) + 1 for key in kept) - 1

    while width() > room:
        droppable = [
            key for key in kept if not (isinstance(key, FooterKey) and key.action in ALWAYS_IN_FOOTER)
        ]
        if not droppable:
            break
        kept.remove(droppable[-1])
    return kept


def typed_in_field(key: Widget, focused: Widget | None) -> bool:
    """A footer key that the focused text field takes as text: shown as the one printable
    character it types ("/", "P"). Textual hides most such bindings itself, but not a priority
    one nor one it cannot name a character for ("slash")."""
    if not isinstance(key, FooterKey) or not isinstance(focused, Input):
        return False
    shown = key.key_display
    return len(shown) == 1 and focused.check_consume_key(key.key, shown)


class FittedFooter(Footer):
    """The keys of the screen on one line, as many as fit whole: Textual's footer cuts the line
    at the terminal's edge, mid-word ("… o Overview f F" at 80 columns). While a text field has
    the focus, the keys it would take as text are left out: they type, they do not act."""

    def __init__(self) -> None:
        super().__init__(compact=True, show_command_palette=False)
        self._fitted_to = 0  # the width the keys were last fitted to

    def compose(self) -> ComposeResult:
        self._fitted_to = self.size.width or self.app.size.width
        focused = self.screen.focused
        keys = [key for key in super().compose() if not typed_in_field(key, focused)]
        yield from fitted_keys(keys, self._fitted_to)

    def on_resize(self, event: events.Resize) -> None:
        if self._bindings_ready and event.size.width != self._fitted_to:
            self.call_after_refresh(self.recompose)


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
        yield FittedFooter()

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
