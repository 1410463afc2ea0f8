"""mark-image-setters: read and write line comments. Every container image gets kpt's
setter comment, `# kpt-set: ${<container>-image}`, so that `apply-setters` (or
site-specialize) can change it per site without anyone editing YAML.

A comment someone already wrote after the image is kept: the setter is put in front of
it (`# kpt-set: ${web-image} pinned by release`). An image that already carries a
setter is left as it is, so the function is idempotent.
"""

from __future__ import annotations

import krmfn

POD_SPEC = {
    "Deployment": "spec.template.spec",
    "StatefulSet": "spec.template.spec",
    "DaemonSet": "spec.template.spec",
    "Job": "spec.template.spec",
    "CronJob": "spec.jobTemplate.spec.template.spec",
}


@krmfn.function(name="mark-image-setters")
def mark_image_setters(rl: krmfn.ResourceList) -> None:
    """Put a kpt-set comment on every container image that has none."""
    for obj in rl.items:
        where = POD_SPEC.get(obj.kind)
        if where is None:
            continue
        for c in obj.at(where).items("containers"):
            if not c.has("image"):
                continue
            comment = c.line_comment("image")
            if comment and comment.startswith("kpt-set:"):
                continue
            setter = f"kpt-set: ${{{c.get_str('name')}-image}}"
            c.set_line_comment("image", f"{setter} {comment}" if comment else setter)
            rl.info(f"marked the image of container {c.get_str('name')!r}", c, field="image")


main = mark_image_setters.main


if __name__ == "__main__":
    main()
