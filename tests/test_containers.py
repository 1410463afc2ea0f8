"""The function images behave exactly like the console scripts they package.

Each image runs the way kpt runs it (no network, as nobody, read-only root filesystem)
and must give the same stdout, byte for byte, and the same exit code as the console
script installed in the test environment, on the same input. Needs podman (or a Docker
engine) and the images from `make images`; skipped otherwise.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import socket
import subprocess
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.container

FUNCTIONS = ("set-namespace", "ipam-inject", "vlan-assign", "site-specialize", "policy-validate",
             "nfdeploy")
TAG = "v" + importlib.metadata.version("krmfn")
PODMAN_SOCKET = Path("/run/podman/podman.sock")
KPT = "/usr/bin/kpt"

# The environment both sides run with: what the image sets, so that nothing from the
# test process (terminal width, locale, bytecode writing) can make them differ.
CLEAN_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
}


def image_name(function: str) -> str:
    return f"localhost/krmfn/{function}:{TAG}"


def _resource_list(items: str, function_config: str = "") -> bytes:
    text = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + items
    if function_config:
        text += "functionConfig:\n" + function_config
    return text.encode()


# One small, realistic ResourceList per function, in kpt's wire format (index and path
# annotations, comments, a non-ASCII value).
INPUTS: dict[str, bytes] = {
    "set-namespace": _resource_list(
        """\
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web # the front end
    namespace: dev
    annotations:
      config.kubernetes.io/index: '0'
      config.kubernetes.io/path: 'web.yaml'
      owner: "équipe-réseau"
  spec:
    replicas: 2
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: settings
    annotations:
      config.kubernetes.io/index: '0'
      config.kubernetes.io/path: 'settings.yaml'
  data:
    mode: "on"
""",
        "  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: fn-config}\n"
        "  data: {namespace: prod}\n",
    ),
    "ipam-inject": _resource_list(
        """\
- apiVersion: infra.nephio.org/v1alpha1
  kind: Network
  metadata:
    name: vpc-ran
  spec:
    routingTables:
    - name: vpc-ran
      prefixes:
      - prefix: 172.2.0.0/16
        labels: {nephio.org/network-name: n3}
- apiVersion: ipam.resource.nephio.org/v1alpha1
  kind: IPClaim
  metadata:
    name: n3-ipv4
  spec:
    kind: network
    networkInstance: {name: vpc-ran}
    addressFamily: ipv4
    selector:
      matchLabels: {nephio.org/network-name: n3}
"""
    ),
    "vlan-assign": _resource_list(
        """\
- apiVersion: vlan.resource.nephio.org/v1alpha1
  kind: VLANClaim
  metadata:
    name: n3
  spec:
    vlanIndex: {name: edge-01}
- apiVersion: vlan.resource.nephio.org/v1alpha1
  kind: VLANClaim
  metadata:
    name: n6
  spec:
    vlanIndex: {name: edge-01}
    vlanID: 200
"""
    ),
    "site-specialize": _resource_list(
        """\
- apiVersion: infra.nephio.org/v1alpha1
  kind: WorkloadCluster
  metadata:
    name: edge-01
  spec:
    clusterName: edge-01
    cnis: [macvlan, sriov]
    masterInterface: eth1
- apiVersion: req.nephio.org/v1alpha1
  kind: Interface
  metadata:
    name: n3
  spec:
    networkInstance: {name: vpc-ran}
    cniType: macvlan
    attachmentType: vlan
"""
    ),
    "policy-validate": _resource_list(
        """\
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: upf
    namespace: edge-01
  spec:
    template:
      spec:
        containers:
        - name: upf
          image: example.com/upf:latest
"""
    ),
    "nfdeploy": _resource_list(
        """\
- apiVersion: kpt.dev/v1
  kind: Kptfile
  metadata:
    name: upf
    annotations:
      config.kubernetes.io/index: '0'
      config.kubernetes.io/path: 'Kptfile'
- apiVersion: workload.nephio.org/v1alpha1
  kind: NFDeployment
  metadata:
    name: upf
    annotations:
      config.kubernetes.io/index: '0'
      config.kubernetes.io/path: 'upf.yaml'
  spec:
    provider: upf.free5gc.io # « l'opérateur »
- apiVersion: req.nephio.org/v1alpha1
  kind: Interface
  metadata:
    name: n3
    annotations:
      specializer.nephio.org/owner: workload.nephio.org/v1alpha1.NFDeployment.upf
      config.kubernetes.io/index: '1'
      config.kubernetes.io/path: 'upf.yaml'
  spec:
    networkInstance: {name: vpc-ran}
    cniType: macvlan
    attachmentType: vlan
  status:
    ipClaimStatus: [{prefix: 10.0.0.3/24, gateway: 10.0.0.1}]
    vlanClaimStatus: {vlanID: 100}
"""
    ),
}

# Input every function must reject the same way inside and outside the image.
NOT_A_RESOURCE_LIST = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: oops\n"


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: bytes
    stderr: bytes


def _run(argv: list[str], stdin: bytes | None = None) -> Outcome:
    done = subprocess.run(
        argv,
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env=CLEAN_ENV,
        check=False,
        timeout=300,
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def _find_runtime() -> str | None:
    if shutil.which("podman"):
        return "podman"
    if shutil.which("docker"):
        info = subprocess.run(["docker", "info"], capture_output=True, check=False)
        if info.returncode == 0:
            return "docker"
    return None


@pytest.fixture(scope="session")
def runtime() -> str:
    found = _find_runtime()
    if found is None:
        pytest.skip("no container runtime: neither podman nor a reachable Docker engine")
    return found


def _image_exists(runtime: str, image: str) -> bool:
    if runtime == "podman":
        argv = ["podman", "image", "exists", image]
    else:
        argv = ["docker", "image", "inspect", image]
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


def _require_image(runtime: str, function: str) -> str:
    image = image_name(function)
    if not _image_exists(runtime, image):
        pytest.skip(f"image {image} is not built (run `make images`)")
    return image


def _console_script(function: str) -> str:
    script = Path(sysconfig.get_path("scripts")) / function
    if not script.exists():
        pytest.fail(f"console script {script} is missing: is the project installed?")
    return str(script)


# What kpt passes to the runtime, plus a read-only root filesystem.
RUN_FLAGS = (
    "--rm",
    "--interactive",
    "--pull=never",
    "--network=none",
    "--user=nobody",
    "--read-only",
    "--security-opt=no-new-privileges",
)


def _run_image(runtime: str, image: str, stdin: bytes, *args: str) -> Outcome:
    return _run([runtime, "run", *RUN_FLAGS, image, *args], stdin)


def _assert_same(in_image: Outcome, local: Outcome) -> None:
    assert in_image.returncode == local.returncode, (
        f"exit codes differ: image {in_image.returncode}, console script {local.returncode}\n"
        f"image stderr:\n{in_image.stderr.decode(errors='replace')}\n"
        f"console script stderr:\n{local.stderr.decode(errors='replace')}"
    )
    assert in_image.stdout == local.stdout


@pytest.mark.parametrize("function", FUNCTIONS)
def test_image_output_matches_console_script(runtime: str, function: str) -> None:
    image = _require_image(runtime, function)
    stdin = INPUTS[function]
    _assert_same(_run_image(runtime, image, stdin), _run([_console_script(function)], stdin))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_image_rejects_bad_input_like_console_script(runtime: str, function: str) -> None:
    image = _require_image(runtime, function)
    in_image = _run_image(runtime, image, NOT_A_RESOURCE_LIST)
    _assert_same(in_image, _run([_console_script(function)], NOT_A_RESOURCE_LIST))
    assert in_image.returncode != 0
    assert in_image.stdout == b""


@pytest.mark.parametrize("function", FUNCTIONS)
def test_image_help(runtime: str, function: str) -> None:
    image = _require_image(runtime, function)
    in_image = _run_image(runtime, image, b"", "--help")
    assert in_image.returncode == 0, in_image.stderr.decode(errors="replace")
    text = in_image.stdout.decode()
    assert "usage" in text.lower() or function in text, text
    _assert_same(in_image, _run([_console_script(function), "--help"]))


# --- the Docker SDK for Python, against podman's API socket -----------------------------


def _socket_answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


@pytest.fixture(scope="session")
def docker_client(runtime: str) -> Iterator[Any]:
    docker = pytest.importorskip("docker")
    if runtime == "docker":
        client = docker.from_env()
        yield client
        client.close()
        return

    service: subprocess.Popen[bytes] | None = None
    if not _socket_answers(PODMAN_SOCKET):
        PODMAN_SOCKET.parent.mkdir(parents=True, exist_ok=True)
        PODMAN_SOCKET.unlink(missing_ok=True)  # a stale socket left by a dead service
        service = subprocess.Popen(
            ["podman", "system", "service", "--time=0", f"unix://{PODMAN_SOCKET}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        # Readiness wait, not a timing assertion: the service needs a moment to listen.
        deadline = time.monotonic() + 60
        while not _socket_answers(PODMAN_SOCKET):
            if service.poll() is not None:
                err = service.stderr.read().decode() if service.stderr else ""
                pytest.fail(f"podman system service exited early: {err}")
            if time.monotonic() > deadline:
                service.kill()
                pytest.fail("podman system service did not listen within 60 s")
            time.sleep(0.1)
    client = docker.DockerClient(base_url=f"unix://{PODMAN_SOCKET}")
    try:
        yield client
    finally:
        client.close()
        if service is not None:
            service.terminate()
            try:
                service.wait(timeout=30)
            except subprocess.TimeoutExpired:
                service.kill()
                service.wait()
            if service.stderr is not None:
                service.stderr.close()


def _docker_run(client: Any, image: str, stdin: bytes) -> tuple[int, bytes]:
    """`docker run -i` on a ResourceList through the SDK: create, attach, send, wait.

    podman's API service now and then fails to prepare the attach ("write child: broken
    pipe", a 409) before the container ever ran: that is tried again, twice at most; any
    other failure, and anything the function did, is the test's."""
    import docker.errors

    for attempt in range(3):
        try:
            return _docker_run_once(client, image, stdin)
        except docker.errors.APIError as exc:
            if attempt == 2 or "broken pipe" not in str(exc):
                raise
    raise AssertionError("unreachable")


def _docker_run_once(client: Any, image: str, stdin: bytes) -> tuple[int, bytes]:
    container = client.containers.create(
        image, stdin_open=True, network_mode="none", user="nobody", read_only=True
    )
    try:
        attached = container.attach_socket(params={"stdin": 1, "stream": 1})
        raw: socket.socket = getattr(attached, "_sock", attached)
        try:
            container.start()
            raw.sendall(stdin)
            raw.shutdown(socket.SHUT_WR)
            status = container.wait(timeout=300)
        finally:
            attached.close()
            raw.close()
        stdout = container.logs(stdout=True, stderr=False)
    finally:
        container.remove(force=True)
    return int(status["StatusCode"]), bytes(stdout)


def test_docker_sdk_runs_image_like_console_script(runtime: str, docker_client: Any) -> None:
    function = "set-namespace"
    image = _require_image(runtime, function)
    stdin = INPUTS[function]
    returncode, stdout = _docker_run(docker_client, image, stdin)
    local = _run([_console_script(function)], stdin)
    assert returncode == local.returncode, local.stderr.decode(errors="replace")
    assert stdout == local.stdout


# --- kpt, running the image as a pipeline step -------------------------------------------

KPTFILE = f"""\
apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: app
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
  - image: {image_name("set-namespace")}
    configMap:
      namespace: prod
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: dev
spec:
  replicas: 1
"""

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: blue
"""


@pytest.mark.kpt
def test_kpt_fn_render_runs_set_namespace_image(runtime: str, tmp_path: Path) -> None:
    if not os.access(KPT, os.X_OK):
        pytest.skip(f"kpt is not installed at {KPT}")
    _require_image(runtime, "set-namespace")
    pkg = tmp_path / "app"
    pkg.mkdir()
    (pkg / "Kptfile").write_text(KPTFILE)
    (pkg / "deployment.yaml").write_text(DEPLOYMENT)
    (pkg / "configmap.yaml").write_text(CONFIGMAP)

    env = {**CLEAN_ENV, "HOME": str(tmp_path), "KPT_FN_RUNTIME": runtime}
    done = subprocess.run(
        [KPT, "fn", "render", str(pkg), "--image-pull-policy", "never"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    def load(name: str) -> dict[str, Any]:
        loaded: dict[str, Any] = yaml.safe_load((pkg / name).read_text())
        return loaded

    assert load("deployment.yaml")["metadata"]["namespace"] == "prod"
    assert load("configmap.yaml")["metadata"]["namespace"] == "prod"
    assert "namespace" not in load("Kptfile")["metadata"]


@pytest.mark.kpt
@pytest.mark.parametrize("blueprint", ["pkg-example-upf-bp", "pkg-example-smf-bp",
                                       "pkg-example-amf-bp"])
def test_free5gc_blueprints_render_alike_with_images_and_executables(
    runtime: str, blueprint: str, tmp_path: Path,
) -> None:
    """Nephio's free5gc blueprints with their pipeline replaced by ours: `kpt fn render`
    running our images gives, file for file, what it gives running our executables."""
    from kpt_support import git, render, scratch_package
    from test_nephio_conformance import PIPELINE_KPTFILE

    if not os.access(KPT, os.X_OK):
        pytest.skip(f"kpt is not installed at {KPT}")
    for fn in ("site-specialize", "ipam-inject", "vlan-assign", "policy-validate"):
        _require_image(runtime, fn)
    source = (Path(__file__).parent / "conformance" / "nephio-fn" / "catalog" / "workloads"
              / "free5gc" / blueprint)
    trees = []
    for how in ("image", "exec"):
        pkg = scratch_package(source, tmp_path / how / blueprint)
        kptfile = pkg / "Kptfile"
        text = kptfile.read_text()
        kptfile.write_text(text[: text.index("pipeline:")] + PIPELINE_KPTFILE)
        git(pkg, "add", "-A")
        git(pkg, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "k")
        if how == "exec":
            render(pkg)
        else:
            env = {**CLEAN_ENV, "HOME": str(tmp_path), "KPT_FN_RUNTIME": runtime}
            done = subprocess.run(
                [KPT, "fn", "render", str(pkg), "--image-pull-policy", "never"],
                stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
                check=False, timeout=600)
            assert done.returncode == 0, done.stdout + done.stderr
        trees.append({p.relative_to(pkg).as_posix(): p.read_bytes()
                      for p in sorted(pkg.rglob("*")) if p.is_file() and ".git" not in p.parts
                      and p.name != "Kptfile"})
    image_tree, exec_tree = trees
    assert image_tree.keys() == exec_tree.keys()
    assert sum(body.count(b"kind: IPClaim") for body in image_tree.values()) >= 1  # specialized
    assert image_tree == exec_tree
