"""Packages of YAML files: read into a ResourceList in kpt's order, written back with every
file that did not change left alone and every other one replaced atomically."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
from krmfn import InputError, KubeObject, read_package

MULTI = dedent("""\
    ---
    # the first
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: a
    --- # a separator with a comment
    # a document of comments only
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: b
    ...
    """)


@pytest.fixture
def pkg(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n"
                                  "  name: pkg\n")
    (root / "multi.yaml").write_text(MULTI)
    (root / "sub" / "x.yml").write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: x")
    (root / "sub" / "deeper" / "y.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: y\n")
    (root / "sub" / "notes.md").write_text("# not yaml\n")
    (root / ".git" / "config.yaml").write_text("ignored: true\n")
    (root / ".krmignore").write_text("# not resources\n.git/\n")  # as kpt reads hidden files
    (root / "comments.yaml").write_text("# nothing but a comment\n")
    return root


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_ino)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_read_in_kpt_order_with_path_and_index(pkg: Path) -> None:
    rl, _ = read_package([str(pkg)])
    assert [(o.name, o.path, o.index) for o in rl.items] == [
        ("pkg", "Kptfile", 0), ("a", "multi.yaml", 0), ("b", "multi.yaml", 1),
        ("y", "sub/deeper/y.yaml", 0), ("x", "sub/x.yml", 0)]
    assert rl.items[1].to_yaml() == "# the first\napiVersion: v1\nkind: ConfigMap\n" \
                                    "metadata:\n  name: a\n"


def test_files_and_directories_together(pkg: Path) -> None:
    rl, package = read_package([str(pkg / "multi.yaml"), str(pkg / "sub")])
    assert package.root == pkg
    assert sorted(o.path for o in rl.items) == ["multi.yaml", "multi.yaml",
                                                "sub/deeper/y.yaml", "sub/x.yml"]


def test_nothing_changed_nothing_written(pkg: Path) -> None:
    before = snapshot(pkg)
    rl, package = read_package([str(pkg)])
    assert package.write(rl) == []
    assert snapshot(pkg) == before
    rendered = package.render_files(rl)
    assert all(rendered[name] == (pkg / name).read_text() for name in rendered)


def test_an_edit_rewrites_its_file_only(pkg: Path) -> None:
    before = snapshot(pkg)
    rl, package = read_package([str(pkg)])
    rl.items[2].set_label("app", "b")
    rl.items[4].set_label("app", "x")
    assert package.write(rl) == ["multi.yaml", "sub/x.yml"]
    after = snapshot(pkg)
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {"multi.yaml", "sub/x.yml"}
    assert (pkg / "multi.yaml").read_text() == MULTI.replace(
        "  name: b\n", "  name: b\n  labels:\n    app: b\n")
    assert (pkg / "sub" / "x.yml").read_text() == (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n  labels:\n    app: x")
    assert not [p.name for p in pkg.rglob(".*") if p.is_file() and ".git" not in p.parts
                and p.name != ".krmignore"]


def test_removed_and_added_resources(pkg: Path) -> None:
    rl, package = read_package([str(pkg)])
    rl.items[:] = [o for o in rl.items if o.name not in ("a", "y")]
    rl.items.append(KubeObject.from_dict({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "new", "annotations": {"config.kubernetes.io/path": "sub/x.yml"}}}))
    rl.items.append(KubeObject.from_dict({"apiVersion": "v1", "kind": "Secret",
                                          "metadata": {"name": "s"}}))
    written = package.write(rl)
    assert sorted(written) == ["multi.yaml", "secret_s.yaml", "sub/deeper/y.yaml", "sub/x.yml"]
    assert not (pkg / "sub" / "deeper" / "y.yaml").exists()
    assert (pkg / "multi.yaml").read_text() == dedent("""\
        --- # a separator with a comment
        # a document of comments only
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: b
        ...
        """)
    assert (pkg / "sub" / "x.yml").read_text() == (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: new\n")
    assert (pkg / "secret_s.yaml").read_text() == (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n")
    assert (pkg / "comments.yaml").read_text() == "# nothing but a comment\n"


def test_removing_the_last_resource_of_a_file_takes_its_separator(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text("apiVersion: v1\nkind: A\nmetadata:\n  name: a\n---\n"
                                     "apiVersion: v1\nkind: A\nmetadata:\n  name: b\n")
    rl, package = read_package([str(tmp_path)])
    del rl.items[1]
    package.write(rl)
    assert (tmp_path / "f.yaml").read_text() == "apiVersion: v1\nkind: A\nmetadata:\n  name: a\n"


def test_file_permissions_are_kept(pkg: Path) -> None:
    target = pkg / "multi.yaml"
    target.chmod(0o600)
    rl, package = read_package([str(pkg)])
    rl.items[1].set_label("x", "1")
    package.write(rl)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_failed_write_leaves_every_file_as_it_was(pkg: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(pkg)
    rl, package = read_package([str(pkg)])
    rl.items[1].set_label("x", "1")
    rl.items[4].set_label("x", "1")
    real = os.write
    calls: list[int] = []

    def second_fails(fd: int, data: Any) -> int:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(os, "write", second_fails)
    with pytest.raises(InputError, match=r"cannot write sub/x\.yml: No space left on device"):
        package.write(rl)
    monkeypatch.undo()
    assert len(calls) == 2
    assert snapshot(pkg) == before  # the first file's temporary copy is gone too


@pytest.mark.parametrize(("name", "content", "message"), [
    ("bad.yaml", b"a: [\n", "bad.yaml: invalid YAML at line 2"),
    ("list.yaml", b"- a\n", "list.yaml: the document is not a mapping"),
    ("latin.yaml", b"a: \xe9\n", "latin.yaml: not UTF-8 text"),
])
def test_unreadable_files_are_named(tmp_path: Path, name: str, content: bytes,
                                    message: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_package([str(tmp_path)])


def test_missing_paths(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or directory"):
        read_package([str(tmp_path / "nope")])
