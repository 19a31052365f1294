"""The text field every screen and dialog uses: it edits as a terminal user expects."""

from __future__ import annotations

from typing import Any

from textual import events
from textual.widgets import Input


class TextField(Input):
    """An `Input` that edits in the order the keys were typed, its text never selected on focus.

    - Text the app fills in (a folder to compare from, a file name, an expiry date) is not
      selected when the field gets the focus: the cursor is at its end, so typing appends to it
      (a file name after the folder) and ctrl+u clears it. Selected, the first key typed
      replaced it all.
    - Its own editing keys (ctrl+u, backspace, the arrows…) act as they arrive. Textual inserts
      a typed character at once but runs a bound key only once the key has bubbled up to the
      app: ctrl+u and then "abc", typed or pasted in one go, inserted "abc" first and then
      deleted it (Textualize/textual#6605).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("select_on_focus", False)
        super().__init__(*args, **kwargs)

    async def _on_key(self, event: events.Key) -> None:
        if event.is_printable:
            return  # Input's own handler inserts it
        # What the app would run once the key reached it, this field being the first in its
        # chain of bindings (priority bindings ran before the key got here).
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if not binding.priority and await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()
                return
