"""Pass and fail fixtures for every check, registered by check id.

Each area has a module here; a fixture is a function returning an Inventory, registered with
`@fixture("RBAC-001", "pass")`. `tests/test_catalog.py` fails when a check lacks either, when a
pass fixture yields anything but passes, or when a fail fixture yields no failure.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from k8saudit.inventory import Inventory

FixtureFactory = Callable[[], Inventory]
FIXTURES: dict[str, dict[str, FixtureFactory]] = {}


def fixture(check_id: str, outcome: str) -> Callable[[FixtureFactory], FixtureFactory]:
    if outcome not in ("pass", "fail"):
        raise ValueError(f"outcome is 'pass' or 'fail', not {outcome!r}")

    def register(factory: FixtureFactory) -> FixtureFactory:
        slot = FIXTURES.setdefault(check_id, {})
        if outcome in slot:
            raise ValueError(f"{check_id} already has a {outcome} fixture ({slot[outcome].__name__})")
        slot[outcome] = factory
        return factory

    return register


def load_fixtures() -> dict[str, dict[str, FixtureFactory]]:
    """Import every area module of this package (registration happens on import)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return FIXTURES
