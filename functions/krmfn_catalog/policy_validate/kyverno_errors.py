"""Why a policy cannot be applied, kept apart from findings about resources.

Exception
 +-- KyvernoPolicyError (ValueError)   the policy is malformed: fix the policy
 +-- NotEvaluable                      a valid rule this engine cannot evaluate here
      +-- UnsupportedFeature           ...because it uses a feature not implemented
      +-- VariableNotFound             ...because a variable has no value
"""

from __future__ import annotations

__all__ = ["KyvernoPolicyError", "NotEvaluable", "UnsupportedFeature", "VariableNotFound"]


class KyvernoPolicyError(ValueError):
    """The policy is not a well-formed Kyverno policy (wrong type, unknown operator...)."""


class NotEvaluable(Exception):
    """A rule that cannot be evaluated offline; reported, never passed over."""


class UnsupportedFeature(NotEvaluable):
    """A valid Kyverno feature this engine does not implement."""

    def __init__(self, feature: str, detail: str = "") -> None:
        self.feature = feature
        self.detail = detail
        super().__init__(f"{feature} is not supported{': ' + detail if detail else ''}")


class VariableNotFound(NotEvaluable):
    """A `{{ }}` variable names a field the resource does not have, and gives no default."""

    def __init__(self, expression: str) -> None:
        self.expression = expression
        super().__init__(f"variable {{{{ {expression} }}}} has no value in this resource")
