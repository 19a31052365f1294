"""The one table of user actions: it feeds the key bindings, the command palette and the help screen.

Every row says which screen it belongs to (`scope`), its stable id (used in a keymap to remap the
key), its default key(s), what it does, and the name of the `action_*` method that does it. A
screen class declares `SCOPE = "findings"` and gets `BINDINGS = bindings_for("findings")` from
`screens.base.AuditScreen`; the palette and `?` read the same rows. Adding a feature is adding a
row here plus its `action_<handler>` method, nothing else.

Scopes: `app` (every screen, methods on the App), `table` (every RowTable), and one per screen.

The footer shows a screen's own keys, then the app's, in the order of this table; where they do
not all fit (80 columns), the last ones are left out whole, `?` never (`screens.base.FittedFooter`).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True, slots=True)
class Action:
    id: str  # stable id: keymaps refer to it ("k8saudit.save": "ctrl+s")
    key: str  # default key(s), Textual names, comma separated
    description: str
    handler: str  # method `action_<handler>` on the App (scope app) or the screen/widget
    scope: str = "app"
    show: bool = True  # shown in the footer
    palette: bool = True  # offered in the command palette
    display: str = ""  # how the key is written in help and footer, when not the key itself
    short: str = ""  # the footer's label, when the description is too long for it
    # Priority bindings run as the key arrives, before later keys are routed: "/" must move the
    # focus to the filter before the rest of a fast-typed or pasted "/kube-proxy" is delivered.
    priority: bool = False


ACTIONS: tuple[Action, ...] = (
    # -- everywhere ------------------------------------------------------------------------------
    # f1 too: a text field with the focus takes "?" (and ":") as typed text.
    Action("k8saudit.help", "question_mark,f1", "Help: every key", "help", display="?", short="Help"),
    Action(
        "k8saudit.palette",
        "colon,ctrl+p",
        "Command palette",
        "command_palette",
        palette=False,
        display=":",
        short="Commands",
    ),
    Action("k8saudit.back", "escape", "Back", "back", display="esc", palette=False),
    Action("k8saudit.overview", "o", "Go to the overview", "overview", short="Overview"),
    Action("k8saudit.findings", "f", "Go to the findings", "findings", short="Findings"),
    Action("k8saudit.save", "s", "Save the snapshot…", "save", short="Save"),
    Action("k8saudit.export", "e", "Export the JSON report…", "export", short="Export"),
    Action("k8saudit.diff", "d", "Compare with another snapshot…", "diff", short="Diff"),
    Action(
        "k8saudit.waivers",
        "ctrl+w",
        "Waivers: active, expired, unused",
        "waivers",
        display="^w",
        short="Waivers",
        show=False,  # the footer is full on the findings screen; the overview names the key
    ),
    Action("k8saudit.open", "ctrl+o", "Open a snapshot or a fleet directory…", "open_snapshot", show=False),
    Action("k8saudit.rescan", "r", "Rescan the cluster", "rescan", short="Rescan"),
    Action("k8saudit.contexts", "c", "Pick a kubeconfig context", "contexts", show=False),
    Action("k8saudit.quit", "q", "Quit", "quit"),
    # -- any table -------------------------------------------------------------------------------
    Action("table.down", "down,j", "Next row", "cursor_down", "table", show=False, palette=False),
    Action("table.up", "up,k", "Previous row", "cursor_up", "table", show=False, palette=False),
    Action("table.page_down", "pagedown,ctrl+f", "Page down", "page_down", "table", False, False, "pgdn"),
    Action("table.page_up", "pageup,ctrl+b", "Page up", "page_up", "table", False, False, "pgup"),
    Action("table.first", "home,g", "First row", "first", "table", show=False, palette=False),
    Action("table.last", "end,G", "Last row", "last", "table", show=False, palette=False),
    Action("table.open", "enter", "Open the selected row", "select", "table", show=False, palette=False),
    Action(
        "table.right",
        "right,l",
        "Page on through the cut text of wide columns",
        "page_text(1)",
        "table",
        show=False,
        palette=False,
        display="→",
    ),
    Action(
        "table.left",
        "left,h",
        "Page back through the cut text of wide columns",
        "page_text(-1)",
        "table",
        show=False,
        palette=False,
        display="←",
    ),
    # -- context picker --------------------------------------------------------------------------
    Action(
        "picker.filter",
        "slash",
        "Filter contexts by name",
        "focus_filter",
        "picker",
        display="/",
        short="filter",
        priority=True,
    ),
    # priority: the filter field (a ScrollView) would otherwise take up/down for itself
    Action("picker.next", "down", "Next context", "next", "picker", False, False, priority=True),
    Action("picker.previous", "up", "Previous context", "previous", "picker", False, False, priority=True),
    # -- scan ------------------------------------------------------------------------------------
    Action("scan.cancel", "escape", "Cancel the scan", "cancel", "scan", display="esc", short="Cancel"),
    # -- findings --------------------------------------------------------------------------------
    Action(
        "findings.filter",
        "slash",
        "Filter by text",
        "focus_filter",
        "findings",
        display="/",
        short="filter",
        priority=True,
    ),
    Action("findings.severity", "v", "Filter by severity", "pick_severity", "findings", short="severity"),
    Action("findings.status", "t", "Filter by status", "pick_status", "findings", short="status"),
    Action("findings.area", "a", "Filter by area", "pick_area", "findings", short="area"),
    Action("findings.namespace", "n", "Filter by namespace", "pick_namespace", "findings", short="namespace"),
    Action(
        "findings.waived", "W", "Show or hide waived findings", "toggle_waived", "findings", short="waived"
    ),
    Action("findings.clear", "x", "Clear every filter", "clear_filters", "findings", short="clear"),
    Action("findings.waive", "w", "Waive the selected finding…", "waive", "findings", short="waive"),
    Action(
        "findings.probe",
        "p",
        "Probe the finding's exposed addresses…",
        "probe",
        "findings",
        short="probe",
        show=False,  # the findings footer is full on a live cluster; the detail's footer shows it
    ),
    Action("findings.sort_severity", "S", "Sort by severity", "sort('severity')", "findings", show=False),
    Action(
        "findings.sort_status", "T", "Sort by status (failing first)", "sort('status')", "findings", False
    ),
    Action("findings.sort_area", "A", "Sort by area", "sort('area')", "findings", show=False),
    Action("findings.sort_check", "I", "Sort by check id", "sort('check')", "findings", show=False),
    Action("findings.sort_subject", "U", "Sort by subject", "sort('subject')", "findings", show=False),
    Action("findings.sort_message", "M", "Sort by message", "sort('message')", "findings", show=False),
    Action("findings.sort_points", "P", "Sort by points gained", "sort('points')", "findings", show=False),
    # -- finding detail --------------------------------------------------------------------------
    Action("detail.waive", "w", "Waive the selected subject…", "waive", "detail", short="waive"),
    Action(
        "detail.probe",
        "p",
        "Probe the subject's exposed addresses…",
        "probe",
        "detail",
        short="probe",
    ),
    # -- diff ------------------------------------------------------------------------------------
    Action("diff.new", "1", "Jump to the new findings", "jump('new')", "diff", short="new"),
    Action(
        "diff.resolved", "2", "Jump to the resolved findings", "jump('resolved')", "diff", short="resolved"
    ),
    Action("diff.changed", "3", "Jump to the changed findings", "jump('changed')", "diff", short="changed"),
    Action(
        "diff.unchanged",
        "4",
        "Jump to the unchanged problems",
        "jump('unchanged')",
        "diff",
        short="unchanged",
    ),
    Action("diff.objects", "5", "Jump to the objects that came or went", "jump('objects')", "diff", False),
    # -- fleet -----------------------------------------------------------------------------------
    Action("fleet.sort_cluster", "C", "Sort by cluster name", "sort('cluster')", "fleet", short="name"),
    Action("fleet.sort_score", "S", "Sort by score (worst first)", "sort('overall')", "fleet", short="score"),
    Action(
        "fleet.sort_problems",
        "P",
        "Sort by failing findings, critical first",
        "sort('problems')",
        "fleet",
        short="findings",
    ),
    Action("fleet.sort_collected", "D", "Sort by collection time", "sort('collected')", "fleet", False),
    Action("fleet.reload", "R", "Reload the fleet directory", "reload", "fleet", short="reload"),
    # -- dialogs ---------------------------------------------------------------------------------
    Action("dialog.cancel", "escape", "Cancel", "cancel", "dialog", display="esc", palette=False),
    Action("waiver.write", "enter", "Write the waiver", "write", "waiver", palette=False),
    Action("probe.confirm", "enter,y", "Probe the addresses listed", "confirm", "probe", palette=False),
    Action(
        "probe.cancel", "escape,n", "Cancel: contact nothing", "cancel", "probe", display="esc", palette=False
    ),
    Action("waiver.cancel", "escape", "Cancel", "cancel", "waiver", display="esc", palette=False),
    Action("choice.next", "down,right", "Next scope (wider)", "next", "choice", False, False),
    Action("choice.previous", "up,left", "Previous scope (narrower)", "previous", "choice", False, False),
    Action(
        "help.close",
        "escape,question_mark,q,f1",
        "Close the help",
        "close",
        "help",
        display="esc",
        palette=False,
    ),
)

SCOPE_TITLES: dict[str, str] = {
    "app": "Everywhere",
    "table": "Tables",
    "picker": "Context picker",
    "scan": "Scan",
    "overview": "Overview",
    "findings": "Findings",
    "detail": "Finding detail",
    "resource": "Resource",
    "diff": "Comparison",
    "fleet": "Fleet",
    "dialog": "File name dialogs",
    "waiver": "Waiver dialog",
    "choice": "Waiver dialog: what it covers",
    "probe": "Probe dialog",
    "help": "This help",
}


def actions_for(scope: str) -> list[Action]:
    return [a for a in ACTIONS if a.scope == scope]


def bindings_for(scope: str) -> list[Binding]:
    """Textual bindings, with ids, for the actions of `scope`: one per key, the action's
    `display` on its first key only, so that where a text field takes that key ("?", ":") the
    footer names the key that still works ("f1", "^p"), not the one typed into the field."""
    return [
        Binding(
            key,
            a.handler,
            a.short or a.description,
            show=a.show,
            key_display=(a.display or None) if first else None,
            priority=a.priority,
            id=a.id,
        )
        for a in actions_for(scope)
        for first, key in ((i == 0, key) for i, key in enumerate(a.key.split(",")))
    ]


def first_key(action: Action, keymap: dict[str, str] | None = None) -> str:
    """The key to show for `action`: the keymap's override, else its display or first default key."""
    if keymap and action.id in keymap:
        return keymap[action.id].split(",")[0]
    return action.display or action.key.split(",")[0]
