"""Which kinds are namespaced: Kubernetes' built-in cluster-scoped kinds, plus the scope
that CustomResourceDefinitions in the same ResourceList declare."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from krmfn._object import KubeObject

__all__ = ["CLUSTER_SCOPED", "Scope"]

# (group, kind) of the built-in cluster-scoped kinds; "" is the core group.
CLUSTER_SCOPED: frozenset[tuple[str, str]] = frozenset({
    ("", "Namespace"), ("", "Node"), ("", "PersistentVolume"), ("", "ComponentStatus"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
    ("apiregistration.k8s.io", "APIService"),
    ("authentication.k8s.io", "SelfSubjectReview"), ("authentication.k8s.io", "TokenReview"),
    ("authorization.k8s.io", "SelfSubjectAccessReview"),
    ("authorization.k8s.io", "SelfSubjectRulesReview"),
    ("authorization.k8s.io", "SubjectAccessReview"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("certificates.k8s.io", "ClusterTrustBundle"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("internal.apiserver.k8s.io", "StorageVersion"),
    ("metrics.k8s.io", "NodeMetrics"),
    ("networking.k8s.io", "IngressClass"), ("networking.k8s.io", "IPAddress"),
    ("networking.k8s.io", "ServiceCIDR"),
    ("node.k8s.io", "RuntimeClass"),
    ("policy", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("resource.k8s.io", "DeviceClass"), ("resource.k8s.io", "ResourceClass"),
    ("resource.k8s.io", "ResourceSlice"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("storage.k8s.io", "CSIDriver"), ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "StorageClass"), ("storage.k8s.io", "VolumeAttachment"),
    ("storage.k8s.io", "VolumeAttributesClass"),
    ("storagemigration.k8s.io", "StorageVersionMigration"),
    ("kyverno.io", "ClusterPolicy"),
    ("kpt.dev", "Kptfile"),
})


class Scope:
    """Answers `is_namespaced` for a ResourceList; CRDs found in it override the table."""

    def __init__(self, objects: Iterable[KubeObject] = ()) -> None:
        self._crds: dict[tuple[str, str], bool] = {}
        for obj in objects:
            if obj.kind == "CustomResourceDefinition" and obj.group == "apiextensions.k8s.io":
                group, kind = obj.get("spec.group"), obj.get("spec.names.kind")
                scope = obj.get("spec.scope")
                if isinstance(group, str) and isinstance(kind, str) and isinstance(scope, str):
                    self._crds[(group, kind)] = scope.lower() == "namespaced"

    def is_namespaced(self, obj: KubeObject) -> bool | None:
        """True/False when known; None for a custom kind with no CRD in sight."""
        key = (obj.group, obj.kind)
        if key in self._crds:
            return self._crds[key]
        if key in CLUSTER_SCOPED:
            return False
        if "." not in obj.group or obj.group.endswith(".k8s.io") or obj.group in (
            "apps", "batch", "autoscaling", "policy"
        ):
            return True
        return None
