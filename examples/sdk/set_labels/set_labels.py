"""set-labels: the smallest useful mutator. Every label of the config is set on every
resource the package deploys (not on local config such as the Kptfile).

Its config is a plain map, so kpt's `-- key=value` arguments and a ConfigMap's `data`
both work: `kpt fn eval PKG --exec set-labels -- team=ran tier=edge`. A label already
set to the value is left as it is (not even rewritten), so a second run changes no
byte, and the results say what changed.
"""

from __future__ import annotations

import krmfn


@krmfn.function(name="set-labels")
def set_labels(rl: krmfn.ResourceList) -> None:
    """Set the config's labels on every resource that is deployed."""
    fc = rl.function_config
    labels = fc.get_map("data", {}) if fc is not None else {}
    if not labels:
        raise krmfn.ConfigError([("data", "no label to set: give key=value pairs")])
    for obj in rl.items:
        if obj.is_local_config:
            continue
        changed = [k for k, v in sorted(labels.items()) if obj.get_label(k) != str(v)]
        for key in changed:
            obj.set_label(key, str(labels[key]))
        if changed:
            rl.info(f"set {', '.join(changed)}", obj)


main = set_labels.main


if __name__ == "__main__":
    main()
