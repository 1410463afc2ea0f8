"""The command line of every function: kpt's stdin/stdout protocol, or standalone over
files and directories (`set-namespace DIR namespace=prod --in-place`)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

if TYPE_CHECKING:
    from krmfn._model.object import KubeObject
    from krmfn._model.resource_list import ResourceList

__all__ = ["run_cli"]

_USAGE = """usage: {name} [-h] [--config FILE] [--in-place] [PATH ...] [KEY=VALUE ...]

Reads a ResourceList on stdin and writes one on stdout (kpt's function protocol).
With PATHs (files or directories of YAML) it runs standalone: the resources are read
from the files and written to stdout as a ResourceList, or back into the files with
--in-place (atomically; nothing is written if the function reports an error).
KEY=VALUE pairs form a ConfigMap functionConfig; --config FILE reads one from a file.
"""


class Output(Protocol):
    """What one run printed and returned (`krmfn.RunOutput`)."""

    @property
    def stdout(self) -> str: ...
    @property
    def stderr(self) -> str: ...
    @property
    def exit_code(self) -> int: ...


class FunctionLike(Protocol):
    """What the command line asks of the function it runs (`krmfn.Function`, whose
    `main` calls `run_cli`: the command line is below the function, and names it here
    by what it uses)."""

    name: str
    config: type | None
    config_kind: str
    config_api_version: str | None

    def usage(self) -> str: ...
    def run_text(self, text: str, *, _keep: list[object] | None = None,
                 _parsed: ResourceList | None = None) -> Output: ...
    def _run_in_place(self, rl: ResourceList) -> tuple[ResourceList, int, str]: ...
    def _stderr_line(self, message: str) -> str: ...
    def main(self, argv: Sequence[str] | None = None) -> NoReturn: ...


# What a run parsed, kept until the console script exits (see Function.main).
_KEEP: list[object] = []
# The input read before the function's modules were imported: [text, error, parsed].
_EARLY: list[Any] = []


def console_main(module: str, name: str, argv: Sequence[str] | None = None) -> NoReturn:
    """A console script that starts reading its ResourceList (and checking it, see
    `krmfn._large.check_worker`) before it imports the function's own modules, which then load
    while the check runs: `console_main("pkg.function", "my_function")`."""
    if argv is None and len(sys.argv) == 1:  # the plain stdin mode of kpt and docker run
        _start_early()
    fn: FunctionLike = getattr(importlib.import_module(module), name)
    fn.main(argv)


def console_entry(package: str, name: str
                  ) -> tuple[Callable[..., NoReturn], Callable[[str], Any]]:
    """`main` and a module `__getattr__` for a package whose Function `name` lives in
    `<package>.function`: the console script starts reading before that module loads,
    and `from <package> import <name>` still works (PEP 562)."""
    module = f"{package}.function"

    def main(argv: Sequence[str] | None = None) -> NoReturn:
        """The console script: its input is read while the function's modules load."""
        console_main(module, name, argv)

    def attribute(attr: str) -> Any:
        if attr == name:
            return getattr(importlib.import_module(module), name)
        raise AttributeError(f"module {package!r} has no attribute {attr!r}")

    return main, attribute


def _start_early() -> None:
    from krmfn._errors import InputError

    try:
        text = _read_stdin()
    except InputError as exc:  # reported when the function runs, as always
        _EARLY[:] = [None, exc, None]
        return
    parsed = None
    early = _fork_early(text)
    try:
        from krmfn._model.resource_list import ResourceList

        parsed = ResourceList.parse(text, _worker=True, _early=early)
    except InputError:  # the run parses again, and says what is wrong
        parsed = None
        if early is not None and early[1].worker is not None:
            early[1].worker.stop()
    _EARLY[:] = [text, None, parsed]


def _fork_early(text: str) -> tuple[Any, Any] | None:
    """Cut a large list into items and start the check worker on them before the rest of
    the SDK loads: the worker's head start is what a function that reads little waits
    for at the end. (The cut and the list, for `ResourceList.parse`; None for small or
    unusual input, which the parse handles as always.)"""
    from krmfn._large.lazy_list import LazyList, split_items
    from krmfn._text.parse import normalized

    text = normalized(text)[0]  # as `ResourceList.parse` reads it
    split = split_items(text)
    if split is None:
        return None
    from krmfn._large.check_worker import CheckWorker

    lazy_list = LazyList(text, len(split.bounds) - 1, split.wide)
    lazy_list.worker = CheckWorker.start(lazy_list, text, split.bounds)
    return split, lazy_list


def run_cli(fn: FunctionLike, argv: list[str]) -> int:
    _KEEP.clear()
    if any(a in ("-h", "--help") for a in argv):
        sys.stdout.write(fn.usage())
        if fn.config is not None:
            from krmfn._model.config_doc import config_help

            sys.stdout.write("\n" + config_help(fn.config, fn.config_kind,
                                                fn.config_api_version))
        sys.stdout.write("\n" + _USAGE.format(name=fn.name))
        return 0
    try:
        paths, pairs, config_file, in_place = _parse_args(argv)
    except ValueError as exc:
        sys.stderr.write(f"{fn.name}: error: {exc}\n")
        return 2
    from krmfn._errors import InputError

    try:
        if not paths:
            if in_place:
                raise InputError("--in-place needs PATHs")
            return _run_stdin(fn, pairs, config_file)
        return _run_files(fn, paths, pairs, config_file, in_place)
    except InputError as exc:
        sys.stderr.write(fn._stderr_line(str(exc)))
        return 1


def _parse_args(argv: list[str]) -> tuple[list[str], dict[str, str], str | None, bool]:
    paths: list[str] = []
    pairs: dict[str, str] = {}
    config: str | None = None
    in_place = False
    it = iter(argv)
    for arg in it:
        if arg == "--in-place":
            in_place = True
        elif arg == "--config":
            config = next(it, None)
            if config is None:
                raise ValueError("--config needs a FILE")
        elif arg.startswith("--config="):
            config = arg.partition("=")[2]
        elif arg == "--":
            continue
        elif arg.startswith("-") and arg != "-":
            raise ValueError(f"unknown option {arg} (see --help)")
        elif "=" in arg and not arg.startswith(("/", ".")):
            key, _, value = arg.partition("=")
            pairs[key] = value
        else:
            paths.append(arg)
    if config and pairs:
        raise ValueError("give either --config or KEY=VALUE pairs, not both")
    return paths, pairs, config, in_place


def _config_object(pairs: dict[str, str], config_file: str | None) -> KubeObject | None:
    from krmfn._errors import InputError
    from krmfn._model.object import KubeObject

    if config_file:
        try:
            with open(config_file, encoding="utf-8") as fh:
                return KubeObject.from_yaml(fh.read())
        except OSError as exc:
            raise InputError(f"{config_file}: {exc.strerror}") from None
    if pairs:
        return KubeObject.from_dict({"apiVersion": "v1", "kind": "ConfigMap",
                                     "metadata": {"name": "function-input"}, "data": pairs})
    return None


def _read_stdin() -> str:
    from krmfn._errors import InputError

    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"input is not UTF-8 text (byte {exc.start})") from None


def _run_stdin(fn: FunctionLike, pairs: dict[str, str], config_file: str | None) -> int:
    parsed = None
    if _EARLY:
        text, error, parsed = _EARLY
        _EARLY.clear()
        if error is not None:
            raise error
    else:
        text = _read_stdin()
    fc = _config_object(pairs, config_file)
    if fc is not None:
        from krmfn._model.resource_list import ResourceList

        rl = ResourceList.parse(text)
        rl.function_config = fc
        text = rl.to_text()
    out = fn.run_text(text, _keep=_KEEP, _parsed=parsed if fc is None else None)
    sys.stdout.write(out.stdout)
    sys.stderr.write(out.stderr)
    return out.exit_code


def _run_files(fn: FunctionLike, paths: list[str], pairs: dict[str, str],
               config_file: str | None, in_place: bool) -> int:
    from krmfn._run.package import read_package

    rl, pkg = read_package(paths, repair=in_place)
    fc = _config_object(pairs, config_file)
    rl.function_config = fc
    if not in_place:
        for obj in rl.items:
            if obj._origin:
                _annotate(obj, *obj._origin)
        out = fn.run_text(rl.to_text())
        sys.stdout.write(out.stdout)
        sys.stderr.write(out.stderr)
        return out.exit_code
    out_rl, code, err = fn._run_in_place(rl)
    sys.stderr.write(err)
    if code == 0:
        written = pkg.write(out_rl)
        for line in (r.summary() for r in out_rl.results):
            sys.stderr.write(f"{fn.name}: {line}\n")
        sys.stderr.write(f"{fn.name}: {len(written)} file(s) changed\n")
    return code


def _annotate(obj: KubeObject, path: str, index: int) -> None:
    from krmfn._model.object import INDEX_ANNOTATIONS, PATH_ANNOTATIONS
    for key in PATH_ANNOTATIONS:
        if obj.get_annotation(key) is None:
            obj.set_annotation(key, path)
    for key in INDEX_ANNOTATIONS:
        if obj.get_annotation(key) is None:
            obj.set_annotation(key, str(index))
