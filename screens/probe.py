"""The exposure probe from the UI (`p`): confirm exactly which addresses will be contacted, then
probe them in a worker like `k8saudit scan --probe` does.

The probe is the one thing the UI does that contacts something other than the API server, so it
never runs without this dialog: the user sees every address (no more than the probe limit), that
no credentials are sent, and what is read. The probing itself, the results attached to every
finding naming those addresses, and the pass kept with the report's collection (saved with the
snapshot, named in the notes) all come from the core (`k8saudit.scan.probe_finding`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from k8saudit.model import Finding
from k8saudit.probe import (
    LOGIN,
    NO_ANSWER,
    OPEN,
    OTHER,
    ProbeResult,
    ProbeRun,
    ProbeSettings,
    ProbeTarget,
    targets_of,
)
from k8saudit.textsafe import safe_text
from screens.actions import bindings_for
from screens.base import ScrollingBody

ACCESS_ORDER = (OPEN, LOGIN, OTHER, NO_ANSWER)  # the most telling answer first


@dataclass(frozen=True, slots=True)
class ProbeRequest:
    """What the dialog shows: the finding, the addresses that will be contacted (at most the
    limit) and how many it names beyond that, and when any of them was probed before."""

    finding: Finding
    targets: list[ProbeTarget]
    skipped: int
    settings: ProbeSettings
    probed_before: datetime | None = None

    @classmethod
    def for_finding(
        cls, finding: Finding, settings: ProbeSettings, previous: ProbeRun | None
    ) -> ProbeRequest:
        targets, skipped = targets_of([finding], settings.limit)
        urls = {t.url for t in targets}
        again = previous is not None and any(r.url in urls for r in previous.results)
        return cls(finding, targets, skipped, settings, previous.at if again and previous else None)


def subject_line(finding: Finding) -> str:
    return safe_text(f"{finding.check_id} on {finding.subject}", 160)


class ProbeDialog(ModalScreen[bool]):
    """Ask before probing: every address, no credentials sent, enter probes, esc cancels."""

    SCOPE = "probe"
    BINDINGS = bindings_for("probe")

    def __init__(self, request: ProbeRequest) -> None:
        super().__init__()
        self.request = request

    def compose(self) -> ComposeResult:
        req = self.request
        with Vertical(id="probe-dialog", classes="dialog") as box:
            box.border_title = Text(f"Probe {subject_line(req.finding)}?")  # a str title is markup
            count = len(req.targets)
            which = "this address" if count == 1 else f"these {count} addresses"
            # The promises scroll in a short terminal; the keys stay in view.
            with ScrollingBody(classes="dialog-body"):
                yield Static(
                    Text(
                        f"k8saudit will send one plain GET to {which}, from this machine, and nothing else:"
                    ),
                    id="probe-intro",
                )
                with VerticalScroll(id="probe-targets-pane"):
                    yield Static(self._targets(), id="probe-targets")
                yield Static(self._promises(), id="probe-promises", classes="prose")
            yield Label("enter: probe · esc: cancel", classes="hint dialog-foot")

    def _targets(self) -> Text:
        req = self.request
        text = Text()
        for target in req.targets:
            if text:
                text.append("\n")
            text.append("  ")
            text.append(safe_text(target.url, 300), "bold")
            if target.interface:
                text.append(f"  ({safe_text(target.interface, 100)})")
        if req.skipped:
            more = (
                "1 more address it names is"
                if req.skipped == 1
                else f"{req.skipped} more addresses it names are"
            )
            text.append(f"\n  {more} not contacted (probe limit {req.settings.limit}).")
        return text

    def _promises(self) -> Text:
        req = self.request
        settings = req.settings
        text = Text()
        text.append("No credentials are sent", "bold")
        text.append(
            ": no Authorization header, no cookies, no client certificate, no proxy or .netrc from "
            f"the environment. Redirects are followed on the same host only; at most "
            f"{settings.max_body_bytes // 1024} KB of each answer is read; {settings.timeout_s:g} s per "
            "request; TLS certificates are not checked (nothing secret is sent)."
        )
        text.append(
            "\n\nThe answers are added to the evidence of every finding naming these addresses and "
            "kept with the report: saving the snapshot keeps them."
        )
        if req.probed_before is not None:
            text.append(
                f"\nProbed before at {req.probed_before:%Y-%m-%d %H:%M} UTC: the new answers replace those."
            )
        return text

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


def probe_summary(results: list[ProbeResult]) -> str:
    """The notification after a probe: what the most telling answers were, in one line."""
    if not results:
        return "The probe tried no address."
    telling = sorted(results, key=lambda r: ACCESS_ORDER.index(r.access) if r.access in ACCESS_ORDER else 9)
    shown = "; ".join(r.summary() for r in telling[:3])
    more = f"; {len(results) - 3} more in the evidence" if len(results) > 3 else ""
    return safe_text(f"Probe: {shown}{more}", 400)
