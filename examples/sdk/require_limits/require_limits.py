"""require-limits: a validator. Every container of every workload must set CPU and
memory limits, and its image must name a version.

A validator never edits: it reports. Each finding is a result naming the resource, the
field (the path from the resource's root, though it was found through a view) and the
file; an error makes the run exit 1, a warning does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import krmfn

POD_SPEC = {
    "Deployment": "spec.template.spec",
    "StatefulSet": "spec.template.spec",
    "DaemonSet": "spec.template.spec",
    "Job": "spec.template.spec",
    "CronJob": "spec.jobTemplate.spec.template.spec",
    "Pod": "spec",
}


@dataclass
class Config:
    resources: list[str] | None = None  # the limits to require (default: cpu and memory)
    allow_latest: bool = False  # accept `:latest` and untagged images (a warning then)


@krmfn.function(name="require-limits", config=Config)
def require_limits(rl: krmfn.ResourceList, config: Config) -> None:
    """Report containers without resource limits, or with an unpinned image."""
    required = config.resources or ["cpu", "memory"]
    checked = 0
    for obj in rl.items:
        where = POD_SPEC.get(obj.kind)
        if where is None:
            continue
        pod = obj.at(where)
        for c in pod.items("initContainers") + pod.items("containers"):
            checked += 1
            missing = [r for r in required if not c.has(("resources", "limits", r))]
            if missing:
                rl.error(f"container {c.get('name')!r} has no {' or '.join(missing)} limit",
                         c, field="resources.limits")
            image = c.get_str("image", "")
            if not image.partition("@")[0].rpartition("/")[2].partition(":")[2] \
                    or image.endswith(":latest"):
                report = rl.warning if config.allow_latest else rl.error
                report(f"image {image!r} is not pinned to a version", c, field="image")
    if not rl.has_errors:
        rl.info(f"{checked} container(s) checked")


main = require_limits.main


if __name__ == "__main__":
    main()
