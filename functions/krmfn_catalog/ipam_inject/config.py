"""The functionConfig of ipam-inject: a shared ledger, a fallback cluster, and generic
injections that copy a claim's answer into any field of any resource."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from krmfn import FieldError, Selector, parse_path

__all__ = ["VALUES", "Injection", "IpamInjectConfig", "Target"]

# What an injection can copy out of a claim's status.
VALUES = ("prefix", "address", "gateway", "prefixLength")


@dataclass
class Target:
    """The resources an injection writes to, in kpt's selector shape (names may be globs)."""

    api_version: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""

    def selector(self) -> Selector:
        return Selector(self.api_version, self.kind, self.name, self.namespace)


@dataclass
class Injection:
    """Copy `value` of IPClaim `claim` (`name` or `namespace/name`) into `field` of `target`."""

    claim: str = ""
    target: Target = dataclasses.field(default_factory=Target)
    field: str = ""
    value: str = "address"

    def problems(self, where: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        if not self.claim:
            out.append((f"{where}.claim", "is required"))
        if not (self.target.kind or self.target.name):
            out.append((f"{where}.target", "needs a kind or a name"))
        if not self.field:
            out.append((f"{where}.field", "is required"))
        else:
            try:
                parse_path(self.field)
            except FieldError as exc:
                out.append((f"{where}.field", str(exc)))
        if self.value not in VALUES:
            out.append((f"{where}.value", f"{self.value!r} is not one of {', '.join(VALUES)}"))
        return out


@dataclass
class IpamInjectConfig:
    """`ledger`: an SQLite file or a PostgreSQL location shared by every package drawing on
    the same pools (default: `KRMFN_LEDGER`).
    `clusterName`: the site when the package has no WorkloadCluster."""

    ledger: str = ""
    cluster_name: str = ""
    injections: list[Injection] = dataclasses.field(default_factory=list)

    def validate(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for i, injection in enumerate(self.injections):
            out.extend(injection.problems(f"injections[{i}]"))
        return out
