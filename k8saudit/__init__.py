"""k8saudit core: connection, collector, inventory, snapshot, engine, scoring and the CLI.

The core never imports textual: the terminal UI lives in the `screens` package and the checks in
the `checks` package.
"""

__version__ = "0.1.0"
