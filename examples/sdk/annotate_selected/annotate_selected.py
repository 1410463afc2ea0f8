"""annotate-selected: select and exclude resources with kpt's selector fields.

The config holds two selectors in kpt's shape (`apiVersion`, `kind`, `name`,
`namespace`, `labels`, `annotations`; names take shell wildcards): a resource is
annotated when it matches `select` and does not match `exclude`. `Selector.from_dict`
refuses a misspelt key (`kinds:`) with an error naming it, rather than ignore it and
select every resource.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import krmfn


@dataclass
class Config:
    annotations: dict[str, str]  # what to set on every selected resource
    select: dict[str, Any] = field(default_factory=dict)  # kpt selector (empty: all)
    exclude: dict[str, Any] | None = None  # kpt selector of resources to leave alone


def selector(data: dict[str, Any], where: str) -> krmfn.Selector:
    """`data` as a Selector; a problem is reported at its place in the config."""
    try:
        return krmfn.Selector.from_dict(data)
    except krmfn.ConfigError as exc:
        raise krmfn.ConfigError([(f"{where}.{f}" if f else where, m)
                                 for f, m in exc.problems]) from None


@krmfn.function(name="annotate-selected", config=Config,
                config_kind="fn.kpt.dev/v1alpha1/AnnotateSelected")
def annotate_selected(rl: krmfn.ResourceList, config: Config) -> None:
    """Set annotations on the resources a selector picks."""
    select = selector(config.select, "select")
    exclude = selector(config.exclude, "exclude") if config.exclude else None
    count = 0
    for obj in rl.items.where(select):
        if exclude is not None and exclude.matches(obj):
            continue
        for key, value in sorted(config.annotations.items()):
            if obj.get_annotation(key) != value:
                obj.set_annotation(key, value)
        count += 1
    rl.info(f"{count} resource(s) selected")


main = annotate_selected.main


if __name__ == "__main__":
    main()
