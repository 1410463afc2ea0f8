"""The SDK under the real kpt: a function that changes nothing leaves a kpt-formatted
package byte-identical (`kpt fn eval --exec` and `kpt fn render --allow-exec`), and
set-namespace changes exactly the namespace lines."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path
from textwrap import dedent

import pytest
from kpt_support import CONFORMANCE, git, kpt, needs_kpt, needs_shared, scratch_package, script
from krmfn import ResourceList, function

pytestmark = [pytest.mark.kpt, needs_kpt]


@function(name="no-op")
def no_op(rl: ResourceList) -> None:
    """Read every field of every item, write nothing."""
    for obj in rl.items:
        obj.to_dict()
        obj.line_comments()


FILES = {
    "Kptfile": """\
        apiVersion: kpt.dev/v1
        kind: Kptfile
        metadata:
          name: pkg
          annotations:
            config.kubernetes.io/local-config: "true"
        info:
          description: one package in many YAML styles
        """,
    "deploy.yaml": """\
        # The web tier.
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web # the name
          labels: {app: web, tier: "front"}
        spec:
          replicas: 3  # kpt-set: ${replicas}
          selector:
            matchLabels:
              app: web
          template:
            metadata:
              labels:
                app: web
            spec:
              containers:
                - name: web
                  image: "nginx:1.25"
                  args: ["--port", "8080"]
                  env:
                  - name: GREETING
                    value: 'yes'
                  - name: SCRIPT
                    value: |
                      echo hello
                      echo world
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: web
          namespace: staging
        spec:
          ports:
          - port: 80
            targetPort: 8080
        """,
    "sub/config.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: settings
        data:
          on: "on"
          octal: "0755"
          empty: ""
          unicode: "héllo ✓"
          folded: >
            folded text
            continues
        ---
        # binding
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata:
          name: rb
        subjects:
        - kind: ServiceAccount
          name: default
          namespace: staging
        roleRef:
          apiGroup: rbac.authorization.k8s.io
          kind: Role
          name: reader
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata:
          name: reader
        rules: []
        """,
}


def no_op_script(tmp_path: Path) -> Path:
    """An executable that runs `no_op` from this module, as kpt's `exec:` needs."""
    path = tmp_path / "no-op"
    path.write_text(dedent(f"""\
        #!{sys.executable}
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_sdk_kpt import no_op
        no_op.main()
        """))
    path.chmod(0o755)
    return path


def commit(pkg: Path, message: str) -> None:
    git(pkg, "add", "-A")
    git(pkg, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", message,
        "--allow-empty")


def formatted(src: Path, tmp_path: Path) -> Path:
    """A git-tracked copy of `src`, formatted by kpt itself (`--exec cat`), committed."""
    pkg = scratch_package(src, tmp_path / "pkg")
    kpt("fn", "eval", str(pkg), "--exec", "cat", check=True)
    commit(pkg, "formatted by kpt")
    return pkg


def changes(pkg: Path) -> str:
    git(pkg, "add", "-A")
    return git(pkg, "diff", "--cached")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(dedent(text))
    return root


def test_no_op_via_eval_exec_leaves_the_package_byte_identical(source: Path,
                                                              tmp_path: Path) -> None:
    pkg = formatted(source, tmp_path)
    proc = kpt("fn", "eval", str(pkg), "--exec", str(no_op_script(tmp_path)), check=True)
    assert "[PASS]" in proc.stderr
    assert changes(pkg) == ""


def test_no_op_via_render_leaves_the_package_byte_identical(source: Path,
                                                           tmp_path: Path) -> None:
    kptfile = source / "Kptfile"
    kptfile.write_text(kptfile.read_text() + "pipeline:\n  mutators:\n"
                       f"  - exec: {no_op_script(tmp_path)}\n"
                       f"  - exec: {script('set-namespace')}\n"
                       "    configMap:\n      namespace: staging\n"
                       "    selectors:\n    - kind: Service\n")
    pkg = formatted(source, tmp_path)
    proc = kpt("fn", "render", str(pkg), "--allow-exec", check=True)
    assert proc.stderr.count("[PASS]") == 2
    assert changes(pkg) == ""


def test_set_namespace_changes_exactly_the_namespace_lines(source: Path,
                                                           tmp_path: Path) -> None:
    pkg = formatted(source, tmp_path)
    kpt("fn", "eval", str(pkg), "--exec", script("set-namespace"), "--", "namespace=prod",
        check=True)
    patch = changes(pkg)
    changed = [ln for ln in patch.splitlines()
               if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert changed, patch
    assert all(re.fullmatch(r"[+-] *namespace: (prod|staging)", ln) for ln in changed), patch
    added = [ln for ln in changed if ln.startswith("+")]
    assert len(added) == 5  # Deployment, Service, ConfigMap, RoleBinding and its subject
    # and running it again changes nothing more
    commit(pkg, "prod")
    kpt("fn", "eval", str(pkg), "--exec", script("set-namespace"), "--", "namespace=prod",
        check=True)
    assert changes(pkg) == ""


@needs_shared
def test_no_op_on_a_real_nephio_blueprint(tmp_path: Path) -> None:
    src = CONFORMANCE / "nephio-fn" / "catalog" / "workloads" / "free5gc" / "pkg-example-upf-bp"
    copy = tmp_path / "bp"
    shutil.copytree(src, copy)
    (copy / "Kptfile").write_text(re.sub(r"(?ms)^pipeline:.*", "", (copy / "Kptfile")
                                         .read_text()))
    pkg = formatted(copy, tmp_path)
    kpt("fn", "eval", str(pkg), "--exec", str(no_op_script(tmp_path)), check=True)
    assert changes(pkg) == ""
