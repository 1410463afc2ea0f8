"""policy-validate: a validator. It reads the package, reports what is wrong, and never
changes an item; the exit code is 1 exactly when it reports an error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from krmfn import function

from .nephio_objects import NephioObjects

if TYPE_CHECKING:
    from krmfn import ResourceList
from .network_checks import CHECKS

__all__ = ["LEVELS", "PolicyValidateConfig", "level_of", "policy_validate"]

LEVELS = ("off", "warning", "error")


def level_of(value: object) -> str | None:
    """`off`, `warning` or `error`; YAML 1.1 reads a bare `off` as false (and `on` as true),
    so booleans are accepted for what the user wrote."""
    if value is False:
        return "off"
    if value is True:
        return "error"
    if isinstance(value, str) and value.strip().lower() in LEVELS:
        return value.strip().lower()
    return None


@dataclass
class PolicyValidateConfig:
    """`policies`: Kyverno policies given inline (besides those in the package);
    `checks`: network check name -> off | warning | error (default error)."""

    policies: list[dict[str, Any]] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> list[tuple[str, str]]:
        problems = []
        for name, value in self.checks.items():
            if name not in CHECKS:
                problems.append((f"checks.{name}",
                                 f"unknown check (known: {', '.join(CHECKS)})"))
            elif level_of(value) is None:
                problems.append((f"checks.{name}",
                                 f"expected one of {', '.join(LEVELS)}, got {value!r}"))
        return problems

    def level(self, check: str) -> str:
        return level_of(self.checks.get(check, "error")) or "error"


@function(name="policy-validate", config=PolicyValidateConfig, config_kind="PolicyValidate")
def policy_validate(rl: ResourceList, config: PolicyValidateConfig) -> None:
    """Validate resources against Kyverno policies and Nephio network integrity checks."""
    from .policy_run import run_policies

    tally = run_policies(rl, config.policies)
    enabled = [name for name in CHECKS if config.level(name) != "off"]
    problems = 0
    index = NephioObjects(rl.items)
    if index:
        for name in enabled:
            check, _ = CHECKS[name]
            severity = config.level(name)  # "warning" or "error", as results spell them
            for finding in check(index):
                problems += 1
                rl.result(finding.message, finding.obj, severity=severity,
                          field=finding.field, tags={"check": finding.check})
    rl.info(f"{_count(tally.policies, 'policy', 'policies')}, {_count(tally.rules, 'rule')}, "
            f"{_count(tally.resources, 'resource')} checked, "
            f"{_count(tally.failures, 'failure')}; "
            f"{_count(len(enabled), 'network check')}, {_count(problems, 'problem')}")


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"
