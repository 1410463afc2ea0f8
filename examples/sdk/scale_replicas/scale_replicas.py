"""scale-replicas: filter by group, version and kind, read a field, set a field.

Only `apps/v1` Deployments are touched (`is_gvk`), so a custom resource that happens to
be called Deployment is left alone. The current count is read as an integer
(`get_int` refuses `replicas: "3"` with an error naming the field and the resource);
a Deployment marked `example.com/autoscaled: "true"` is skipped with a warning, since
an autoscaler owns its count.
"""

from __future__ import annotations

from dataclasses import dataclass

import krmfn


@dataclass
class Config:
    replicas: int  # the count to set on every Deployment
    name: str = "*"  # only Deployments whose name matches (shell wildcards)

    def validate(self) -> list[tuple[str, str]]:
        """A negative count is a config error, reported before anything changes."""
        return [("replicas", "must be 0 or more")] if self.replicas < 0 else []


@krmfn.function(name="scale-replicas", config=Config)
def scale_replicas(rl: krmfn.ResourceList, config: Config) -> None:
    """Set spec.replicas of the selected apps/v1 Deployments."""
    selector = krmfn.Selector(name=config.name)
    for obj in rl.items.where(selector):
        if not obj.is_gvk("apps", "v1", "Deployment"):
            continue
        if obj.get_annotation("example.com/autoscaled") == "true":
            rl.warning("autoscaled: replicas left to the autoscaler", obj, field="spec.replicas")
            continue
        current = obj.get_int("spec.replicas", 1)  # Kubernetes' default when unset
        if current != config.replicas:
            obj.set("spec.replicas", config.replicas)
            rl.info(f"replicas {current} -> {config.replicas}", obj, field="spec.replicas")


main = scale_replicas.main


if __name__ == "__main__":
    main()
