"""Which package a run of ipam-inject or vlan-assign renders, for the ledger's owner key.

The package is named by the root `Kptfile` among the resources (kpt passes it to every
function, in `fn render` and `fn eval` alike, and `kpt pkg get` names it after the new
package's directory), else by the package context (ConfigMap `kptfile.kpt.dev`, whose
`data.name` kpt and Porch write for a package). A run that sees neither does not know its
package: its claims are filed under the cluster alone and it releases nothing, since it
may be seeing only part of a package (a pipeline step with `selectors`).
"""

from __future__ import annotations

from collections.abc import Iterable

from krmfn import KubeObject

__all__ = ["PACKAGE_CONTEXT", "package_name"]

PACKAGE_CONTEXT = "kptfile.kpt.dev"


def package_name(items: Iterable[KubeObject]) -> str:
    """The package the resources are, "" when they do not say."""
    context = ""
    for obj in items:
        kind = obj.kind
        if kind == "Kptfile" and obj.group == "kpt.dev" and obj.path in ("", "Kptfile"):
            if obj.name:
                return obj.name
        elif kind == "ConfigMap" and not context and obj.group == "" \
                and obj.name == PACKAGE_CONTEXT:
            name = obj.get("data.name")
            context = name if isinstance(name, str) else ""
    return context
