"""generate-dashboards: one ConfigMap per dashboard, from a typed, nested config.

The config is a kind of its own (`example.com/v1 DashboardSet`) whose fields are
dataclasses and lists of them: krmfn checks the whole shape before the function runs
and names every wrong field at once (`dashboards[1].panels[0].query: ...`). The
generator owns what it generates (a label says so): it creates, updates in place (so a
comment a user wrote on a generated resource stays) and prunes what the config no
longer lists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import krmfn

OWNER = "example.com/generated-by"


@dataclass
class Datasource:
    name: str
    url: str


@dataclass
class Panel:
    title: str
    query: str


@dataclass
class Dashboard:
    name: str
    revision: int = 1
    panels: list[Panel] = field(default_factory=list)


@dataclass
class DashboardSet:
    datasource: Datasource
    dashboards: list[Dashboard]
    namespace: str = "monitoring"

    def validate(self) -> list[tuple[str, str]]:
        """Problems the types cannot say: names must be unique."""
        seen: set[str] = set()
        problems = []
        for i, d in enumerate(self.dashboards):
            if d.name in seen:
                problems.append((f"dashboards[{i}].name", f"{d.name!r} is listed twice"))
            seen.add(d.name)
        return problems


def _content(ds: Datasource, d: Dashboard) -> str:
    return json.dumps({
        "title": d.name, "version": d.revision,
        "panels": [{"title": p.title, "datasource": ds.name,
                    "targets": [{"expr": p.query}]} for p in d.panels],
    }, sort_keys=True)


@krmfn.function(name="generate-dashboards", config=DashboardSet,
                config_kind="example.com/v1/DashboardSet")
def generate_dashboards(rl: krmfn.ResourceList, config: DashboardSet) -> None:
    """Generate a dashboard ConfigMap for each dashboard of the config."""
    wanted = {f"dashboard-{d.name}": d for d in config.dashboards}
    for obj in list(rl.items):
        if obj.get_label(OWNER) == "generate-dashboards" and obj.name not in wanted:
            rl.items.remove(obj)
            rl.info(f"removed {obj.name}: no longer in the config")
    for name, dashboard in wanted.items():
        data = {"datasource": config.datasource.url,
                f"{dashboard.name}.json": _content(config.datasource, dashboard)}
        existing = rl.items.find("ConfigMap", name, config.namespace)
        if existing is None:
            new = krmfn.KubeObject.from_dict({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": config.namespace,
                             "labels": {OWNER: "generate-dashboards"}},
                "data": data})
            new.set_file(f"dashboards/{dashboard.name}.yaml")  # else configmap_<name>.yaml
            rl.items.append(new)
            rl.info(f"generated {name}", new)
        elif existing.get("data") != data:
            existing.set("data", data)
            rl.info(f"updated {name}", existing)

main = generate_dashboards.main


if __name__ == "__main__":
    main()
