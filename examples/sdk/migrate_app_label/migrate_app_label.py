"""migrate-app-label: a restructurer. The old `app` label becomes the recommended
`app.kubernetes.io/name`, wherever a workload repeats it: the resource's labels, a
selector, and the pod template's labels.

`rename_key` renames a key where it stands: its value, its place among its siblings and
its comments stay, so a reviewer's diff shows one changed key per line. (Deleting and
setting would move the key to the end and drop its comment.) A Service's selector, a
Deployment's `selector.matchLabels` and its template's labels are renamed together, or
the Service would select nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import krmfn

# Label maps a resource may hold, from its root; missing ones are skipped.
LABEL_MAPS = (
    "metadata.labels",
    "spec.selector.matchLabels",
    "spec.template.metadata.labels",
    "spec.jobTemplate.spec.template.metadata.labels",
)


@dataclass
class Config:
    old: str = "app"
    new: str = "app.kubernetes.io/name"


@krmfn.function(name="migrate-app-label", config=Config)
def migrate_app_label(rl: krmfn.ResourceList, config: Config) -> None:
    """Rename the `app` label key (or the one configured) everywhere a resource uses it."""
    for obj in rl.items:
        maps = list(LABEL_MAPS)
        if obj.kind == "Service" and obj.api_version == "v1":
            maps.append("spec.selector")  # a Service's selector is a plain label map
        for where in maps:
            labels = obj.at(where)
            current = labels.value()
            if not isinstance(current, dict) or config.old not in current:
                continue
            if config.new in current:
                rl.error(f"both {config.old!r} and {config.new!r} are set", labels)
                continue
            labels.rename_key((config.old,), config.new)
            rl.info(f"renamed label {config.old!r}", obj, field=labels.field((config.new,)))


main = migrate_app_label.main


if __name__ == "__main__":
    main()
