"""set-namespace: move every namespaced resource of a package into one namespace."""

from krmfn_catalog.set_namespace.function import set_namespace

__all__ = ["main", "set_namespace"]

main = set_namespace.main
