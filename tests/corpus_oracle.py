"""What each catalog function is meant to do to a package, computed without the SDK.

The corpus tests compare a function's output, loaded with PyYAML, with the input loaded the
same way and edited here by rules read from the functions' READMEs (and Kubernetes' own
list of namespaced kinds), so that a splice that drops, duplicates or misplaces text shows
up as a difference, and an edit the function should not make shows up too.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

LOCAL = "config.kubernetes.io/local-config"
DEPENDS_ON = "config.kubernetes.io/depends-on"
# Annotations a reader adds to say where an item came from; not part of the content.
ORIGIN = ("config.kubernetes.io/path", "config.kubernetes.io/index",
          "internal.config.kubernetes.io/path", "internal.config.kubernetes.io/index",
          "config.k8s.io/id", "internal.config.kubernetes.io/id",
          "internal.config.kubernetes.io/seqindent")

# Kubernetes' built-in kinds by scope (kube-apiserver 1.32, `kubectl api-resources
# --namespaced=true|false`). A kind in neither set is of unknown scope, unless the package
# holds its CRD.
CLUSTER_SCOPED = frozenset({
    *(("", k) for k in ("ComponentStatus", "Namespace", "Node", "PersistentVolume")),
    *(("admissionregistration.k8s.io", k) for k in (
        "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
        "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
        "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding")),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("authentication.k8s.io", "SelfSubjectReview"), ("authentication.k8s.io", "TokenReview"),
    *(("authorization.k8s.io", k) for k in ("SelfSubjectAccessReview",
                                           "SelfSubjectRulesReview", "SubjectAccessReview")),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("certificates.k8s.io", "ClusterTrustBundle"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("internal.apiserver.k8s.io", "StorageVersion"), ("metrics.k8s.io", "NodeMetrics"),
    ("networking.k8s.io", "IngressClass"), ("networking.k8s.io", "IPAddress"),
    ("networking.k8s.io", "ServiceCIDR"), ("node.k8s.io", "RuntimeClass"),
    ("policy", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("resource.k8s.io", "DeviceClass"), ("resource.k8s.io", "ResourceSlice"),
    ("scheduling.k8s.io", "PriorityClass"),
    *(("storage.k8s.io", k) for k in ("CSIDriver", "CSINode", "StorageClass",
                                      "VolumeAttachment", "VolumeAttributesClass")),
    ("storagemigration.k8s.io", "StorageVersionMigration"),
})
NAMESPACED = frozenset({
    *(("", k) for k in ("Binding", "ConfigMap", "Endpoints", "Event", "LimitRange",
                        "PersistentVolumeClaim", "Pod", "PodTemplate",
                        "ReplicationController", "ResourceQuota", "Secret", "Service",
                        "ServiceAccount")),
    *(("apps", k) for k in ("ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet",
                            "StatefulSet")),
    *(("extensions", k) for k in ("DaemonSet", "Deployment", "Ingress", "NetworkPolicy",
                                  "ReplicaSet")),
    ("authorization.k8s.io", "LocalSubjectAccessReview"),
    ("autoscaling", "HorizontalPodAutoscaler"), ("batch", "CronJob"), ("batch", "Job"),
    ("coordination.k8s.io", "Lease"), ("coordination.k8s.io", "LeaseCandidate"),
    ("discovery.k8s.io", "EndpointSlice"), ("events.k8s.io", "Event"),
    ("metrics.k8s.io", "PodMetrics"),
    ("networking.k8s.io", "Ingress"), ("networking.k8s.io", "NetworkPolicy"),
    ("policy", "PodDisruptionBudget"),
    ("rbac.authorization.k8s.io", "Role"), ("rbac.authorization.k8s.io", "RoleBinding"),
    ("resource.k8s.io", "ResourceClaim"), ("resource.k8s.io", "ResourceClaimTemplate"),
    ("storage.k8s.io", "CSIStorageCapacity"),
})


@dataclass
class Doc:
    """One YAML document of a package file, loaded."""

    file: str
    index: int  # among the file's non-empty documents
    data: Any


@dataclass
class Package:
    """A package as files of loaded documents, read the way kpt reads it (hidden files and
    folders and what `.krmignore` names are not part of it)."""

    docs: list[Doc] = field(default_factory=list)
    not_resources: list[str] = field(default_factory=list)  # files holding a non-resource
    lists: list[str] = field(default_factory=list)  # files holding a `kind: *List`
    texts: dict[str, str] = field(default_factory=dict)  # the files as read


def read_package(root: Path) -> Package:
    pkg = Package()
    for path in package_files(root):
        name = str(path.relative_to(root))
        text = pkg.texts[name] = path.read_text(encoding="utf-8-sig")
        try:
            loaded = [d for d in yaml.load_all(text, Loader=Loader) if d is not None]
        except yaml.YAMLError:
            pkg.not_resources.append(name)
            continue
        for i, data in enumerate(loaded):
            pkg.docs.append(Doc(name, i, data))
            if is_list(data):
                pkg.lists.append(name)
            elif not is_resource(data):
                pkg.not_resources.append(name)
    return pkg


def package_files(root: Path) -> Iterator[Path]:
    ignored = _krmignore(root)
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or any(p.startswith(".") for p in rel.parts):
            continue
        if any(rel.parts[0] == i or str(rel) == i for i in ignored):
            continue
        if path.name == "Kptfile" or path.suffix in (".yaml", ".yml"):
            yield path


def _krmignore(root: Path) -> list[str]:
    """The names a package's `.krmignore` excludes (the corpus uses plain names only)."""
    file = root / ".krmignore"
    if not file.exists():
        return []
    return [line.strip().strip("/") for line in file.read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def is_resource(data: Any) -> bool:
    meta = data.get("metadata") if isinstance(data, dict) else None
    return (isinstance(data.get("apiVersion") if isinstance(data, dict) else None, str)
            and isinstance(data.get("kind"), str) and isinstance(meta, dict)
            and isinstance(meta.get("name"), str))


def is_list(data: Any) -> bool:
    return (isinstance(data, dict) and isinstance(data.get("kind"), str)
            and data["kind"].endswith("List") and isinstance(data.get("items"), list))


def resources(docs: list[Any]) -> Iterator[dict[str, Any]]:
    """Every resource of loaded documents (by reference: editing one edits the document).
    A `kind: *List` with a name is one resource whose items are data, as kpt reads it (kpt
    refuses one without a name: so does krmfn, naming the file)."""
    for data in docs:
        if is_resource(data):
            yield data


def group(obj: dict[str, Any]) -> str:
    api = obj["apiVersion"]
    return api.rpartition("/")[0] if "/" in api else ""


def annotations_of(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata", {}).get("annotations") or {}


def is_local(obj: dict[str, Any]) -> bool:
    return str(annotations_of(obj).get(LOCAL, "")).lower() == "true"


def strip_origin(data: Any) -> Any:
    """A document without the annotations that only say where it was read from."""
    inner = data["items"] if is_list(data) else []
    for obj in [data, *inner]:
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        if not isinstance(meta, dict):
            continue
        notes = meta.get("annotations")
        if isinstance(notes, dict):
            for key in ORIGIN:
                notes.pop(key, None)
            if not notes:
                del meta["annotations"]
    return data


# ------------------------------------------------------------------ set-namespace
def set_namespace(docs: list[Any], namespace: str) -> list[Any]:
    """kpt's set-namespace v0.4.1 as the README states it, with the scope rule: built-in
    namespaced kinds and kinds whose CRD in the package says Namespaced get a namespace;
    kinds of unknown scope move only when they have one."""
    out = copy.deepcopy(docs)
    objs = [o for o in resources(out) if not is_local(o)]
    crds = {(o["spec"]["group"], o["spec"]["names"]["kind"]): o["spec"]["scope"] == "Namespaced"
            for o in resources(out) if o["kind"] == "CustomResourceDefinition"
            and group(o) == "apiextensions.k8s.io"}
    moved = set()
    for obj in objs:
        g, kind, meta = group(obj), obj["kind"], obj["metadata"]
        if (g, kind) == ("", "Namespace"):
            meta["name"] = namespace
            continue
        scoped = crds.get((g, kind))
        if scoped is None and (g, kind) in NAMESPACED | CLUSTER_SCOPED:
            scoped = (g, kind) in NAMESPACED
        current = meta.get("namespace") or ""
        if scoped is False or (scoped is None and not current) or current == namespace:
            continue
        moved.add((g, kind, current, meta["name"]))
        meta["namespace"] = namespace
    for obj in objs:
        g, kind = group(obj), obj["kind"]
        if g == "rbac.authorization.k8s.io" and kind in ("RoleBinding", "ClusterRoleBinding"):
            for subject in obj.get("subjects") or []:
                if subject.get("kind") == "ServiceAccount" and subject.get("namespace"):
                    subject["namespace"] = namespace
        ref = _service_ref(obj)
        if ref is not None and ref.get("namespace"):
            ref["namespace"] = namespace
        refs = annotations_of(obj).get(DEPENDS_ON)
        if refs:
            obj["metadata"]["annotations"][DEPENDS_ON] = ",".join(
                _follow(r, moved, namespace) for r in refs.split(","))
    return out


def _service_ref(obj: dict[str, Any]) -> dict[str, Any] | None:
    g, kind = group(obj), obj["kind"]
    if (g, kind) == ("apiregistration.k8s.io", "APIService"):
        path = ["spec", "service"]
    elif (g, kind) == ("apiextensions.k8s.io", "CustomResourceDefinition"):
        path = ["spec", "conversion", "webhook", "clientConfig", "service"]
    else:
        return None
    node: Any = obj
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _follow(ref: str, moved: set[tuple[str, str, str, str]], namespace: str) -> str:
    parts = ref.strip().split("/")
    if len(parts) == 5 and parts[1] == "namespaces" and (
            parts[0], parts[3], parts[2], parts[4]) in moved:
        return ref.replace(ref.strip(), "/".join([*parts[:2], namespace, *parts[3:]]))
    return ref


# ------------------------------------------------------------------ site-specialize
@dataclass
class Site:
    cluster: str
    site_code: str
    region: str
    cnis: list[str]
    master: str
    values: dict[str, str]

    def facts(self) -> dict[str, str]:
        return {"clusterName": self.cluster, "siteCode": self.site_code,
                "region": self.region, "masterInterface": self.master,
                "cnis": ",".join(self.cnis), **self.values}


_SETTER = re.compile(r"#\s*kpt-set:\s*(\S.*?)\s*$")
_REF = re.compile(r"\$\{([^}]+)\}")


def site_specialize(docs: list[Any], texts: dict[str, str], files: list[str],
                    site: Site) -> list[Any]:
    """Setter comments on scalar values (every setter of the pattern given), WorkloadCluster
    injection, the Kptfile condition, and the two site labels on every resource that is not
    local config (`files[i]` is the file of `docs[i]`, `texts` the files' text)."""
    out = copy.deepcopy(docs)
    facts = site.facts()
    for name, text in texts.items():
        for index, path, pattern in _setters(text):
            names = _REF.findall(pattern)
            if not names or any(n not in facts for n in names):
                continue
            value = _REF.sub(lambda m: facts[m.group(1)], pattern)
            docs_of_file = [d for d, f in zip(out, files, strict=True) if f == name]
            _put(docs_of_file[index], path, value)
    clusters = []
    for obj in resources(out):
        if (group(obj), obj["kind"]) == ("infra.nephio.org", "WorkloadCluster"):
            spec = obj.setdefault("spec", {})
            spec.update(clusterName=site.cluster, cnis=list(site.cnis),
                        masterInterface=site.master)
            obj["metadata"].setdefault("annotations", {})["kpt.dev/injected-resource"] = \
                site.cluster
            clusters.append(obj["metadata"]["name"])
        if not is_local(obj) and obj["kind"] != "Kptfile":
            labels = obj["metadata"].get("labels") or {}
            labels.update({"nephio.org/cluster-name": site.cluster,
                           "nephio.org/site": site.site_code})
            obj["metadata"]["labels"] = labels
    for data, name in zip(out, files, strict=True):
        if name == "Kptfile" and clusters:
            conditions = data.setdefault("status", {}).setdefault("conditions", [])
            for cluster in clusters:
                conditions.append({"type": f"config.injection.WorkloadCluster.{cluster}",
                                   "status": "True", "reason": "ConfigInjected",
                                   "message": MESSAGE})
    return out


class _Any:
    """Equal to any string: a condition's message is prose, not part of the contract."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str)

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "<any message>"


MESSAGE = _Any()


def _setters(text: str) -> Iterator[tuple[int, list[Any], str]]:
    """(document index, path, pattern) of every scalar value with a setter comment."""
    lines = text.splitlines()
    nodes = [n for n in yaml.compose_all(text, Loader=Loader)
             if not (isinstance(n, yaml.ScalarNode) and n.tag.endswith(":null"))]
    for index, node in enumerate(nodes):
        for path, scalar in _scalars(node, []):
            match = _SETTER.search(lines[scalar.end_mark.line]) if scalar.end_mark.line < len(
                lines) else None
            if match and scalar.start_mark.line == scalar.end_mark.line:
                yield index, path, match.group(1)


def _scalars(node: Any, path: list[Any]) -> Iterator[tuple[list[Any], Any]]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _scalars(value, [*path, key.value])
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            yield from _scalars(value, [*path, i])
    elif isinstance(node, yaml.ScalarNode) and path:
        yield path, node


def _put(data: Any, path: list[Any], value: str) -> None:
    for key in path[:-1]:
        data = data[key]
    old = data[path[-1]]
    data[path[-1]] = type(old)(value) if isinstance(old, (int, float)) and not isinstance(
        old, bool) else value
