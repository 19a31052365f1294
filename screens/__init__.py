"""The k8saudit terminal UI (Textual). Presentation only: it never talks to the cluster itself.

Layout of the package
---------------------
- `app.py`       `K8sAuditApp` and `run_app()`: owns the current report, starts workers, moves
                 between screens (`open_findings`, `open_finding`, `open_check`, `open_subject`).
- `actions.py`   THE action table: one row per user action (id, key, description, handler,
                 scope). It feeds key bindings, the command palette and the help screen.
- `jobs.py`      all I/O (kubeconfig, scan, snapshot load/save, export), run in worker threads;
  `messages.py`  the typed messages those workers post; screens render them.
- `findings_index.py`  findings precomputed for fast filter/sort (50k findings per keystroke).
- `table.py`     `RowTable`, the virtual table every screen uses (renders only visible rows).
- `text.py`      cluster data as safe `Text`/YAML (markup and escape sequences shown literally).
- `base.py`      `AuditScreen` (top bar + footer) that every screen extends.
- one module per screen: `picker`, `scan`, `overview`, `findings`, `detail`, `resource`,
  `diff` (comparison with another snapshot), `waivers` (the `w` dialog and the waivers list),
  `fleet` (a directory of snapshots), `dialogs` (save/export/open file name, help, loading).

Waivers are applied in the workers with the CLI's file and flags (`jobs.WaiverOptions`). After
`w` writes one, the app applies the file again to every report on screen and calls
`AuditScreen.index_replaced(old, new)` on each screen: a screen that shows report data swaps its
`FindingsIndex` (same findings, same positions, new waiver marks and scores) and redraws.
- `k8saudit.tcss` the one stylesheet; variables at the top; meanings are classes.

Adding a screen (e.g. the diff view)
----------------------------------
1. Create `screens/diff.py` with `class DiffScreen(AuditScreen)`, `SCOPE = "diff"`,
   `BINDINGS = bindings_for("diff")`, `crumbs()` and `compose_body()`. Use `RowTable` with a
   row source for lists; build every cluster string with `rich.text.Text`/`screens.text.plain`.
2. Add its keys to `ACTIONS` in `actions.py` with `scope="diff"` (and a title in
   `SCOPE_TITLES`), and implement `action_<handler>` on the screen. They then appear in the
   footer, the command palette (`:`) and the help (`?`) with no other change.
3. To reach it from anywhere, add an `app`-scope row (say `Action("k8saudit.diff", "d", "Compare
   with a snapshot…", "diff")`) and `K8sAuditApp.action_diff()` pushing the screen. Any file
   or cluster I/O it needs goes in `jobs.py` + a message in `messages.py`, run with `@work`.
4. Style it in `k8saudit.tcss`; add a Pilot test and an SVG snapshot in `tests/test_tui_*.py`.

An action that only makes sense sometimes (rescan on a live cluster) is switched off in
`K8sAuditApp.check_action`; the footer hides it and the palette leaves it out.
"""
