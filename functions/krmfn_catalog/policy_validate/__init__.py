"""policy-validate: check resources against Kyverno validation policies, offline, and check
the integrity of Nephio networking (addresses, VLANs, attachments, injection)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from krmfn._run.cli_function import console_entry

if TYPE_CHECKING:
    from krmfn_catalog.policy_validate.function import policy_validate

__all__ = ["main", "policy_validate"]

main, __getattr__ = console_entry(__name__, "policy_validate")
