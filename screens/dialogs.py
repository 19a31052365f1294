"""Modal dialogs: a file name to open (`PathDialog`) or to write to (`WriteDialog`), the help
listing every key, and loading."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from k8saudit.textsafe import safe_text
from screens.actions import ACTIONS, SCOPE_TITLES, bindings_for, first_key
from screens.base import AuditScreen
from screens.fields import TextField
from screens.messages import FileWritten, WriteFailed

TWO_COLUMNS_FROM = 110  # terminal columns the help needs to show its two columns side by side


class PathDialog(ModalScreen[Path | None]):
    """Ask for a file name. `must_exist` for opening (`allow_dir`: a directory will do too);
    otherwise confirm before overwriting."""

    SCOPE = "dialog"
    BINDINGS = bindings_for("dialog")

    def __init__(
        self, title: str, initial: str, verb: str, *, must_exist: bool = False, allow_dir: bool = False
    ) -> None:
        super().__init__()
        self.allow_dir = allow_dir
        self.title_text = title
        self.initial = initial
        self.verb = verb
        self.must_exist = must_exist
        self._confirmed_overwrite: Path | None = None
        self.writing = False  # a WriteDialog is writing the file

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog") as box:
            box.border_title = self.title_text
            yield TextField(self.initial, id="dialog-path")
            yield Label(f"enter: {self.verb} · esc: cancel", classes="hint")
            yield Static("", id="dialog-problem", classes="error")

    def on_mount(self) -> None:
        field = self.query_one("#dialog-path", Input)
        field.cursor_blink = getattr(self.app, "cursor_blink", True)
        field.focus()

    @on(Input.Submitted, "#dialog-path")
    def _submit(self, event: Input.Submitted) -> None:
        raw = event.value.strip()
        if not raw:
            self.say("Type a file name.")
            return
        path = Path(raw).expanduser()
        if self.must_exist and not (path.is_file() or (self.allow_dir and path.is_dir())):
            if path.is_dir():
                self.say(f"{safe_text(path, 300)} is a directory; type a snapshot file in it.")
            else:
                self.say(f"No such file: {safe_text(path, 300)}")
            return
        if not self.must_exist:
            if path.is_dir():
                self.say(f"{safe_text(path, 300)} is a directory; add a file name.")
                return
            if path.is_file() and self._confirmed_overwrite != path:  # a device: the write refuses it
                self._confirmed_overwrite = path
                self.say(f"{safe_text(path, 300)} exists: press enter again to overwrite it.")
                return
        self.accept(path)

    def say(self, line: str, *, error: bool = True) -> None:
        """Show `line` (plain text, never markup) under the path: a problem, or what is under way."""
        problem = self.query_one("#dialog-problem", Static)
        problem.set_class(error, "error")
        problem.update(Text(line))

    def accept(self, path: Path) -> None:
        """`path` passed the dialog's checks: it is the answer."""
        self.dismiss(path)

    @on(Input.Changed, "#dialog-path")
    def _changed(self) -> None:
        self._confirmed_overwrite = None
        if not self.writing:  # "Writing to …" stays until the write answers
            self.query_one("#dialog-problem", Static).update("")

    def action_cancel(self) -> None:
        self.dismiss(None)


# Writes the file at the path it is given, in a worker thread; posts FileWritten or WriteFailed.
Writer = Callable[[Path, Callable[[Message], object]], None]


class WriteDialog(PathDialog):
    """Ask for a file name and write the file there (`write`, in a worker) while the dialog stays
    open: whatever stops the write (no such directory, permission denied, disk full, a file that
    must not be replaced) is said on its problem line, with the typed path still there to correct.
    Dismissed with the path written."""

    def __init__(self, title: str, initial: str, verb: str, write: Writer) -> None:
        super().__init__(title, initial, verb)
        self.write: Writer | None = write

    def on_unmount(self) -> None:
        self.write = None  # it holds the report: a dialog removed after a heap freeze would keep it

    def accept(self, path: Path) -> None:
        if self.writing or self.write is None:
            return
        self.writing = True
        self.say(f"Writing to {safe_text(path, 300)}…", error=False)
        self.run_worker(
            partial(self.write, path, self.post_message), thread=True, group="write", exit_on_error=False
        )

    def on_file_written(self, message: FileWritten) -> None:
        self.dismiss(message.path)

    def on_write_failed(self, message: WriteFailed) -> None:
        self.writing = False
        self.say(message.reason)
        self.query_one("#dialog-path", Input).focus()

    def action_cancel(self) -> None:
        if not self.writing:  # once the write has started, its answer must reach the dialog
            self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """Every key, from the one action table, grouped by where it works."""

    SCOPE = "help"
    BINDINGS = bindings_for("help")
    # Narrower than this, the two columns go one under the other (`-narrow` in the .tcss).
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-narrow"),
        (TWO_COLUMNS_FROM, "-wide"),
    ]

    LEFT_SCOPES = ("app", "table", "picker", "scan", "fleet", "dialog", "waiver", "choice")

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="dialog") as box:
            box.border_title = "Keys (esc closes)"
            with Horizontal(id="help-columns"):
                with Vertical(classes="help-column"):
                    yield from self._sections([s for s in SCOPE_TITLES if s in self.LEFT_SCOPES])
                with Vertical(classes="help-column"):
                    yield from self._sections([s for s in SCOPE_TITLES if s not in self.LEFT_SCOPES])
                    yield Label("Good to know", classes="section")
                    yield Static(
                        "Filters narrow as you type; enter or esc\n"
                        "returns to the table. Several words must all\n"
                        "match (check, title, subject, message).\n"
                        "Severity and status are always written out.\n"
                        "ctrl+q quits from anywhere, even while typing;\n"
                        "f1 opens this help, even while typing.\n"
                        "tab moves between the tables of a screen.",
                        classes="help-keys",
                        markup=False,
                    )

    def _sections(self, scopes: list[str]) -> ComposeResult:
        keymap = self.app.keymap if hasattr(self.app, "keymap") else {}
        for scope in scopes:
            rows = [a for a in ACTIONS if a.scope == scope]
            if not rows:
                continue
            yield Label(SCOPE_TITLES[scope], classes="section")
            text = Text()
            for action in rows:
                keys = [first_key(action, keymap)]
                if action.id not in keymap:
                    keys += [_pretty(k) for k in action.key.split(",")[1:] if k]
                if text:
                    text.append("\n")
                text.append(f"{' '.join(_pretty(k) for k in keys):<16}", "bold")
                text.append(action.description)
            yield Static(text, classes="help-keys")

    def action_close(self) -> None:
        self.dismiss(None)


_KEY_NAMES = {
    "question_mark": "?",
    "colon": ":",
    "slash": "/",
    "escape": "esc",
    "pagedown": "pgdn",
    "pageup": "pgup",
    "enter": "enter",
}


def _pretty(key: str) -> str:
    return _KEY_NAMES.get(key, key)


class LoadingScreen(AuditScreen):
    """Shown while a snapshot is read and evaluated."""

    SCOPE = "loading"

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what
        self.started = time.monotonic()

    def crumbs(self) -> list[str]:
        return ["Loading"]

    def compose_body(self) -> ComposeResult:
        yield Static(Text(f"Reading and evaluating {safe_text(self.what, 300)}…"), id="loading-text")
        yield Static("elapsed 0 s", id="loading-elapsed")

    def on_mount(self) -> None:
        # A counter that changes once a second instead of an animated indicator: the loading
        # runs in a thread, and repainting an animation many times a second takes the GIL from
        # it (0.6 s of the 10.9 s a 100k-pod snapshot took to open behind a LoadingIndicator).
        self.set_interval(1.0, self._show_elapsed)

    def _show_elapsed(self) -> None:
        seconds = int(time.monotonic() - self.started)
        self.query_one("#loading-elapsed", Static).update(f"elapsed {seconds} s")

    def go_back(self) -> None:
        """Nothing behind it."""
