"""The command palette (`:` or ctrl+p): the rows of the action table usable on the current screen."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from screens.actions import ACTIONS, Action, first_key


class ActionsProvider(Provider):
    def _available(self) -> list[tuple[Action, Callable[[], object]]]:
        screen = self.screen
        scope = getattr(screen, "SCOPE", "")
        found = []
        for action in ACTIONS:
            if not action.palette or action.scope not in ("app", scope):
                continue
            target = self.app if action.scope == "app" else screen
            name = action.handler.split("(", 1)[0]
            if action.scope == "app" and self.app.check_action(name, ()) is False:
                continue  # e.g. rescan while showing a snapshot
            found.append((action, partial(target.run_action, action.handler)))
        return found

    def _label(self, action: Action) -> str:
        return action.description.rstrip("…")

    def _help(self, action: Action) -> str:
        return f"key: {first_key(action, getattr(self.app, 'keymap', None))}"

    async def discover(self) -> Hits:
        for action, run in self._available():
            yield DiscoveryHit(self._label(action), run, help=self._help(action))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for action, run in self._available():
            label = self._label(action)
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), run, help=self._help(action))
