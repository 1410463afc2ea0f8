"""`krmfn fleet publish OUT --repo GIT_DIR [--branch B]`: the rendered fleet, one commit.

The repository gets one directory per cluster, `<cluster>/<package>/...`, holding each
package as rendered (Kptfile included, so it stays a kpt package), and
`<cluster>/kustomization.yaml` listing the files of the cluster's packages that hold a
resource to apply: a file of `config.kubernetes.io/local-config: "true"` resources only
(the Kptfile, package context, WorkloadCluster, claims) is left out, and kustomize drops
the local-config resources of a mixed file. A GitOps agent pointed at `<cluster>/`
(Config Sync `spec.git.dir`, Flux Kustomization `spec.path`, Argo CD Application
`spec.source.path`) finds the kustomization and builds it, so only what the cluster
should run is applied. What is not a cluster directory in OUT (the lock, the base store
under `.krmfn-fleet/`, a ledger kept there) is never published; other top-level entries
of the repository (a README) are left alone.

Git does the work through its command line, with plumbing and a private index, so a
bare repository and a working clone are published the same way: the tree is built,
committed on the branch (`commit-tree`, `update-ref` with the old value, so a
concurrent change fails instead of being lost) and, when the branch is checked out in a
working clone, its index and files are moved to the new commit too (`read-tree -m -u`,
which refuses to overwrite local changes). Nothing changed: no commit. The commit
message sums up what changed, per package. OUT keeps, in `.krmfn-fleet/published.json`,
the tree id of every package it last published per repository and branch: a package
changed in the repository since (an edit committed there by hand) is not overwritten
silently (see `publish`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from krmfn_fleet.drift import package_files
from krmfn_fleet.errors import FleetError
from krmfn_fleet.placement import LABEL

__all__ = ["KUSTOMIZATION", "Published", "RepoTree", "publish"]

KUSTOMIZATION = "kustomization.yaml"
RECORD = Path(".krmfn-fleet") / "published.json"
_HEADER = ("# Written by `krmfn fleet publish`: the files of this cluster's packages that "
           "hold\n# resources to apply (not config.kubernetes.io/local-config).\n")
LOCAL_CONFIG = "config.kubernetes.io/local-config"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PLAIN = re.compile(r"[A-Za-z0-9._/-]+")  # a file name YAML reads as it is
_RESOURCE = re.compile(r"(^|/)(Kptfile|[^/]+\.ya?ml)$")


@dataclass
class Published:
    """What one publish did: the commit (None when nothing changed) and the packages."""

    commit: str | None
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def _git(repo: str, *args: str, stdin: str | None = None,
         env: Mapping[str, str] | None = None, check: bool = True) -> str:
    proc = subprocess.run(["git", "--git-dir", repo, *args], input=stdin,
                          capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    if check and proc.returncode != 0:
        message = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        raise FleetError(f"{repo}: git {args[0]}: {message}")
    return proc.stdout


def git_dir(repo: str | Path) -> tuple[str, Path | None]:
    """The git directory of `repo` (a bare repository or a working clone) and its work
    tree (None for a bare one)."""
    path = Path(repo)
    if not path.is_dir():
        raise FleetError(f"{repo}: not a git repository (no such directory)")
    proc = subprocess.run(["git", "-C", str(path), "rev-parse", "--absolute-git-dir",
                           "--is-bare-repository"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise FleetError(f"{repo}: not a git repository")
    gd, bare = proc.stdout.split()
    if bare == "true":
        return gd, None
    top = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"],
                         capture_output=True, text=True, check=True).stdout.strip()
    return gd, Path(top)


def _tip(gd: str, branch: str) -> str | None:
    out = _git(gd, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}",
               check=False).strip()
    return out or None


def _default_branch(gd: str) -> str:
    head = _git(gd, "symbolic-ref", "--quiet", "--short", "HEAD", check=False).strip()
    return head or "main"


def _clusters(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir()
                  if p.is_dir() and not p.is_symlink() and LABEL.match(p.name))


def _kustomization(files: Sequence[str]) -> str:
    if not files:  # still there: without it, Flux and Argo CD would apply every file
        return _HEADER + "resources: []\n"
    return _HEADER + "resources:\n" + "".join(
        f"- {f if _PLAIN.fullmatch(f) else _quoted(f)}\n" for f in files)


def _quoted(text: str) -> str:
    """`text` as a YAML double-quoted scalar: printable ASCII as it is, the rest escaped."""
    out = []
    for c in text:
        if " " <= c <= "~" and c not in '"\\':
            out.append(c)
        else:
            out.append(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}")
    return '"' + "".join(out) + '"'


def _packages_of(gd: str, rev: str | None, clusters: Sequence[str]) -> dict[str, str]:
    """cluster/package -> tree id, in `rev`, for the given cluster directories."""
    if rev is None or not clusters:
        return {}
    out: dict[str, str] = {}
    listing = _git(gd, "ls-tree", "-z", rev, "--", *[f"{c}/" for c in clusters])
    for entry in filter(None, listing.split("\0")):
        meta, path = entry.split("\t", 1)
        if meta.split()[1] == "tree":
            out[path] = meta.split()[2]
    return out


def publish(out: str | Path, repo: str | Path, *, branch: str | None = None,
            push: str | None = None, overwrite: bool = False) -> Published:
    """Commit OUT's cluster directories on `branch` of `repo` (see the module's doc).
    `push` names a remote to push the branch to afterwards.

    A package changed in the repository since this OUT last published there (an edit
    committed by hand) is not overwritten: the publish stops, naming it, nothing
    committed, unless what OUT holds for it is that very content, or `overwrite`."""
    base = Path(out)
    if not base.is_dir():
        raise FleetError(f"{out}: no such output directory")
    gd, worktree = git_dir(repo)
    branch = branch or _default_branch(gd)
    parent = _tip(gd, branch)
    clusters = _clusters(base)
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        entries = _stage(gd, base, clusters, Path(tmp))
        _git(gd, "read-tree", "--empty", env=env)
        if entries:
            _git(gd, "update-index", "--add", "--index-info", stdin=entries, env=env)
        published = _git(gd, "ls-tree", _git(gd, "write-tree", env=env).strip())
    gone = _published_clusters(gd, parent, skip=set(clusters))
    kept = [line for line in (_git(gd, "ls-tree", parent).splitlines() if parent else [])
            if line.split("\t", 1)[1] not in set(clusters) | set(gone)]
    tree = _git(gd, "mktree", stdin="".join(f"{line}\n" for line in sorted(
        kept + published.splitlines(), key=lambda e: e.split("\t", 1)[1]))).strip()
    names = sorted(set(clusters) | set(gone))
    before = _packages_of(gd, parent, names)
    after = _packages_of(gd, tree, names)
    where = f"{os.path.realpath(gd)}#{branch}"
    records = _records(base)
    last = records.get(where)
    if last is not None and not overwrite:
        edited = sorted(k for k, v in before.items() if last.get(k) != v and after.get(k) != v)
        if edited:
            more = f" and {len(edited) - 3} more" if len(edited) > 3 else ""
            raise FleetError(
                f"{repo}: {branch}: changed in the repository since the last publish: "
                f"{', '.join(edited[:3])}{more} (`krmfn fleet plan --repo` shows how); "
                "bring the edits into OUT, or --overwrite them; nothing published")
    old_tree = _git(gd, "rev-parse", f"{parent}^{{tree}}").strip() if parent else None
    records[where] = after
    if tree == old_tree:
        _write_records(base, records)
        return Published(None)
    result = Published(None)
    result.created = sorted(set(after) - set(before))
    result.removed = sorted(set(before) - set(after))
    result.changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    message = _message(result)
    args = ["commit-tree", tree, "-F", "-"] + (["-p", parent] if parent else [])
    commit = _git(gd, *args, stdin=message, env=_identity(gd)).strip()
    if worktree is not None and _checked_out(gd) == branch:
        _move_worktree(gd, worktree, parent, commit)
    _git(gd, "update-ref", "-m", "krmfn fleet publish", f"refs/heads/{branch}", commit,
         parent or "0" * len(commit))
    result.commit = commit
    _write_records(base, records)
    if push:
        _git(gd, "push", "--quiet", push, f"refs/heads/{branch}:refs/heads/{branch}")
    return result


def _records(out: Path) -> dict[str, dict[str, str]]:
    """Per repository and branch, the tree id of every package OUT last published there."""
    path = out / RECORD
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError) as exc:
        raise FleetError(f"{path}: not a publish record ({exc})") from None
    return data if isinstance(data, dict) else {}


def _write_records(out: Path, records: Mapping[str, Mapping[str, str]]) -> None:
    path = out / RECORD
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp")
    tmp.write_text(json.dumps(records, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _published_clusters(gd: str, rev: str | None, skip: set[str]) -> list[str]:
    """The top-level directories of `rev`, other than `skip`, that a publish wrote: those
    holding the kustomization it writes (a directory of anyone else is left alone)."""
    if rev is None:
        return []
    out = []
    for name in _git(gd, "ls-tree", "--name-only", "-z", "-d", rev).split("\0"):
        if LABEL.match(name) and name not in skip:
            text = _git(gd, "cat-file", "-p", f"{rev}:{name}/{KUSTOMIZATION}", check=False)
            if text.startswith(_HEADER):
                out.append(name)
    return out


def _stage(gd: str, base: Path, clusters: Sequence[str], tmp: Path) -> str:
    """Write every published file as a blob; the index lines that add them."""
    paths: list[str] = []
    modes: list[str] = []
    extra = tmp / "kustomizations"
    for cluster in clusters:
        resources: list[str] = []
        for pkg in sorted(p for p in (base / cluster).iterdir()
                          if p.is_dir() and not p.is_symlink() and LABEL.match(p.name)):
            for name in package_files(pkg):
                path = pkg / name
                if path.is_symlink():
                    continue
                paths.append(str(path))
                modes.append("100755" if os.access(path, os.X_OK) else "100644")
                if _RESOURCE.search(name) and _applied(path):
                    resources.append(f"{pkg.name}/{name}")
        if (base / cluster).is_dir():
            kz = extra / cluster / KUSTOMIZATION
            kz.parent.mkdir(parents=True, exist_ok=True)
            kz.write_text(_kustomization(resources), encoding="utf-8")
            paths.append(str(kz))
            modes.append("100644")
    if not paths:
        return ""
    ids = _git(gd, "hash-object", "-w", "--stdin-paths", "--no-filters",
               stdin="".join(f"{p}\n" for p in paths)).split()
    lines = []
    for written, mode, blob in zip(paths, modes, ids, strict=True):
        file = Path(written)
        rel = (file.relative_to(extra) if file.is_relative_to(extra)
               else file.relative_to(base))
        lines.append(f"{mode} {blob}\t{rel.as_posix()}\n")
    return "".join(lines)


def _applied(path: Path) -> bool:
    """Whether a resource file holds something a cluster should run: a resource not
    annotated local-config. Files of local-config resources only (the Kptfile, package
    context, claims) stay out of the kustomization: kustomize would drop them from its
    output anyway, but only after refusing two with one name (every package of a cluster
    has its own `kptfile.kpt.dev` ConfigMap)."""
    try:
        docs = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_Loader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return True  # kustomize says what is wrong with it
    for doc in docs:
        if isinstance(doc, dict) and "kind" in doc:
            meta = doc.get("metadata")
            notes = meta.get("annotations") if isinstance(meta, dict) else None
            if not (isinstance(notes, dict)
                    and str(notes.get(LOCAL_CONFIG, "")).lower() == "true"):
                return True
    return False


def _message(result: Published) -> str:
    lines = [f"fleet: {len(result.created)} created, {len(result.changed)} changed, "
             f"{len(result.removed)} removed", ""]
    for action, keys in (("created", result.created), ("changed", result.changed),
                         ("removed", result.removed)):
        lines += [f"{action} {k}" for k in keys]
    return "\n".join(lines) + "\n"


def _identity(gd: str) -> dict[str, str]:
    """The committer git is configured with, or one naming the tool when there is none
    (a CI runner or a fresh machine)."""
    env: dict[str, str] = {}
    for who in ("AUTHOR", "COMMITTER"):
        if subprocess.run(["git", "--git-dir", gd, "var", f"GIT_{who}_IDENT"],
                          capture_output=True).returncode != 0:
            env.setdefault(f"GIT_{who}_NAME", os.environ.get(f"GIT_{who}_NAME",
                                                              "krmfn fleet"))
            env.setdefault(f"GIT_{who}_EMAIL", os.environ.get(f"GIT_{who}_EMAIL",
                                                               "krmfn-fleet@localhost"))
    return env


def _checked_out(gd: str) -> str:
    return _git(gd, "symbolic-ref", "--quiet", "--short", "HEAD", check=False).strip()


def _move_worktree(gd: str, worktree: Path, parent: str | None, commit: str) -> None:
    """Bring the working clone's index and files from `parent` to `commit` (git refuses,
    and nothing is committed, when that would overwrite a local change)."""
    args = ["read-tree", "-m", "-u", parent, commit] if parent else [
        "read-tree", "-m", "-u", commit]
    proc = subprocess.run(["git", "-C", str(worktree), *args], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        message = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        raise FleetError(f"{worktree}: local changes in the working tree would be "
                         f"overwritten ({message}); nothing published")


class RepoTree:
    """Packages as they stand on a branch of a published repository (for the plan's
    drift): file ids from one `git ls-tree`, contents read only for a diff."""

    def __init__(self, repo: str | Path, branch: str | None = None) -> None:
        self.gd, _ = git_dir(repo)
        self.rev = f"refs/heads/{branch or _default_branch(self.gd)}"
        if _tip(self.gd, self.rev.removeprefix("refs/heads/")) is None:
            raise FleetError(f"{repo}: no branch {self.rev.removeprefix('refs/heads/')}")
        self._ids: dict[str, dict[str, str]] = {}
        listing = _git(self.gd, "ls-tree", "-r", "-z", self.rev)
        for entry in filter(None, listing.split("\0")):
            meta, path = entry.split("\t", 1)
            parts = path.split("/", 2)
            if len(parts) == 3:
                self._ids.setdefault(f"{parts[0]}/{parts[1]}", {})[parts[2]] = meta.split()[2]

    def ids(self, key: str) -> dict[str, str] | None:
        return self._ids.get(key)

    def read(self, key: str, name: str) -> bytes | None:
        if name not in self._ids.get(key, {}):
            return None
        proc = subprocess.run(["git", "--git-dir", self.gd, "cat-file", "blob",
                               self._ids[key][name]], capture_output=True)
        return proc.stdout if proc.returncode == 0 else None
