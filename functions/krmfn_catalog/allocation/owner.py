"""Who holds an allocation in a ledger: a package on its cluster, and a claim in it.

ipam-inject and vlan-assign file a claim's answer under one owner key,
`<cluster>/<package>/<namespace>/<claim>`: the package is part of it, so two packages of one
cluster with a claim of the same name (a UPF's and an SMF's `n4`) hold an answer each, and
one package on many clusters too. A part that is unknown is left out (`<cluster>/<ns>/<claim>`
when the run cannot tell which package it renders): names never hold `/`, so the last two
parts are always the claim.

The package is also what allocations are released by: a run that knows its package sees
all of it, so whatever the ledger holds for that package and no claim of the run asks for
any more is released (see `release_stale`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PackageOwner", "owner_key"]


def owner_key(cluster: str | None, package: str | None, namespace: str, name: str) -> str:
    """The key a claim's answer is filed under."""
    owner = "/".join(part for part in (cluster, package) if part)
    return f"{owner}/{namespace}/{name}"


@dataclass(frozen=True)
class PackageOwner:
    """A package on its cluster; `package` is "" when the run cannot tell (then nothing
    is released: the run may not see the whole package)."""

    cluster: str = ""
    package: str = ""

    @property
    def known(self) -> bool:
        return bool(self.package)

    def key(self, namespace: str, name: str) -> str:
        return owner_key(self.cluster, self.package, namespace, name)
