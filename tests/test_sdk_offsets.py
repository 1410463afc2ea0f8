"""Every offset skew: an edit lands where it would in plain ASCII text with LF line breaks.

Generated packages carry what shifts positions between bytes, characters and what
libyaml counts: a byte order mark, CRLF line breaks (the edited line last, with and
without a final line break), multi-byte and astral-plane characters before the edited
line, tabs in comments and values. Each runs through set-namespace and site-specialize on
stdin (read whole and lazily) and on files (`--in-place`, and to stdout), and must give
exactly what its plain twin gives: the same text with every such character replaced by
one ASCII character (so every character index is the same), LF line breaks, no BOM.
Files keep their BOM and their CRLF line breaks.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import krmfn._large.lazy_list as lazy
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))
from krmfn._run.cli_function import run_cli
from oracle import catalog_functions, console, lazy_limits

FUNCTIONS = catalog_functions()
ARGS = {"set-namespace": ["namespace=x-ns"],
        "site-specialize": ["clusterName=edge-7", "siteCode=s7"]}
EXOTIC = re.compile(r"[^\x00-\x7f]|\t")
# what each skew is made of: two- and three-byte characters, astral-plane ones (one
# character, four bytes, two UTF-16 units), and tabs
WORDS = st.sampled_from(["plain", "café", "naïve", "日本語", "😀", "a😀b", "\U0001d518\U0001d52b",
                         "tab\there", "Ünïcødé ✓", "x"])


def plain_twin(text: str) -> str:
    """The same text in ASCII: each exotic character becomes one letter (a tab a space)."""
    return EXOTIC.sub(lambda m: " " if m.group() == "\t" else "Z", text)


@st.composite
def value(draw: st.DrawFn) -> str:
    """A value after `key:` (with the separator), exotic characters inside."""
    word = draw(WORDS)
    form = draw(st.sampled_from(["plain", "double", "single", "tab-separated", "block"]))
    if form == "double":
        return f' "{word}"'
    if form == "single":
        return f" '{word}'"
    if form == "tab-separated":
        return "\t" + word.replace("\t", " ")
    if form == "block":
        return f" |\n      {word}\n      {draw(WORDS)}"
    return " " + word.replace("\t", " ")


def comment(draw: st.DrawFn) -> str:
    return " #" + draw(st.sampled_from([" ", "\t"])) + draw(WORDS)


@st.composite
def resource(draw: st.DrawFn, index: int) -> str:
    """One resource at column 0: metadata first or last, `namespace:` (when it has one)
    its last line, exotic characters before it."""
    lines = []
    if draw(st.booleans()):
        lines.append("#" + comment(draw)[2:])
    kind = draw(st.sampled_from(["ConfigMap", "Service"]))
    lines += ["apiVersion: v1", f"kind: {kind}"]
    data = ["data:" + (comment(draw) if draw(st.booleans()) else "")]
    for key in draw(st.lists(st.sampled_from(["k1", "k2", "clé", "鍵"]), min_size=1,
                             max_size=3, unique=True)):
        data.append(f"  {key}:{draw(value())}")
    meta = [f"metadata:{comment(draw) if draw(st.booleans()) else ''}",
            f"  name: r{index}{comment(draw) if draw(st.booleans()) else ''}"]
    if draw(st.booleans()):
        meta += ["  annotations:", f"    note:{draw(value())}".replace("\n      ", "\n        ")]
    if draw(st.booleans()):
        meta.append("  namespace: old" + (comment(draw) if draw(st.booleans()) else ""))
    lines += [*data, *meta] if draw(st.booleans()) else [*meta, *data]
    return "\n".join(lines)


@st.composite
def packages(draw: st.DrawFn) -> dict[str, Any]:
    docs = [draw(resource(i)) for i in range(draw(st.integers(3, 5)))]
    return {"docs": docs, "bom": draw(st.booleans()), "crlf": draw(st.booleans()),
            "final": draw(st.booleans()), "function": draw(st.sampled_from(sorted(ARGS))),
            "files": draw(st.integers(1, len(docs))), "markers": draw(st.booleans()),
            "document_boms": draw(st.booleans())}


def encode(text: str, *, bom: bool, crlf: bool) -> str:
    return ("\ufeff" if bom else "") + (text.replace("\n", "\r\n") if crlf else text)


def resource_list(docs: list[str], function: str, final: bool) -> str:
    items = []
    for doc in docs:
        lines = doc.split("\n")
        items.append("\n".join(["- " + lines[0], *("  " + ln if ln else ln
                                                  for ln in lines[1:])]))
    config = "\n".join(f"    {a.replace('=', ': ')}" for a in ARGS[function])
    text = ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nfunctionConfig:\n"
            "  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: fn\n  data:\n"
            f"{config}\nitems:\n" + "\n".join(items))
    return text + "\n" if final else text


def run_stdin(function: str, text: str) -> str:
    fn = FUNCTIONS[function]
    with lazy_limits(10**9, lazy.RESIDENT):
        whole = fn.run_text(text)
    with lazy_limits(3, 2, worker_min_text=0):
        piecewise = fn.run_text(text)
    assert whole.exit_code == 0, whole.stderr
    assert piecewise == whole, "read lazily, the output differs"
    return whole.stdout


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(packages())
def test_stdin_edits_land_where_they_do_in_plain_text(pkg: dict[str, Any]) -> None:
    text = resource_list(pkg["docs"], pkg["function"], pkg["final"])
    out = run_stdin(pkg["function"], encode(text, bom=pkg["bom"], crlf=pkg["crlf"]))
    twin = run_stdin(pkg["function"], plain_twin(text))
    assert ("\r" in out) == pkg["crlf"]
    assert plain_twin(out.replace("\r\n", "\n")) == twin
    check_edit(pkg["function"], load(text)["items"], load(out)["items"])


def load(text: str) -> Any:
    return yaml.load(text, Loader=yaml.CSafeLoader)  # PyYAML's own reader refuses `k:\tv`


def check_edit(function: str, before: list[dict[str, Any]], after: list[dict[str, Any]]) -> None:
    """What the edit must give, read as data: the namespace, or the site's labels."""
    for old, new in zip(before, after, strict=True):
        meta = dict(old["metadata"])
        if function == "set-namespace":
            meta["namespace"] = "x-ns"
        else:
            meta["labels"] = {"nephio.org/cluster-name": "edge-7", "nephio.org/site": "s7"}
        strip = ("internal.config.kubernetes.io/", "config.kubernetes.io/")
        notes = {k: v for k, v in (new["metadata"].get("annotations") or {}).items()
                 if not k.startswith(strip)}
        got = {k: v for k, v in new["metadata"].items() if k != "annotations"}
        if notes:
            got["annotations"] = notes
        assert got == meta
        assert {k: v for k, v in new.items() if k != "metadata"} == {
            k: v for k, v in old.items() if k != "metadata"}


def write_package(root: Path, pkg: dict[str, Any], *, twin: bool) -> dict[str, str]:
    """The docs spread over files (several documents to a file, with or without `---`
    and `...` markers); their texts by name."""
    docs, count = pkg["docs"], pkg["files"]
    texts = {}
    for i in range(count):
        # a byte order mark may start every document of a stream, not only the first
        after = "\n---\n" + ("\ufeff" if pkg["document_boms"] and not twin else "")
        if pkg["markers"]:  # documents that say where they start and end
            text = "--- # start\n" + after.replace("\n", "\n...\n", 1).join(
                docs[i::count]) + "\n..."
        else:
            text = after.join(docs[i::count])
        text = text + "\n" if pkg["final"] else text
        texts[f"f{i}.yaml"] = plain_twin(text) if twin else encode(
            text, bom=pkg["bom"], crlf=pkg["crlf"])
    root.mkdir()
    for name, text in texts.items():
        (root / name).write_bytes(text.encode())
    return texts


def run_files(function: str, *args: str) -> str:
    with console(b"") as (out, err):
        code = run_cli(FUNCTIONS[function], [*args, *ARGS[function]])
    assert code == 0, err.getvalue()
    return out.getvalue()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(pkg=packages())
def test_files_are_edited_in_place_where_plain_text_is(pkg: dict[str, Any],
                                                       tmp_path_factory: pytest.TempPathFactory
                                                       ) -> None:
    base = tmp_path_factory.mktemp("pkg")
    given_texts = write_package(base / "given", pkg, twin=False)
    write_package(base / "twin", pkg, twin=True)
    function = pkg["function"]
    listed = run_files(function, str(base / "given"))
    assert plain_twin(listed) == run_files(function, str(base / "twin"))
    run_files(function, str(base / "given"), "--in-place")
    run_files(function, str(base / "twin"), "--in-place")
    for name, before in given_texts.items():
        after = (base / "given" / name).read_bytes().decode()
        assert after.startswith("\ufeff") == pkg["bom"]
        assert after.count("\ufeff") == before.count("\ufeff")
        assert ("\r" in after) == pkg["crlf"]
        if pkg["crlf"]:
            assert after.count("\r\n") == after.count("\n")
        assert after.endswith("\n") == before.endswith("\n")
        plain = after.replace("\ufeff", "").replace("\r\n", "\n")
        assert plain_twin(plain) == (base / "twin" / name).read_text()
        check_edit(function, list(yaml.load_all(before.replace("\ufeff", ""),
                                                Loader=yaml.CSafeLoader)),
                   list(yaml.load_all(plain, Loader=yaml.CSafeLoader)))


def test_a_bom_file_is_edited_at_the_right_place(tmp_path: Path) -> None:
    (tmp_path / "cm.yaml").write_bytes("\ufeffapiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                                       "  name: c\n  namespace: old\n".encode())
    listed = run_files("set-namespace", str(tmp_path))
    assert "\ufeff" not in listed and load(listed)["items"][0]["metadata"][
        "namespace"] == "x-ns"
    run_files("set-namespace", str(tmp_path), "--in-place")
    assert (tmp_path / "cm.yaml").read_bytes().decode() == (
        "\ufeffapiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: x-ns\n")


def test_mixed_line_breaks_are_read_and_written_as_lf(tmp_path: Path) -> None:
    """A text that mixes CRLF and LF is read as LF, and what is written from it uses LF
    (it said nothing consistent to keep)."""
    text = ("apiVersion: config.kubernetes.io/v1\r\nkind: ResourceList\nitems:\r\n"
            "- apiVersion: v1\n  kind: ConfigMap\r\n  metadata:\n    name: c\r\n"
            "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: f}\n"
            "  data: {namespace: x-ns}\n")
    out = run_stdin("set-namespace", text)
    assert "\r" not in out
    assert load(out)["items"][0]["metadata"] == {"name": "c", "namespace": "x-ns"}
