"""The check catalog: one module per area. Importing this package registers every check.

Checks are pure functions of the inventory and the context: no I/O, no UI.
"""

from checks import (  # noqa: F401  (import registers the checks)
    dns,
    etcd,
    exposure,
    ingress,
    nodes,
    rbac,
    resilience,
    versions,
)
