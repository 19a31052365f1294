"""Waivers in the UI: the dialog that writes one for a finding (`w`), and the list of every
waiver with what it did (active, expired, unused).

The dialog validates what it can say in one line (a reason, an owner, an expiry date that is not
past), builds the waiver with `k8saudit.waivers.waiver_for_finding`, and has a worker append it
to the waivers file (`k8saudit.policy.append_waiver`, which keeps the file's comments and other
entries and validates the result). A failure is shown in the dialog, which stays open; success
closes it with the waiver as written, and the app applies the file again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from k8saudit.model import Finding, Status
from k8saudit.registry import CheckMeta
from k8saudit.report import Report, WaiverEffect
from k8saudit.textsafe import safe_text
from k8saudit.waivers import (
    ACTIVE,
    EXPIRED,
    SCOPE_CHECK,
    SCOPE_NAMESPACE,
    SCOPE_SUBJECT,
    UNUSED,
    Waiver,
    WaiverUse,
    is_glob,
    waiver_for_finding,
)
from screens import jobs
from screens.actions import bindings_for
from screens.base import AuditScreen, ScrollingBody, let_go_of_report_data
from screens.fields import TextField
from screens.findings_index import FindingFilter, FindingsIndex
from screens.messages import WaiverEffectWorkedOut, WaiverWriteFailed, WaiverWritten
from screens.table import Column, ListSource, Row, RowTable
from screens.text import title

DEFAULT_DAYS = 90
WORKING = "working out what it changes…"
TALL_FROM = 36  # terminal rows from which the waiver dialog has room for blank lines
_DAYS = re.compile(r"^\+?(\d{1,4})\s*d(ays?)?$", re.IGNORECASE)


def parse_expiry(text: str, today: date) -> date:
    """A date like 2027-02-20, or a number of days from `today` like "90d"; not in the past.

    Raises ValueError with the one line the dialog shows."""
    raw = text.strip()
    days = _DAYS.match(raw)
    if days:
        return today + timedelta(days=int(days.group(1)))
    try:
        expires = date.fromisoformat(raw)
    except ValueError:
        shown = safe_text(raw, 40) or "nothing"
        raise ValueError(
            f"Expires: expected a date like {today + timedelta(days=DEFAULT_DAYS)} or days like 90d, "
            f"got {shown!r}"
        ) from None
    if expires < today:
        raise ValueError(f"Expires: {expires} is in the past (a waiver applies up to its expiry day)")
    return expires


@dataclass(frozen=True, slots=True)
class WaiverRequest:
    """What the dialog needs to know about the finding to waive and where the waiver goes."""

    finding: Finding
    meta: CheckMeta | None
    target: Path  # the waivers file it is appended to
    today: date
    owner: str = ""  # prefilled: the owner of the last waiver written in this session


class ScopeChoice(Widget, can_focus=True):
    """What the waiver covers: one line per choice, the arrows move the choice itself (so what
    is highlighted is what is written; enter is left to the dialog, which writes)."""

    BINDINGS = bindings_for("choice")
    COMPONENT_CLASSES: ClassVar[set[str]] = {"scope-choice--selected"}
    selected: reactive[int] = reactive(0)

    class Changed(Message):
        """Another scope is chosen."""

        def __init__(self, choice: ScopeChoice) -> None:
            super().__init__()
            self.choice = choice

    def __init__(self, choices: list[tuple[str, str]], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.choices = choices

    @property
    def value(self) -> str:
        return self.choices[self.selected][0]

    def validate_selected(self, value: int) -> int:
        return max(0, min(value, len(self.choices) - 1))

    def watch_selected(self) -> None:
        self.post_message(self.Changed(self))

    def render(self) -> Text:
        text = Text()
        style = self.get_component_rich_style("scope-choice--selected", partial=True)
        for i, (_, label) in enumerate(self.choices):
            if i:
                text.append("\n")
            chosen = i == self.selected
            text.append(("(•) " if chosen else "( ) ") + label, style if chosen else "")
        return text

    def action_next(self) -> None:
        self.selected += 1

    def action_previous(self) -> None:
        self.selected -= 1


class WaiverDialog(ModalScreen[Waiver | None]):
    """Reason, owner, expiry, ticket and scope for a waiver of one finding; writes it."""

    SCOPE = "waiver"
    BINDINGS = bindings_for("waiver")
    # A short terminal (80x24) shows the whole form without a blank line; a tall one airs it.
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-short"), (TALL_FROM, "-tall")]

    def __init__(self, request: WaiverRequest, report: Report, label: str | None = None) -> None:
        super().__init__()
        self.request = request
        self.report = report  # the finding's report: what each scope would do to its score
        self.label = label  # names that report when it is not the one shown ("old snapshot")
        self.effects: dict[str, WaiverEffect] = {}  # by scope, worked out when first chosen
        self.working: set[str] = set()  # scopes a worker is working out
        self.writing = False

    def compose(self) -> ComposeResult:
        finding = self.request.finding
        with Vertical(id="waiver-dialog", classes="dialog") as box:
            box.border_title = title(f"Waive {finding.check_id} on {finding.subject}", 120)
            # The form scrolls in a short terminal; the keys and the problem line stay in view.
            with ScrollingBody(classes="dialog-body"):
                yield from self._form()
            with Vertical(classes="dialog-foot"):
                yield Label("enter: write · tab: next field · esc: cancel", classes="hint")
                yield Static("", id="waiver-problem", classes="error")

    def _form(self) -> ComposeResult:
        """What is waived and what that changes first (in view without scrolling at 80x24),
        then who and why, then where it is written."""
        req = self.request
        yield Static(self._about(), id="waiver-about", classes="waiver-section")
        with Horizontal(id="waiver-covers"):
            yield Label("Covers\n↑↓", classes="form-label")
            yield ScopeChoice(self._scopes(), id="waiver-scope")
        yield Static(self._effect_text(SCOPE_SUBJECT), id="waiver-effect", classes="waiver-section")
        with Horizontal(classes="form-line"):
            yield Label("Reason", classes="form-label")
            yield TextField(placeholder="why this risk is accepted", id="waiver-reason", compact=True)
        with Horizontal(classes="form-line"):
            yield Label("Owner", classes="form-label")
            yield TextField(
                req.owner,
                placeholder="who answers for it: a person or a team",
                id="waiver-owner",
                compact=True,
            )
        with Horizontal(classes="form-line"):
            yield Label("Expires", classes="form-label")
            default = req.today + timedelta(days=DEFAULT_DAYS)
            yield TextField(default.isoformat(), id="waiver-expires", compact=True)
            yield Label(f"YYYY-MM-DD or days (default {DEFAULT_DAYS}d)", classes="form-hint")
        with Horizontal(classes="form-line waiver-section"):
            yield Label("Ticket", classes="form-label")
            yield TextField(placeholder="optional: an issue URL or id", id="waiver-ticket", compact=True)
        yield Static(self._where(), id="waiver-target", classes="hint")

    def _about(self) -> Text:
        req = self.request
        finding = req.finding
        about = Text()
        about.append(f"{finding.status.value.upper()}  ", "bold")
        about.append(safe_text(req.meta.title if req.meta else finding.check_id, 200))
        about.append("\n")
        about.append(safe_text(finding.message, 300))
        return about

    def _where(self) -> Text:
        where = Text()
        where.append("Written to ")
        where.append(safe_text(self.request.target, 300), "bold")
        where.append(" (its comments and other entries are kept).")
        return where

    def _scopes(self) -> list[tuple[str, str]]:
        finding = self.request.finding
        subject = finding.subject
        check = finding.check_id
        scopes = [(SCOPE_SUBJECT, safe_text(f"this subject only: {subject}", 120))]
        if subject.namespace:
            scopes.append(
                (SCOPE_NAMESPACE, safe_text(f"every subject of {check} in {subject.namespace}", 120))
            )
        scopes.append((SCOPE_CHECK, f"every subject of {check} (the whole check)"))
        return scopes

    def on_mount(self) -> None:
        blink = getattr(self.app, "cursor_blink", True)
        for field in self.query(Input):
            field.cursor_blink = blink
        self.query_one("#waiver-reason", Input).focus()
        self.preview(self.query_one("#waiver-scope", ScopeChoice).value)

    def on_unmount(self) -> None:
        let_go_of_report_data(self)  # a dialog removed after a heap freeze would keep the report

    # -- what it changes ---------------------------------------------------------------------------

    def preview(self, scope: str) -> None:
        """Show what a waiver covering `scope` would do to the score: at once when worked out
        before, else "working…" while a worker works it out (0.1 s at 100k pods: typing must not
        wait for it). Each scope is worked out once, however often it is chosen."""
        self._show_effect(scope)
        if scope in self.effects or scope in self.working:
            return
        self.working.add(scope)
        req = self.request
        self.run_worker(
            partial(
                jobs.work_out_waiver_effect, self.report, req.finding, scope, req.today, self.post_message
            ),
            thread=True,
            group="waiver-effect",
            exit_on_error=False,
        )

    def on_waiver_effect_worked_out(self, message: WaiverEffectWorkedOut) -> None:
        self.working.discard(message.scope)
        if message.effect is not None:
            self.effects[message.scope] = message.effect
        # A scope chosen since then keeps its own preview: this one is only kept for later.
        if message.scope == self.query_one("#waiver-scope", ScopeChoice).value:
            self._show_effect(message.scope, message.reason)

    def _show_effect(self, scope: str, problem: str = "") -> None:
        self.query_one("#waiver-effect", Static).update(self._effect_text(scope, problem))

    def _effect_text(self, scope: str, problem: str = "") -> Text:
        """What `scope` does to the score, after the report it is worked out on: a finding of a
        comparison's other side is previewed on its own report, which is then not the one shown."""
        report = self.report
        text = Text()
        text.append(safe_text(report.inventory.cluster.context or "cluster", 60))
        text.append(f", collected {report.collection.finished_at:%Y-%m-%d %H:%M} UTC")
        if self.label:
            text.append(f" ({self.label}, not the report shown)")
        text.append(": ")
        effect = self.effects.get(scope)
        if effect is not None:
            text.append(effect.describe(), "bold")
        elif problem:
            text.append(f"what it changes could not be worked out: {problem}", "bold")
        else:
            text.append(WORKING, "dim")
        return text

    @on(ScopeChoice.Changed)
    def _scope_changed(self, event: ScopeChoice.Changed) -> None:
        self.preview(event.choice.value)
        if event.choice.has_focus:  # not when it is first shown: the reason field has the focus
            self.query_one("#waiver-effect", Static).scroll_visible(animate=False)

    # -- writing --------------------------------------------------------------------------------

    def _problem(self, text: str, field_id: str | None = None) -> None:
        problem = self.query_one("#waiver-problem", Static)
        problem.set_class(True, "error")
        problem.update(Text(text))
        if field_id:
            self.query_one(f"#{field_id}").focus()

    def _value(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value.strip()

    def build(self) -> Waiver | None:
        """The waiver the form describes, or None after saying (in one line) what is missing."""
        req = self.request
        reason, owner = self._value("waiver-reason"), self._value("waiver-owner")
        if not reason:
            self._problem("Reason: say why this risk is accepted.", "waiver-reason")
            return None
        if not owner:
            self._problem("Owner: name who answers for this risk (a person or a team).", "waiver-owner")
            return None
        try:
            expires = parse_expiry(self._value("waiver-expires"), req.today)
        except ValueError as exc:
            self._problem(str(exc), "waiver-expires")
            return None
        scope = self.query_one("#waiver-scope", ScopeChoice).value
        return waiver_for_finding(
            req.finding,
            reason=reason,
            owner=owner,
            expires=expires,
            ticket=self._value("waiver-ticket"),
            scope=scope,
        )

    def action_write(self) -> None:
        if self.writing:
            return
        waiver = self.build()
        if waiver is None:
            return
        self.writing = True
        problem = self.query_one("#waiver-problem", Static)
        problem.set_class(False, "error")
        problem.update(Text(f"Writing to {safe_text(self.request.target, 300)}…"))
        self.run_worker(
            partial(jobs.write_waiver, self.request.target, waiver, self.post_message),
            thread=True,
            group="waiver",
            exit_on_error=False,
        )

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_write()

    @on(Input.Changed)
    def _changed(self) -> None:
        if not self.writing:
            self.query_one("#waiver-problem", Static).update("")

    def on_waiver_written(self, message: WaiverWritten) -> None:
        self.dismiss(message.waiver)

    def on_waiver_write_failed(self, message: WaiverWriteFailed) -> None:
        self.writing = False
        self._problem(message.reason)

    def action_cancel(self) -> None:
        if not self.writing:  # once the write has started, its result must reach the app
            self.dismiss(None)


# -- the list ------------------------------------------------------------------------------------

WAIVER_COLUMNS = (
    Column("state", "State", width=8),
    Column("check", "Check", width=10),
    Column("covers", "Covers", ratio=3, min_width=16),
    Column("findings", "Findings", width=13, drop_rank=1),
    Column("owner", "Owner", width=16, drop_rank=2),
    Column("expires", "Expires", width=10),
    Column("reason", "Reason", ratio=4, min_width=16),
)
STATE_ORDER = {EXPIRED: 0, UNUSED: 1, ACTIVE: 2}  # what needs attention first
STATE_TONES = {EXPIRED: "fail", UNUSED: "warn", ACTIVE: "ok"}


def findings_cell(use: WaiverUse) -> str:
    if use.state == EXPIRED:
        return f"would waive {use.would_waive}"
    return f"waives {use.waived}" if use.waived else "waives none"


class WaiversScreen(AuditScreen):
    """Every waiver the shown report was evaluated with: expired first, then unused, then active."""

    SCOPE = "waivers"
    BINDINGS = bindings_for("waivers")

    def __init__(self, report: Report, index: FindingsIndex) -> None:
        super().__init__()
        self.report = report
        self.index = index
        self.uses = self._ordered()

    def _ordered(self) -> list[WaiverUse]:
        uses = self.report.waivers.uses
        return sorted(uses, key=lambda u: STATE_ORDER[u.state])  # stable: file order within a state

    def crumbs(self) -> list[str]:
        return ["Waivers"]

    def compose_body(self) -> ComposeResult:
        yield Static(self._summary(), id="waivers-summary")
        table = RowTable(
            WAIVER_COLUMNS,
            ListSource(self._rows()),
            empty_text="No waiver: press w on a failing finding to accept its risk until a date.",
            id="waivers",
        )
        table.border_title = self._title()
        yield table
        with Vertical(id="waiver-detail", classes="panel") as panel:
            panel.border_title = "Selected waiver (enter: the findings of its check)"
            yield Static(id="waiver-detail-text")
        yield Static(
            self._invalid(), id="waivers-invalid", classes="" if self.report.waivers.invalid else "empty"
        )

    def on_mount(self) -> None:
        self.query_one("#waivers", RowTable).focus()
        self._show(0)

    def _title(self) -> str:
        summary = self.report.waivers
        waived = f"{summary.waived} finding" + ("" if summary.waived == 1 else "s")
        return (
            f"Waivers ({len(summary.uses)}): {len(summary.expired)} expired · {len(summary.unused)} unused · "
            f"{len(summary.active)} active, waiving {waived}"
        )

    def _summary(self) -> Table:
        """Label and value, a value too long for the line wrapping under itself, not under its
        label (the expiry line does at 80 columns)."""
        app = self.audit_app
        summary = self.report.waivers
        lines = Table.grid()
        lines.add_column(style="bold", no_wrap=True, width=len("waivers file  "))
        lines.add_column()
        if not app.waiver_options.waivers:
            source = "none: waivers are off (--no-waivers)"
        elif summary.source:
            source = safe_text(summary.source, 300)
        else:
            source = f"none in effect; w writes to {safe_text(app.waiver_target(), 300)}"
        lines.add_row("waivers file", Text(source))
        annotations = (
            "k8saudit.io/waive annotations on objects are honoured"
            if summary.annotations
            else "ignored (--no-annotation-waivers or --no-waivers)"
        )
        lines.add_row("annotations", Text(annotations))
        as_of = summary.as_of.isoformat() if summary.as_of else "the day the report was evaluated"
        lines.add_row(
            "expiry", Text(f"judged as of {as_of}; a waiver applies up to and including its expiry day")
        )
        if self.report.as_recorded:
            lines.add_row("", Text("shown as recorded in the snapshot, not re-evaluated", "bold"))
        return lines

    def _rows(self) -> list[Row]:
        rows = []
        for use in self.uses:
            w = use.waiver
            rows.append(
                Row(
                    (
                        use.state,
                        w.check,
                        w.scope,
                        findings_cell(use),
                        w.owner or "—",
                        w.expires.isoformat() if w.expires else "never",
                        w.reason,
                    ),
                    (STATE_TONES[use.state],),
                )
            )
        return rows

    def _invalid(self) -> Text:
        text = Text()
        for problem in self.report.waivers.invalid:
            text.append("\n" if text else "")
            text.append("invalid annotation waiver: ", "bold")
            text.append(safe_text(problem, 300))
        return text

    def _show(self, position: int) -> None:
        detail = self.query_one("#waiver-detail-text", Static)
        if not self.uses:
            detail.update(Text("—"))
            return
        use = self.uses[position]
        w = use.waiver
        rows = [
            (
                "state",
                f"{use.state}: {findings_cell(use)}" + (f"; {use.why_unused}" if use.state == UNUSED else ""),
            ),
            ("check", w.check),
            ("covers", w.scope),
            ("reason", w.reason),
            ("owner", w.owner or "—"),
            ("expires", w.expires.isoformat() if w.expires else "never (an annotation without an expiry)"),
            ("ticket", w.ticket or "—"),
            ("written in", w.source or w.origin),
        ]
        if use.note:
            rows.append(("note", use.note))
        text = Text()
        for i, (label, value) in enumerate(rows):
            text.append("\n" if i else "")
            text.append(f"{label:<11}", "bold")
            text.append(safe_text(value, 500))
        detail.update(text)

    @on(RowTable.Highlighted, "#waivers")
    def _highlighted(self, event: RowTable.Highlighted) -> None:
        self._show(event.index)

    @on(RowTable.Selected, "#waivers")
    def _open(self, event: RowTable.Selected) -> None:
        check = self.uses[event.index].waiver.check
        if is_glob(check):
            check = re.split(r"[*?\[]", check, maxsplit=1)[0]  # "RBAC-*": every RBAC- check
        self.audit_app.open_findings(FindingFilter(text=check.lower()))

    def index_replaced(self, old: FindingsIndex, new: FindingsIndex) -> None:
        if self.index is not old:
            return
        self.index, self.report = new, new.report
        self.uses = self._ordered()
        table = self.query_one("#waivers", RowTable)
        table.border_title = self._title()
        table.set_source(ListSource(self._rows()))
        self.query_one("#waivers-summary", Static).update(self._summary())
        self._show(table.cursor)


def waivable(finding: Finding) -> str | None:
    """Why `finding` cannot be waived, or None when it can."""
    if finding.status not in (Status.FAIL, Status.WARN):
        return f"Only failing or warning findings are waived; this one is {finding.status.value}."
    if finding.waiver is not None:
        source = finding.waiver.get("source") or "a waiver"
        return f"Already waived by {safe_text(source, 200)}."
    return None
