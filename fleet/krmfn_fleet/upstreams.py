"""Where a PackageVariantSet's blueprint comes from: a directory of the fleet, or a git
repository at a ref, as Porch reads a registered Repository.

`spec.upstream: {repo, package, revision}` names a `config.porch.kpt.dev/v1alpha1
Repository` of the fleet when there is one of that name (`spec.git.repo`, `branch`,
`directory`); else the directory `repositories/<repo>/<package>/` of the fleet. For a git
Repository the package is `<directory>/<package>` of the repository, and the revision
(`revision`, or Porch's newer `workspaceName`) is found as kpt and Porch tag package
revisions: first the tag `<directory>/<package>/<revision>` (`.../v<N>` for Porch's
numbered revision N), then the tag, the branch or the commit `<revision>`; without a
revision, the head of `spec.git.branch` (default `main`). A relative `spec.git.repo` is
relative to the fleet directory.

Reading uses the git command line only. Each repository is fetched (branches and tags)
into a bare mirror in a cache directory, and each package revision is extracted from it
once, by commit, into that cache, `OUT/.krmfn-cache` (`git_cache`: kept by a render, so
the next one fetches only what is new; a plan uses it when it is there, else makes it
and removes it again). What is extracted is read-only input: a symbolic link or a path
that would land outside the cache refuses the package.

The rendered package then records what `kpt pkg get REPO/DIR@REF` writes (the Kptfile's
`upstream` and `upstreamLock`, each resource's upstream identity: `record_upstream`),
so `kpt pkg update` works on it. A package from a
fleet directory records neither (a directory is no upstream kpt can update from): any
`upstream` or `upstreamLock` the blueprint's own Kptfile holds names the blueprint's
upstream, not the package's, and is removed.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from krmfn import KubeObject
from krmfn._errors import KrmfnError

from krmfn_fleet.errors import FleetError
from krmfn_fleet.inputs import Fleet, FleetObject

__all__ = ["CACHE", "IDENTIFIER", "REPOSITORY_API_VERSION", "GitUpstream", "git_cache",
           "record_upstream", "resolve_upstream"]

CACHE = ".krmfn-cache"
REPOSITORY_API_VERSION = "config.porch.kpt.dev/v1alpha1"
IDENTIFIER = "internal.kpt.dev/upstream-identifier"
_HEX = re.compile(r"^[0-9a-f]{7,40}$")
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")  # no `~`, `^`, `@{`: a name, not an expression
_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}


@dataclass(frozen=True)
class GitUpstream:
    """A package revision read from git, as the Kptfile records it."""

    repo: str  # as kpt records it: the Repository's spec.git.repo (a path made absolute)
    directory: str  # the package's path in the repository, without a leading slash
    ref: str  # what was asked for: the revision, or the Repository's branch
    locked_ref: str  # what it was found as: a tag, a branch or the commit
    commit: str

    def to_json(self) -> dict[str, str]:
        return {"repo": self.repo, "directory": self.directory, "ref": self.ref,
                "lockedRef": self.locked_ref, "commit": self.commit}


def _git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, **_ENV}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True,
                          check=False)


def _last_line(raw: bytes) -> str:
    lines = [ln.strip() for ln in raw.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1] if lines else "no message"


@contextmanager
def git_cache(out: Path, *, keep: bool = True) -> Iterator[Path]:
    """The cache under OUT. What this call made (the cache, and OUT when it did not exist)
    is removed again when what runs inside fails (a failed render writes nothing), and
    also on success unless `keep` (a plan writes nothing: it reuses the render's cache when
    there is one, else fetches into a cache of its own and removes it)."""
    cache = out / CACHE
    made = next((p for p in (out, cache) if not p.exists()), None)
    try:
        yield cache
    except BaseException:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
        raise
    if made is not None and not keep:
        shutil.rmtree(made, ignore_errors=True)


def resolve_upstream(fleet: Fleet, pvs: FleetObject,
                     upstream: dict[str, Any]) -> tuple[Path, GitUpstream | None]:
    """The blueprint directory of a PackageVariantSet's upstream, and where it came from
    when that is git. Errors name the PackageVariantSet and the field at fault."""
    repo, package = str(upstream["repo"]), str(upstream["package"])
    repository = next((o for o in fleet.objects if o.kind == "Repository"
                       and o.api_version == REPOSITORY_API_VERSION and o.name == repo), None)
    if repository is None:
        blueprint = fleet.blueprint(repo, package)
        if not (blueprint / "Kptfile").is_file():
            raise FleetError(f"{pvs.where('spec.upstream')}: no blueprint {repo}/{package} "
                             f"(no Repository {repo} in the fleet, and no package with a "
                             f"Kptfile at {blueprint})")
        return blueprint, None
    field = "revision" if upstream.get("revision") is not None else "workspaceName"
    revision = str(upstream.get(field) or "")
    key = (repo, package, revision)
    if key not in fleet.upstreams:
        fleet.upstreams[key] = _from_git(fleet, pvs, repository, package, revision, field)
    found: tuple[Path, GitUpstream] = fleet.upstreams[key]
    return found


def _repository(fleet: Fleet, repository: FleetObject) -> tuple[str, str, str]:
    """(url, branch, directory) of a git Repository, checked."""
    spec = repository.data.get("spec")
    if not isinstance(spec, dict):
        raise FleetError(f"{repository.where('spec')}: expected a map")
    if spec.get("type", "git") != "git":
        raise FleetError(f"{repository.where('spec.type')}: {spec.get('type')!r}: only git "
                         "repositories can be read offline")
    git = spec.get("git")
    if not isinstance(git, dict) or not isinstance(git.get("repo"), str) or not git["repo"]:
        raise FleetError(f"{repository.where('spec.git.repo')}: expected the repository's "
                         "URL or path")
    url = git["repo"]
    if "://" not in url and not re.match(r"^[\w.-]+@[\w.-]+:", url):  # a local path
        url = str((fleet.root / url).resolve())
    directory = str(git.get("directory") or "").strip("/")
    if ".." in directory.split("/"):
        raise FleetError(f"{repository.where('spec.git.directory')}: {directory!r} must "
                         "stay inside the repository")
    return url, str(git.get("branch") or "main"), directory


def _from_git(fleet: Fleet, pvs: FleetObject, repository: FleetObject, package: str,
              revision: str, field: str) -> tuple[Path, GitUpstream]:
    url, branch, directory = _repository(fleet, repository)
    if fleet.cache is None:
        raise FleetError(f"{pvs.where('spec.upstream.repo')}: a git upstream needs a cache "
                         "directory")
    path = f"{directory}/{package}" if directory else package
    mirror = _mirror(fleet.cache, url, pvs, repository)
    asked = revision or branch
    if revision and (not _REF.match(revision) or ".." in revision):
        raise FleetError(f"{pvs.where(f'spec.upstream.{field}')}: {revision!r} is not a tag, "
                         "branch or commit name")
    candidates = ([f"refs/tags/{path}/{revision}", f"refs/tags/{revision}",
                   f"refs/heads/{revision}"] if revision else [f"refs/heads/{branch}"])
    if revision.isdigit():  # Porch numbers a package's revisions, tagged <path>/v<N>
        candidates.insert(1, f"refs/tags/{path}/v{revision}")
    if revision and _HEX.match(revision):
        candidates.append(revision)
    for ref in candidates:
        done = _git("--git-dir", str(mirror), "rev-parse", "--verify", "--quiet",
                    f"{ref}^{{commit}}")
        if done.returncode == 0:
            commit = done.stdout.decode().strip()
            locked = ref.removeprefix("refs/tags/").removeprefix("refs/heads/")
            break
    else:
        where = (pvs.where(f"spec.upstream.{field}") if revision
                 else repository.where("spec.git.branch"))
        wanted = (f"no tag {path}/{revision} or {revision}, branch or commit {revision}"
                  if revision else f"no branch {branch}")
        raise FleetError(f"{where}: {wanted} in {url}")
    if _git("--git-dir", str(mirror), "cat-file", "-e", f"{commit}:{path}/Kptfile").returncode:
        raise FleetError(f"{pvs.where('spec.upstream.package')}: no package {path} (a "
                         f"directory with a Kptfile) at {asked} (commit {commit[:12]}) in "
                         f"{url}")
    if locked == f"{path}/v{revision}":
        asked = f"v{revision}"  # the ref kpt pkg update finds that tag by
    blueprint = _extract(fleet.cache, mirror, commit, path, pvs)
    return blueprint, GitUpstream(url, path, asked, locked, commit)


def _mirror(cache: Path, url: str, pvs: FleetObject, repository: FleetObject) -> Path:
    """A bare mirror of the repository in the cache, fetched now (branches and tags)."""
    mirror = cache / "git" / (hashlib.sha256(url.encode()).hexdigest()[:20] + ".git")
    fresh = not mirror.is_dir()
    if fresh:
        mirror.parent.mkdir(parents=True, exist_ok=True)
        done = _git("init", "--quiet", "--bare", str(mirror))
        if done.returncode:
            raise FleetError(f"{mirror}: cannot make a git mirror: {_last_line(done.stderr)}")
    done = _git("--git-dir", str(mirror), "fetch", "--quiet", "--force", "--prune",
                "--no-recurse-submodules", "--", url,
                "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
    if done.returncode:
        if fresh:
            shutil.rmtree(mirror, ignore_errors=True)
        raise FleetError(f"{pvs.where('spec.upstream.repo')}: Repository {repository.name} "
                         f"({repository.file}): spec.git.repo: cannot fetch {url}: "
                         f"{_last_line(done.stderr)}")
    return mirror


def _extract(cache: Path, mirror: Path, commit: str, path: str, pvs: FleetObject) -> Path:
    """The package's files at the commit, in the cache (once per commit and path)."""
    key = hashlib.sha256(f"{commit}\0{path}".encode()).hexdigest()[:24]
    target = cache / "packages" / key
    if (target / "Kptfile").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".tmp-") as tmp:
        archive = Path(tmp) / "package.tar"
        done = _git("--git-dir", str(mirror), "archive", "--format=tar",
                    f"--output={archive}", commit, "--", path)
        if done.returncode:
            raise FleetError(f"{pvs.where('spec.upstream.package')}: cannot read {path} at "
                             f"{commit[:12]}: {_last_line(done.stderr)}")
        try:
            with tarfile.open(archive) as tar:
                for member in tar.getmembers():
                    if member.issym() or member.islnk():
                        raise FleetError(f"{pvs.where('spec.upstream.package')}: {path} at "
                                         f"{commit[:12]} holds a link ({member.name}): "
                                         "refused")
                tar.extractall(Path(tmp) / "tree", filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise FleetError(f"{pvs.where('spec.upstream.package')}: cannot extract {path} "
                             f"at {commit[:12]}: {exc}") from None
        shutil.rmtree(target, ignore_errors=True)
        os.replace(Path(tmp) / "tree" / path, target)
    return target


def record_upstream(items: list[KubeObject], kptfile: KubeObject,
                    upstream: GitUpstream | None) -> None:
    """What `kpt pkg get` writes into a package fetched from git: the Kptfile's `upstream`
    and `upstreamLock`, and on every other resource the identity it has upstream (the
    `# kpt-merge: NAMESPACE/NAME` comment on `metadata` and the annotation
    `internal.kpt.dev/upstream-identifier: GROUP|KIND|NAMESPACE|NAME`, namespace `default`
    when none), by which `kpt pkg update` finds a resource that a function renamed or moved
    to another namespace. An identifier already there is kept, as kpt keeps it; a line
    comment of another kind on `metadata` too. For a directory, none of it (see the
    module's docstring)."""
    if upstream is None:
        kptfile.delete("upstream")
        kptfile.delete("upstreamLock")
        return
    for obj in items:
        if obj is kptfile or not obj.name:
            continue
        if obj.get_annotation(IDENTIFIER) is None:
            obj.set_annotation(IDENTIFIER, f"{obj.group}|{obj.kind}|"
                                           f"{obj.namespace or 'default'}|{obj.name}")
        comment = obj.line_comment("metadata")
        if not comment or comment.startswith("kpt-merge:"):
            with suppress(KrmfnError):  # metadata sharing its line: the annotation serves
                obj.set_line_comment("metadata", f"kpt-merge: {obj.namespace}/{obj.name}")
    directory = f"/{upstream.directory}"
    kptfile.set("upstream", {"type": "git", "git": {
        "repo": upstream.repo, "directory": directory, "ref": upstream.ref},
        "updateStrategy": "resource-merge"})
    kptfile.set("upstreamLock", {"type": "git", "git": {
        "repo": upstream.repo, "directory": directory, "ref": upstream.locked_ref,
        "commit": upstream.commit}})
