"""The functionConfig of nfdeploy: there is nothing to configure.

Everything nfdeploy writes comes from the package itself (the NFDeployment's parts and
their statuses), so that the same package always gives the same spec, wherever it runs.
An empty config type still lets kpt pass a ConfigMap or an `NfDeploy` resource, and
rejects keys it does not know instead of ignoring them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NfDeployConfig"]


@dataclass
class NfDeployConfig:
    """No fields: nfdeploy reads everything it needs from the package."""
