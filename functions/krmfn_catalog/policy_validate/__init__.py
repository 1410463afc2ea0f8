"""policy-validate: check resources against Kyverno validation policies, offline, and check
the integrity of Nephio networking (addresses, VLANs, attachments, injection)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from krmfn._cli_function import console_main

if TYPE_CHECKING:
    from krmfn_catalog.policy_validate.function import policy_validate

__all__ = ["main", "policy_validate"]


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The console script: its input is read while the function's modules load."""
    console_main("krmfn_catalog.policy_validate.function", "policy_validate", argv)


def __getattr__(name: str) -> Any:
    if name == "policy_validate":  # loaded when asked for, so that `main` can start reading first
        from krmfn_catalog.policy_validate.function import policy_validate

        return policy_validate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
