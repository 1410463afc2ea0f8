"""What the steps no installed package registers would run, as an input of the plan.

An `exec:` step's program and an `image:` step's image are inputs of a render like the
blueprint's files: a program edited or an image tag moved to other contents must make
the plan call the package changed, or render would skip it and leave output the new
function would not write. A program inside the blueprint is already among its files;
one outside it (`../tools/fn`, an absolute path, a name found on PATH) is read here,
resolved as `krmfn_fleet.external` resolves it. An image is the local image the
container runtime would run (its id; the runtime runs what it holds, pulling only what
it lacks), or "absent" when it holds none under that name. What a program reads or runs
in its turn is not followed.
"""

from __future__ import annotations

import hashlib
import shlex
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from krmfn_fleet.external import KPT_CATALOG, container_runtime
from krmfn_fleet.functions import function_name, registered

__all__ = ["Programs"]


class Programs:
    """Digests of external steps' programs and images, each looked at once per run."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], str] = {}
        self._registered = set(registered())

    def of(self, steps: Iterable[Mapping[str, Any]], package_dir: Path) -> list[list[str]]:
        """[kind, reference, what it is now] for every step of `steps` no installed
        package registers, in pipeline order; empty when there is none."""
        out = []
        for step in steps:
            ref = str(step.get("image") or step.get("exec") or "")
            if not ref or function_name(ref) in self._registered:
                continue
            if step.get("image"):
                image = ref if "/" in ref else f"{KPT_CATALOG}/{ref}"
                out.append(["image", ref, self._look("image", image, _image_id)])
            else:
                program = _program(ref, package_dir)
                out.append(["exec", ref, self._look("exec", program, _file_digest)])
        return out

    def _look(self, kind: str, name: str, how: Callable[[str], str]) -> str:
        key = (kind, name)
        if key not in self._seen:
            self._seen[key] = how(name)
        return self._seen[key]


def _program(ref: str, package_dir: Path) -> str:
    """The file an exec runs: a path from the package's directory, a bare name from PATH."""
    try:
        argv = shlex.split(ref)
    except ValueError:
        return ""
    if not argv:
        return ""
    if "/" in argv[0]:
        path = Path(argv[0])
        return str(path if path.is_absolute() else package_dir.resolve() / path)
    return shutil.which(argv[0]) or f"not on PATH: {argv[0]}"


def _file_digest(name: str) -> str:
    try:
        return "sha256:" + hashlib.sha256(Path(name).read_bytes()).hexdigest()
    except OSError as exc:
        return f"unreadable: {exc.strerror or type(exc).__name__}"


def _image_id(image: str) -> str:
    runtime = container_runtime()
    if runtime is None:
        return "no container runtime"
    try:
        done = subprocess.run([runtime, "image", "inspect", "--format", "{{.Id}}", image],
                              capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown: {type(exc).__name__}"
    found = done.stdout.strip().splitlines()
    return found[0] if done.returncode == 0 and found else "absent"
