"""Generated inputs for the benchmarks: realistic packages with comments and the
annotations kpt adds, written as a ResourceList (what a function gets on stdin) or as a
package directory (what kpt reads).

    python benchmarks/corpus.py --resources 1000 --out rl.yaml
    python benchmarks/corpus.py --resources 1000 --package PKG
"""

from __future__ import annotations

import argparse
from pathlib import Path

ANNOTATIONS = """    annotations:
      config.kubernetes.io/index: '{index}'
      config.kubernetes.io/path: '{path}'
      internal.config.kubernetes.io/index: '{index}'
      internal.config.kubernetes.io/path: '{path}'
      internal.config.kubernetes.io/seqindent: 'compact'
      internal.config.kubernetes.io/id: '{id}'
      config.k8s.io/id: '{id}'
      internal.config.kubernetes.io/annotations-migration-resource-id: '{id}'"""

DEPLOYMENT = """# Deployment of service {n}: the API tier
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api-{n} # kpt-set: ${{prefix}}-{n}
  namespace: staging
  labels:
    app.kubernetes.io/name: api-{n}
    app.kubernetes.io/part-of: "shop"
    tier: backend # owned by the platform team
spec:
  replicas: 3 # kpt-set: ${{replicas}}
  selector:
    matchLabels:
      app.kubernetes.io/name: api-{n}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: api-{n}
    spec:
      serviceAccountName: api
      containers:
      - name: api
        image: "registry.example.com/shop/api:1.{n}.0" # kpt-set: ${{registry}}/shop/api:${{tag}}
        args: ["--port", "8080", "--log-level", "info"]
        ports:
        - containerPort: 8080
          name: http
          protocol: TCP
        env:
        - name: FEATURE_FLAGS
          value: "yes"
        - name: CACHE
          value: 'on'
        - name: FILE_MODE
          value: "0755"
        - name: EMPTY
          value: ""
        resources:
          requests: {{cpu: 250m, memory: 256Mi}}
          limits: {{cpu: "1", memory: 512Mi}}
        readinessProbe:
          httpGet:
            path: /healthz
            port: http
          periodSeconds: 10
        volumeMounts:
        - name: config
          mountPath: /etc/api
      volumes:
      - name: config
        configMap:
          name: api-{n}-config
"""

SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: api-{n}
  namespace: staging
  labels:
    app.kubernetes.io/name: api-{n}
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: api-{n}
  ports:
  - name: http
    port: 80
    targetPort: http
"""

CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: api-{n}-config
  namespace: staging
data:
  # settings read at start-up
  log.level: info
  enabled: "true"
  mode: "0644"
  config.yaml: |
    server:
      port: 8080
      # keep-alive in seconds
      keepAlive: 75
    cache:
      size: 1024
"""

KINDS = (DEPLOYMENT, SERVICE, CONFIGMAP)


def documents(count: int) -> list[tuple[str, str]]:
    """(file name, YAML document) pairs: three resources per file group."""
    out = []
    for i in range(count):
        n = i // 3
        out.append((f"api-{n}.yaml", KINDS[i % 3].format(n=n)))
    return out


def _annotate(doc: str, path: str, index: int, ident: int) -> str:
    lines = doc.splitlines()
    meta = lines.index("metadata:")
    end = meta + 1
    while end < len(lines) and lines[end].startswith("  "):
        end += 1
    block = ANNOTATIONS.format(index=index, path=path, id=ident).replace("\n    ", "\n  ")
    return "\n".join([*lines[:end], block.replace("    annotations:", "  annotations:", 1),
                      *lines[end:]]) + "\n"


def resource_list(count: int, config: str = "  data: {namespace: prod}\n",
                  config_kind: str = "ConfigMap", config_api: str = "v1") -> str:
    """A ResourceList as kpt sends it: Kptfile first, annotations, flow-style config last."""
    parts = ["apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"]
    docs = [("Kptfile", "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: bench\n")]
    docs += documents(count)
    per_file: dict[str, int] = {}
    for ident, (path, doc) in enumerate(docs):
        index = per_file.get(path, 0)
        per_file[path] = index + 1
        text = _annotate(doc, path, index, ident)
        lines = text.splitlines()
        if lines[0].startswith("#"):
            lines = [f"- {lines[0]}", *(f"  {ln}" if ln else ln for ln in lines[1:])]
        else:
            lines = [f"- {lines[0]}", *(f"  {ln}" if ln else ln for ln in lines[1:])]
        parts.append("\n".join(lines) + "\n")
    parts.append(f"functionConfig:\n  apiVersion: {config_api}\n  kind: {config_kind}\n"
                 "  metadata:\n    name: function-input\n    annotations:\n"
                 "      config.kubernetes.io/local-config: \"true\"\n" + config)
    return "".join(parts)


def package(count: int, root: Path) -> None:
    """A kpt package directory with the same resources."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n"
                                  "  name: bench\n")
    files: dict[str, list[str]] = {}
    for path, doc in documents(count):
        files.setdefault(path, []).append(doc)
    for path, docs in files.items():
        (root / path).write_text("---\n".join(docs))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--resources", type=int, default=1000)
    p.add_argument("--out", help="write a ResourceList here")
    p.add_argument("--package", help="write a package directory here")
    args = p.parse_args()
    if args.out:
        Path(args.out).write_text(resource_list(args.resources))
    if args.package:
        package(args.resources, Path(args.package))


if __name__ == "__main__":
    main()
