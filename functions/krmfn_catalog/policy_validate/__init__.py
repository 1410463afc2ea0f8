"""policy-validate: check resources against Kyverno validation policies, offline, and check
the integrity of Nephio networking (addresses, VLANs, attachments, injection)."""

from krmfn_catalog.policy_validate.function import policy_validate

__all__ = ["main", "policy_validate"]

main = policy_validate.main
