"""What ipam-inject and vlan-assign agree on about a Nephio Interface's attachment.

Both functions edit the same NetworkAttachmentDefinition: vlan-assign sets the plugin's
`master`, ipam-inject its `ipam`. Whichever runs first may create the NAD, so both must
name it, place it and lay out its `spec.config` JSON the same way, keep every key they do
not own, and end with the same text in either order. That is what this module decides:

- `nad_name(interface)`: `<NFDeployment>-<interface>` when the Interface belongs to an
  NFDeployment (`deployment_of`), else the Interface's name. Nephio's interface-fn names
  the Interface's VLANClaim the same way.
- `created_namespace(interface, items)`: where resources created for an Interface go.
- `interface_nad` / `find_nad` / `new_nad`: find an Interface's NAD (the one owned by
  it, else the one of its name), look one up by name, or build the skeleton: nad-fn's
  layout (`lib/nad/v1` in nephio-project/nephio), so that addresses and MACs a pod asks
  for in its network-selection annotation reach the plugin (`capabilities`), and macvlan
  gets the `tuning` plugin that applies a requested MAC.
- `Workloads(items)` / `Nads(items)`: the package's resources by what Interfaces look them
  up by, built once, so that planning many Interfaces does not rescan the package for each.
- `read_config` / `plugin_of` / `write_config` / `edit_plugin`: the JSON edit. Writes are
  canonical (compact, known keys in a fixed order, the rest in their own order) and happen
  only when the content changes, so an untouched NAD keeps its text byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from krmfn import KubeObject

__all__ = [
    "CNI_VERSION",
    "FOR_ANNOTATION",
    "NAD_API_VERSION",
    "NAD_KIND",
    "NAMESPACE_ANNOTATION",
    "OWNER_ANNOTATION",
    "NadConfigError",
    "Nads",
    "OwnerRef",
    "Workloads",
    "created_namespace",
    "deployment_of",
    "edit_plugin",
    "find_nad",
    "interface_nad",
    "nad_name",
    "new_nad",
    "owner_of",
    "owner_value",
    "plugin_of",
    "read_config",
    "write_config",
]

OWNER_ANNOTATION = "specializer.nephio.org/owner"
# The root of a specialization (an NFDeployment), on resources made for one of its parts.
FOR_ANNOTATION = "specializer.nephio.org/for"
DEPLOYMENT_KIND = "NFDeployment"
WORKLOAD_GROUP = "workload.nephio.org"  # also AMFDeployment, SMFDeployment, UPFDeployment
NAMESPACE_ANNOTATION = "specializer.nephio.org/namespace"
NAD_API_VERSION = "k8s.cni.cncf.io/v1"
NAD_GROUP = "k8s.cni.cncf.io"
NAD_KIND = "NetworkAttachmentDefinition"
CNI_VERSION = "0.3.1"
CONFIG_FIELD = "spec.config"
# The CNI defaults, written out so a created NAD reads the same as Nephio's nad-fn (which
# also writes `bridge` for sriov, a key that plugin ignores).
DEFAULT_MODES = {"macvlan": "bridge", "ipvlan": "l2", "sriov": "bridge"}
# Plugins that take no addresses from a pod's selection annotation (nad-fn gives them none).
_NO_CAPABILITIES = ("vlan", "bridge")
TUNING = "tuning"
# Known keys come first in this order (Nephio's layout); other keys follow in their order.
_TOP_ORDER = ("cniVersion", "name", "plugins")
_PLUGIN_ORDER = ("type", "capabilities", "master", "mode", "ipam")


@dataclass(frozen=True)
class OwnerRef:
    """A `specializer.nephio.org/owner` value: `<group>/<version>.<Kind>.<name>`."""

    api_version: str
    kind: str
    name: str


class NadConfigError(Exception):
    """A NAD's `spec.config` cannot be edited; reported on the NAD at `field`."""

    def __init__(self, message: str, field: str = CONFIG_FIELD) -> None:
        super().__init__(message)
        self.field = field


def owner_value(obj: KubeObject) -> str:
    """The owner annotation value that points at `obj`."""
    return f"{obj.api_version}.{obj.kind}.{obj.name}"


def owner_of(obj: KubeObject) -> OwnerRef | None:
    """Who owns `obj` according to its owner annotation; None when absent or malformed."""
    return _parse_owner(obj.get_annotation(OWNER_ANNOTATION) or "")


def _parse_owner(value: str) -> OwnerRef | None:
    group, slash, rest = value.partition("/")
    parts = rest.split(".", 2)
    if not slash or not group or len(parts) != 3 or not all(parts):
        return None
    version, kind, name = parts
    return OwnerRef(f"{group}/{version}", kind, name)


def deployment_of(obj: KubeObject) -> str | None:
    """The NFDeployment `obj` is part of, by name, or None.

    As Nephio's functions read it: the `specializer.nephio.org/for` annotation when there
    is one, else `specializer.nephio.org/owner`; only a workload counts (an NFDeployment,
    or any kind of group workload.nephio.org, as older blueprints' AMFDeployment): a
    blueprint's Interfaces and DataNetworks point at theirs.
    """
    for key in (FOR_ANNOTATION, OWNER_ANNOTATION):
        if obj.get_annotation(key) is not None:
            ref = _parse_owner(obj.get_annotation(key) or "")
            if ref is None:
                return None
            workload = ref.kind == DEPLOYMENT_KIND or ref.api_version.startswith(
                f"{WORKLOAD_GROUP}/")
            return ref.name if workload else None
    return None


def nad_name(interface: KubeObject) -> str:
    """The NAD of an Interface: prefixed by the NFDeployment that owns the Interface."""
    deployment = deployment_of(interface)
    return f"{deployment}-{interface.name}" if deployment else interface.name


class Workloads:
    """The package's resources by (apiVersion, kind, name): what owner annotations name.

    Indexed on first use (a package whose Interfaces have no owner never pays for it);
    the items must not change while it is in use.
    """

    def __init__(self, items: Iterable[KubeObject]) -> None:
        self._items = items
        self._index: dict[tuple[str, str, str], list[KubeObject]] | None = None

    def named(self, ref: OwnerRef) -> list[KubeObject]:
        """The resources `ref` names, in package order."""
        if self._index is None:
            self._index = {}
            for obj in self._items:
                self._index.setdefault((obj.api_version, obj.kind, obj.name), []).append(obj)
        return self._index.get((ref.api_version, ref.kind, ref.name), [])


class Nads:
    """The package's NADs, by owner annotation and by name, in package order."""

    def __init__(self, items: Iterable[KubeObject]) -> None:
        self.all = [o for o in items if o.kind == NAD_KIND and o.group == NAD_GROUP]
        self._owned: dict[str, list[KubeObject]] = {}
        self._named: dict[str, list[KubeObject]] = {}
        for nad in self.all:
            owner = nad.get_annotation(OWNER_ANNOTATION)
            if owner is not None:
                self._owned.setdefault(owner, []).append(nad)
            self._named.setdefault(nad.name, []).append(nad)

    def owned_by(self, owner: str) -> list[KubeObject]:
        return self._owned.get(owner, [])

    def named(self, name: str) -> list[KubeObject]:
        return self._named.get(name, [])


def _workloads(items: Iterable[KubeObject] | Workloads) -> Workloads:
    return items if isinstance(items, Workloads) else Workloads(items)


def _nads(items: Sequence[KubeObject] | Nads) -> Nads:
    return items if isinstance(items, Nads) else Nads(items)


def created_namespace(interface: KubeObject, items: Iterable[KubeObject] | Workloads) -> str:
    """The namespace of resources created for `interface` ("" for none).

    The owning workload's namespace when it is in the package (it is where the pods that
    use the attachment run, and it follows set-namespace); else Nephio's
    `specializer.nephio.org/namespace` annotation; else the Interface's own namespace.
    """
    owner = owner_of(interface)
    if owner is not None:
        for obj in _workloads(items).named(owner):
            if obj.namespace:
                return obj.namespace
    annotated = interface.get_annotation(NAMESPACE_ANNOTATION)
    return annotated or interface.namespace


def find_nad(items: Sequence[KubeObject] | Nads, name: str,
             namespace: str) -> KubeObject | None:
    """The NAD called `name`, preferring one in `namespace` (a package moved by
    set-namespace still finds its NADs)."""
    found = _nads(items).named(name)
    for nad in found:
        if nad.namespace == namespace:
            return nad
    return found[0] if found else None


def interface_nad(items: Sequence[KubeObject] | Nads, interface: KubeObject,
                  namespace: str) -> tuple[KubeObject | None, str | None]:
    """The NAD of `interface`: one whose owner annotation points at it, else the one named
    `nad_name(interface)`. When that one belongs to something else, (None, its owner)."""
    owner = owner_value(interface)
    nads = _nads(items)
    owned = sorted(nads.owned_by(owner), key=lambda nad: nad.namespace != namespace)
    if owned:
        return owned[0], None
    nad = find_nad(nads, nad_name(interface), namespace)
    other = nad.get_annotation(OWNER_ANNOTATION) if nad is not None else None
    if nad is not None and other and other != owner:
        return None, other
    return nad, None


def inherited_metadata(owner: KubeObject, name: str, namespace: str,
                       items: Iterable[KubeObject] | Workloads = ()) -> dict[str, Any]:
    """metadata of a resource created for `owner`. It carries the owner's labels, and the
    `nephio.org/` labels (the site's) of the workload that owns the Interface, so that a
    labelling step earlier in the pipeline finds nothing left to do on the next render."""
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    labels = dict(owner.labels)
    ref = owner_of(owner)
    workload = next(iter(_workloads(items).named(ref)), None) if ref is not None else None
    if workload is not None:
        labels.update({k: v for k, v in workload.labels.items() if k.startswith("nephio.org/")})
    if labels:
        metadata["labels"] = labels
    return metadata


def new_nad(interface: KubeObject, *, name: str, namespace: str, cni_type: str,
            items: Iterable[KubeObject] | Workloads = ()) -> KubeObject:
    """The skeleton both functions create: cniVersion and the plugins nad-fn writes for
    `cni_type` (the main one, then `tuning` after macvlan)."""
    plugin: dict[str, Any] = {"type": cni_type}
    if cni_type not in _NO_CAPABILITIES:
        plugin["capabilities"] = {"ips": True}
    if cni_type in DEFAULT_MODES:
        plugin["mode"] = DEFAULT_MODES[cni_type]
    plugins = [plugin]
    if cni_type == "macvlan":
        plugins.append({"type": TUNING, "capabilities": {"mac": True}})
    metadata = inherited_metadata(interface, name, namespace, items)
    metadata["annotations"] = {OWNER_ANNOTATION: owner_value(interface)}
    config = {"cniVersion": CNI_VERSION, "plugins": plugins}
    return KubeObject.from_dict({
        "apiVersion": NAD_API_VERSION,
        "kind": NAD_KIND,
        "metadata": metadata,
        "spec": {"config": _dump(config)},
    })


def read_config(nad: KubeObject) -> dict[str, Any]:
    """`spec.config` as a JSON object; raises NadConfigError when it is not one."""
    text = nad.get(CONFIG_FIELD)
    if not isinstance(text, str):
        raise NadConfigError("spec.config is missing or not a string")
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates)
    except ValueError as exc:
        raise NadConfigError(f"spec.config is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise NadConfigError("spec.config is not a JSON object")
    plugin_of(value)
    return value


def plugin_of(config: dict[str, Any]) -> dict[str, Any]:
    """The plugin to edit: `plugins[0]` of a list, or the config itself when it is a
    single-plugin config (a `type` and no `plugins`)."""
    if "plugins" not in config and isinstance(config.get("type"), str):
        return config
    plugins = config.get("plugins")
    if not isinstance(plugins, list) or not plugins:
        raise NadConfigError("spec.config has no plugins list (and no single plugin type)")
    if not isinstance(plugins[0], dict):
        raise NadConfigError("spec.config plugins[0] is not a JSON object")
    return plugins[0]


def write_config(nad: KubeObject, config: dict[str, Any]) -> bool:
    """Store `config` when it differs from what is there; True if the NAD changed."""
    try:
        if read_config(nad) == config:
            return False
    except NadConfigError:
        pass
    nad.set(CONFIG_FIELD, _dump(_canonical(config)))
    return True


def edit_plugin(nad: KubeObject, edit: Callable[[dict[str, Any]], None]) -> bool:
    """Read the config, let `edit` change the plugin in place, write it back if changed."""
    config = read_config(nad)
    edit(plugin_of(config))
    return write_config(nad, config)


def _canonical(config: dict[str, Any]) -> dict[str, Any]:
    out = _ordered(config, _TOP_ORDER)
    if "plugins" not in out and isinstance(out.get("type"), str):
        return _ordered(out, _TOP_ORDER + _PLUGIN_ORDER)
    plugins = out.get("plugins")
    if isinstance(plugins, list):
        out["plugins"] = [_ordered(p, _PLUGIN_ORDER) if isinstance(p, dict) else p
                          for p in plugins]
    return out


def _ordered(value: dict[str, Any], first: Sequence[str]) -> dict[str, Any]:
    out = {key: value[key] for key in first if key in value}
    out.update((key, item) for key, item in value.items() if key not in out)
    return out


def _dump(config: dict[str, Any]) -> str:
    return json.dumps(config, separators=(",", ":"), ensure_ascii=False)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out
