#!/usr/bin/env python3
"""`make demo-sites`: one blueprint, many sites, one command.

Each site of the inventory gets its own copy of the blueprint, fetched with `kpt pkg get`
from a local git repository made from it, so the copy records its upstream and `kpt pkg
update` keeps working. The site's facts go into `site.yaml` (site-specialize's config),
and `kpt fn render` runs the package's own pipeline with this environment's console
scripts as `exec:` functions. All sites draw on one SQLite ledger, which is what keeps
them from ever sharing an address or a VLAN.

Re-running changes nothing: copies are fetched once, files are written only when their
content differs, and the functions answer a rendered package with what it already holds.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
KPT = shutil.which("kpt") or "/usr/bin/kpt"
REF = "main"
SITE_CONFIG = "site.yaml"
LEDGER_FUNCTIONS = ("ipam-inject", "vlan-assign")
VALIDATOR = "policy-validate"
LOCAL_CONFIG = "config.kubernetes.io/local-config"
OWNER = "specializer.nephio.org/owner"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "NFDeployment")
# A fixed identity and date make the upstream commit depend on the blueprint alone, so a
# fresh demo-out records the same upstreamLock as the last one.
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "krmfn demo", "GIT_AUTHOR_EMAIL": "demo@krmfn.invalid",
    "GIT_COMMITTER_NAME": "krmfn demo", "GIT_COMMITTER_EMAIL": "demo@krmfn.invalid",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
}
_OUR_IMAGE = re.compile(
    r"^(\s*-?\s*)image:\s*['\"]?ghcr\.io/krmfn/(?P<fn>[\w-]+)(?::[\w.-]+)?['\"]?[ \t]*$", re.M)


@dataclass(frozen=True)
class Site:
    name: str
    config: dict[str, Any]


@dataclass
class Attachment:
    interface: str
    address: str = "-"
    gateway: str = "-"
    vlan: str = "-"


@dataclass
class SiteReport:
    site: str
    ok: bool = False
    verdict: str = "not run"
    namespace: str = "-"
    attachments: list[Attachment] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


# --- inventory and upstream ------------------------------------------------------------


def load_sites(path: Path) -> list[Site]:
    """The inventory: a YAML list of SiteSpecialize configs, one per site."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list) or not data:
        raise SystemExit(f"{path}: expected a non-empty list of sites")
    sites: list[Site] = []
    for i, entry in enumerate(data):
        name = (entry.get("metadata") or {}).get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name:
            raise SystemExit(f"{path}: entry {i} has no metadata.name")
        sites.append(Site(name, entry))
    if len({s.name for s in sites}) != len(sites):
        raise SystemExit(f"{path}: site names must be unique")
    return sites


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **_GIT_ENV}
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed in {cwd}:\n{proc.stderr}")
    return proc.stdout.strip()


def publish_blueprint(blueprint: Path, repo: Path) -> str:
    """Commit the blueprint's current content to the local upstream repository."""
    if not (repo / ".git").is_dir():
        repo.mkdir(parents=True, exist_ok=True)
        git(repo, "init", "-q", "-b", REF)
    shutil.rmtree(repo / blueprint.name, ignore_errors=True)
    shutil.copytree(blueprint, repo / blueprint.name,
                    ignore=shutil.ignore_patterns(".git", ".expected", "__pycache__"))
    git(repo, "add", "-A")
    if git(repo, "status", "--porcelain"):
        git(repo, "-c", "commit.gpgsign=false", "commit", "-q", "-m", f"{blueprint.name} blueprint")
    return git(repo, "rev-parse", "HEAD")


def kpt(*args: str, cwd: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KPT_CACHE_DIR": str(cache),
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([KPT, *args], cwd=cwd, env=env, capture_output=True, text=True)


# --- one site's package ----------------------------------------------------------------


def write_if_changed(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def site_config_text(site: Site, source: str) -> str:
    config = dict(site.config)
    metadata = dict(config.get("metadata") or {})
    metadata["annotations"] = {**(metadata.get("annotations") or {}), LOCAL_CONFIG: "true"}
    config["metadata"] = metadata
    head = f"# Site facts for {site.name}, from {source} (written by scripts/demo.py).\n"
    return head + yaml.safe_dump(config, sort_keys=False, default_flow_style=False)


def configure(pkg: Path, site: Site, source: str, ledger: str, use_exec: bool) -> None:
    """Give the package its site facts and the shared ledger; run our functions as `exec:`."""
    write_if_changed(pkg / SITE_CONFIG, site_config_text(site, source))
    kptfile = pkg / "Kptfile"
    text = kptfile.read_text(encoding="utf-8")
    if use_exec:
        text = _OUR_IMAGE.sub(lambda m: f"{m.group(1)}exec: {BIN / m.group('fn')}", text)
    write_if_changed(kptfile, text)
    from krmfn import read_package  # the SDK edits the Kptfile and keeps its comments

    rl, package = read_package([str(kptfile)])
    obj = rl.items[0]
    for section in ("mutators", "validators"):
        for i, step in enumerate(obj.get_list(f"pipeline.{section}", [])):
            ref = str(step.get("image") or step.get("exec") or "")
            if function_name(ref) in LEDGER_FUNCTIONS:
                obj.set(f"pipeline.{section}[{i}].configMap", {"ledger": ledger})
    package.write(rl)


def function_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]


def fetch_with_kpt(url: str, target: Path, cache: Path) -> None:
    proc = kpt("pkg", "get", url, str(target), "--for-deployment", cwd=target.parent,
               cache=cache)
    if proc.returncode != 0:
        raise SystemExit(f"kpt pkg get {url} failed:\n{proc.stderr}")


def copy_without_kpt(blueprint: Path, target: Path) -> None:
    """What `kpt pkg get --for-deployment` does to names, without the upstream record."""
    from krmfn import read_package

    shutil.copytree(blueprint, target, ignore=shutil.ignore_patterns(".expected"))
    rl, package = read_package([str(target)])
    for obj in rl.items:
        if obj.kind == "Kptfile" and obj.path == "Kptfile":
            obj.set("metadata.name", target.name)
        elif obj.kind == "ConfigMap" and obj.name == "kptfile.kpt.dev":
            obj.set("data.name", target.name)
    package.write(rl)


def render_with_kpt(pkg: Path, cwd: Path, results: Path,
                    cache: Path) -> tuple[bool, str, list[str]]:
    """Render one package; (ok, validation verdict, error messages)."""
    shutil.rmtree(results, ignore_errors=True)
    results.mkdir(parents=True)
    proc = kpt("fn", "render", str(pkg.relative_to(cwd)), "--allow-exec",
               "--results-dir", str(results), cwd=cwd, cache=cache)
    verdict, messages = "not run", []
    result_files = sorted(results.glob("*.yaml"))
    report = yaml.safe_load(result_files[0].read_text()) if result_files else None
    for item in (report or {}).get("items") or []:
        name = function_name(str(item.get("image") or item.get("exec") or ""))
        failed = item.get("exitCode", 0) != 0
        if name == VALIDATOR:
            verdict = "fail" if failed else "pass"
        for result in item.get("results") or []:
            if result.get("severity") == "error":
                messages.append(f"{name}: {result.get('message', '')}")
        if failed and not item.get("results"):
            messages.append(f"{name}: {str(item.get('stderr', '')).strip() or 'failed'}")
    if proc.returncode != 0 and not messages:
        messages.append(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed")
    return proc.returncode == 0, verdict, messages


def render_in_process(pkg: Path, ledger: Path) -> tuple[bool, str, list[str]]:
    try:
        from krmfn_fleet.pipeline import render_package
    except ImportError:
        return False, "not run", ["kpt is not installed and this krmfn has no in-process "
                                  "pipeline: install kpt (https://kpt.dev) to render"]
    overrides = {fn: {"ledger": str(ledger)} for fn in LEDGER_FUNCTIONS}
    result = render_package(pkg, overrides=overrides)
    verdict, messages = "not run", [result.error] if result.error else []
    for step in result.steps:
        if function_name(step.name) == VALIDATOR:
            verdict = "pass" if step.ok else "fail"
        messages += [f"{function_name(step.name)}: {r.message}" for r in step.results
                     if r.is_error]
    return result.ok, verdict, messages


# --- what a rendered package holds -----------------------------------------------------


def read_resources(pkg: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted(pkg.rglob("*.y*ml")):
        if path.suffix in (".yaml", ".yml"):
            out += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8"))
                    if isinstance(d, dict)]
    return out


def owned_by(obj: dict[str, Any], interface: str) -> bool:
    """Whether a claim or NAD belongs to an Interface: by the owner annotation, else by name."""
    meta = obj.get("metadata") or {}
    owner = str((meta.get("annotations") or {}).get(OWNER, ""))
    if owner.startswith("req.nephio.org/") and ".Interface." in owner:
        return owner.rsplit(".", 1)[-1] == interface
    name = str(meta.get("name", ""))
    return name == interface or name.endswith(f"-{interface}") or bool(
        re.fullmatch(rf"(.+-)?{re.escape(interface)}-ipv[46]", name))


def summarize(pkg: Path) -> tuple[str, list[Attachment]]:
    """The namespace of the workload and, per Interface, what it was given."""
    resources = read_resources(pkg)

    def of_kind(kind: str) -> list[dict[str, Any]]:
        return [r for r in resources if r.get("kind") == kind]

    namespace = next((str(r["metadata"]["namespace"]) for r in resources
                      if r.get("kind") in WORKLOAD_KINDS and r["metadata"].get("namespace")),
                     "-")
    rows = []
    for itf in of_kind("Interface"):
        name = str(itf["metadata"]["name"])
        row = Attachment(name)
        for claim in (c for c in of_kind("IPClaim") if owned_by(c, name)):
            status = claim.get("status") or {}
            row.address = str(status.get("prefix", row.address))
            row.gateway = str(status.get("gateway", row.gateway))
        for claim in (c for c in of_kind("VLANClaim") if owned_by(c, name)):
            row.vlan = str((claim.get("status") or {}).get("vlanID", row.vlan))
        rows.append(row)
    for claim in of_kind("IPClaim"):  # pools, e.g. a DataNetwork's UE addresses
        if (claim.get("spec") or {}).get("kind") == "pool":
            prefix = str((claim.get("status") or {}).get("prefix", "-"))
            rows.append(Attachment(f"{claim['metadata']['name']} (pool)", prefix))
    return namespace, rows


def tree_hash(paths: Sequence[Path]) -> tuple[int, str]:
    """(file count, sha256) over the files of the rendered packages."""
    digest, count = hashlib.sha256(), 0
    for root in paths:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(root.parent)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
            count += 1
    return count, digest.hexdigest()


# --- the whole demo --------------------------------------------------------------------


def use_kpt(runner: str) -> bool:
    return runner == "kpt" or (runner == "auto" and os.access(KPT, os.X_OK))


def run_demo(blueprint: Path, inventory: Path, out: Path, *, with_kpt: bool = True,
             log: Any = print) -> list[SiteReport]:
    """Fetch, configure and render every site of `inventory` under `out`."""
    blueprint, out = blueprint.resolve(), out.resolve()
    sites = load_sites(inventory)
    out.mkdir(parents=True, exist_ok=True)
    cache, ledger = out / ".cache", out / "ledger.sqlite"
    source = str(inventory.resolve().relative_to(ROOT)) if inventory.resolve().is_relative_to(
        ROOT) else inventory.name
    url, commit = "", ""
    if with_kpt:
        commit = publish_blueprint(blueprint, out / ".upstream" / "blueprints")
        url = f"file://{out / '.upstream' / 'blueprints'}.git/{blueprint.name}@{REF}"
        log(f"blueprint {blueprint.name} published to {out / '.upstream'} at {commit[:12]}")
    reports = []
    for site in sites:
        pkg, report = out / site.name, SiteReport(site.name)
        if not (pkg / "Kptfile").is_file():
            shutil.rmtree(pkg, ignore_errors=True)
            if with_kpt:
                fetch_with_kpt(url, pkg, cache)
            else:
                copy_without_kpt(blueprint, pkg)
            log(f"{site.name}: fetched {blueprint.name} into {pkg}")
        elif commit and commit not in (pkg / "Kptfile").read_text(encoding="utf-8"):
            log(f"{site.name}: the blueprint changed since it was fetched; "
                f"`kpt pkg update {pkg}@{REF}` merges the change")
        # The ledger path is relative to where the render runs (out's parent), as a user
        # would write it: `ledger: demo-out/ledger.sqlite`.
        configure(pkg, site, source, f"{out.name}/{ledger.name}", with_kpt)
        if with_kpt:
            report.ok, report.verdict, report.messages = render_with_kpt(
                pkg, out.parent, out / ".results" / site.name, cache)
        else:
            report.ok, report.verdict, report.messages = render_in_process(pkg, ledger)
        report.namespace, report.attachments = summarize(pkg)
        reports.append(report)
    return reports


def print_table(reports: Sequence[SiteReport]) -> None:
    header = ("site", "namespace", "interface", "address", "gateway", "vlan", "policy")
    rows: list[tuple[str, ...]] = []
    for r in reports:
        for i, a in enumerate(r.attachments or [Attachment("-")]):
            first = i == 0
            rows.append((r.site if first else "", r.namespace if first else "", a.interface,
                         a.address, a.gateway, a.vlan, r.verdict if first else ""))
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--blueprint", type=Path, default=ROOT / "examples/blueprint/upf-lite")
    parser.add_argument("--sites", type=Path, default=ROOT / "examples/sites.yaml")
    parser.add_argument("--out", type=Path, default=Path("demo-out"),
                        help="where the site packages go (OUT/<site>); default demo-out")
    parser.add_argument("--runner", choices=("auto", "kpt", "in-process"), default="auto",
                        help="kpt fn render (the default when kpt is installed) or the SDK's "
                             "in-process pipeline")
    args = parser.parse_args(argv)
    out, with_kpt = args.out.resolve(), use_kpt(args.runner)
    packages = [out / s.name for s in load_sites(args.sites)]
    before = tree_hash(packages) if all(p.is_dir() for p in packages) else None
    if not with_kpt:
        print(f"kpt is not installed ({KPT}): rendering with the in-process pipeline")
    start = time.perf_counter()
    reports = run_demo(args.blueprint, args.sites, out, with_kpt=with_kpt)
    elapsed = time.perf_counter() - start
    print()
    print_table(reports)
    for r in reports:
        for message in r.messages:
            print(f"{r.site}: {message}", file=sys.stderr)
    count, digest = tree_hash(packages)
    same = " (unchanged since the last run)" if before == (count, digest) else ""
    print(f"\n{len(reports)} sites rendered in {elapsed:.1f}s; {count} files, "
          f"sha256 {digest[:16]}{same}")
    where = os.path.relpath(out) if out.is_relative_to(Path.cwd()) else str(out)
    print(f"Rendered packages: {where}/<site>/ (shared ledger {where}/ledger.sqlite)")
    cd = "" if out.parent == Path.cwd() else f"cd {out.parent} && "
    one = f"{out.name}/{reports[0].site}"
    if with_kpt:
        print(f"Render one yourself: {cd}kpt fn render {one} --allow-exec")
    else:
        print(f"Render one yourself: {cd}{sys.executable} -c 'from krmfn_fleet.pipeline import "
              f"render_package; print(render_package(\"{one}\").ok)'")
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
