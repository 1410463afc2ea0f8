"""inject-sidecar: add a log-shipping sidecar container to every workload's pods.

The pod template sits at a different depth in each workload kind; a live view of it
(`obj.at(...)`) makes the rest of the function the same for all of them. A workload that
already has the sidecar gets its image brought up to date, so a second run changes
nothing and a new image rolls out by running the function again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import krmfn

# Where each workload kind keeps its pod spec.
POD_SPEC = {
    "Deployment": "spec.template.spec",
    "StatefulSet": "spec.template.spec",
    "DaemonSet": "spec.template.spec",
    "Job": "spec.template.spec",
    "CronJob": "spec.jobTemplate.spec.template.spec",
}


@dataclass
class Config:
    image: str  # the sidecar's image, e.g. `-- image=fluent/fluent-bit:3.0`
    name: str = "log-shipper"  # the sidecar container's name
    args: list[str] = field(default_factory=list, metadata={"doc": "the container's args"})


@krmfn.function(name="inject-sidecar", config=Config)
def inject_sidecar(rl: krmfn.ResourceList, config: Config) -> None:
    """Add (or update) a sidecar container in the pods of every workload."""
    for obj in rl.items:
        where = POD_SPEC.get(obj.kind)
        if where is None or obj.is_local_config:
            continue
        pod = obj.at(where)
        existing = [c for c in pod.items("containers") if c.get("name") == config.name]
        if existing:
            if existing[0].get("image") != config.image:
                existing[0].set("image", config.image)
                rl.info(f"updated the {config.name} sidecar", existing[0], field="image")
            continue
        sidecar: dict[str, object] = {"name": config.name, "image": config.image}
        if config.args:
            sidecar["args"] = list(config.args)
        pod.append("containers", sidecar)
        rl.info(f"injected the {config.name} sidecar", obj)


main = inject_sidecar.main


if __name__ == "__main__":  # python -m inject_sidecar (the image runs it so)
    main()
