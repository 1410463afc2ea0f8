"""site-specialize: specialize a blueprint package for one site."""

from krmfn_catalog.site_specialize.function import site_specialize

__all__ = ["main", "site_specialize"]

main = site_specialize.main
