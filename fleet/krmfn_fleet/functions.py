"""Finding the functions a Kptfile pipeline names, through the `krmfn.functions`
entry-point group.

The catalog registers its functions there, and so can any installed package: an entry
`name = "module:attribute"` whose attribute is a `krmfn.Function`. A pipeline step
`image: ghcr.io/krmfn/ipam-inject:v0.1.0` or `exec: /usr/bin/ipam-inject` runs the
function registered as `ipam-inject` (the last path part, less tag and digest), in
process. The SDK knows nothing of the catalog; this is how the two meet.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from krmfn import Function

__all__ = ["GROUP", "find_function", "function_name", "registered"]

GROUP = "krmfn.functions"


def registered() -> dict[str, str]:
    """Every function name of the group with the `module:attribute` it loads."""
    return {ep.name: ep.value for ep in entry_points(group=GROUP)}


@cache
def _load(name: str) -> Function | None:
    found = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if not found:
        return None
    fn = found[0].load()
    if not isinstance(fn, Function):
        raise TypeError(f"entry point {name} = {found[0].value} in group {GROUP} is not a "
                        "krmfn.Function")
    return fn


def function_name(ref: str) -> str:
    """The name a step's `image` or `exec` is registered under: its last path part, less
    tag and digest."""
    return ref.rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0]


def find_function(ref: str) -> Function | None:
    """The function a step's `image` or `exec` names, None when none is registered."""
    base = function_name(ref)
    return _load(base) if base else None
