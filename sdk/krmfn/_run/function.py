"""A KRM function: a callable over a ResourceList plus what kpt and users need around it
(config type, usage text), and the rules that turn its outcome into output and exit code.

Two ways to fail stay apart: exceptions mean the function could not run (its input and
output are left as they came, plus an error result); results are findings.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, overload

from krmfn._errors import ConfigError, FieldError, InputError, KrmfnError

if TYPE_CHECKING:
    from krmfn._model.resource_list import ResourceList
    from krmfn._model.results import Result

__all__ = ["Function", "RunOutput", "function"]

C = TypeVar("C")


@dataclass(frozen=True)
class RunOutput:
    """What one run printed and returned: the in-memory twin of a process."""

    stdout: str
    stderr: str
    exit_code: int


class Function:
    """Wraps `fn(rl)` or `fn(rl, config)`; call `.main()` from a console script."""

    def __init__(self, fn: Callable[..., object], *, name: str, config: type | None = None,
                 config_kind: str | None = None, readme: str | os.PathLike[str] | None = None,
                 summary: str = "") -> None:
        from krmfn._model.config_kind import split_config_kind

        self.fn = fn
        self.name = name
        self.config = config
        # `Kind` (fn.kpt.dev, any version) or `group/version/Kind`: checked here, when the
        # decorator runs, rather than found wrong when a user's config is refused
        if config_kind is None:  # the name in CamelCase: set-namespace, SetNamespace
            config_kind = "".join(p[:1].upper() + p[1:] for p in re.split(r"[-_.]+", name))
            if config is None and not config_kind[:1].isalpha():
                config_kind = "Config"  # no typed config to refuse: any name will do
        api_version, kind = split_config_kind(config_kind)
        self.config_kind = kind
        self.config_api_version = api_version
        self.readme = os.fspath(readme) if readme else None
        self.summary = summary or " ".join((fn.__doc__ or "").split("\n\n")[0].split())

    def __call__(self, rl: ResourceList) -> None:
        """Run on a ResourceList in process (config from its functionConfig)."""
        self.process(rl)

    # ------------------------------------------------------------ processing
    def load_config(self, rl: ResourceList) -> Any:
        """The `config=` dataclass filled from `rl.function_config` (a ConfigError if it
        does not fit)."""
        from krmfn._model.config import load_config

        assert self.config is not None
        kind = self.config_kind
        if self.config_api_version:
            kind = f"{self.config_api_version}/{kind}"
        return load_config(rl.function_config, self.config, kind)

    def process(self, rl: ResourceList) -> None:
        """Load the config and run; raises KrmfnError when the function cannot run."""
        if self.config is None:
            self.fn(rl)
        else:
            self.fn(rl, self.load_config(rl))

    def run_text(self, text: str, *, raise_bugs: bool = False,
                 _keep: list[object] | None = None,
                 _parsed: ResourceList | None = None) -> RunOutput:
        """ResourceList text in, ResourceList text out, never raising for bad input.
        A bug in the function (an exception that is not a KrmfnError) gives an error
        result, one line and then its traceback on stderr, and exit 1; with `raise_bugs`
        it propagates as it is (what `krmfn.testing` does, so pytest shows it).
        (`_keep` receives what was parsed, for a console script to exit without freeing it;
        `_parsed` is `text` already parsed, see `console_main`.)"""
        from krmfn._large.lazy_list import LayoutChanged
        from krmfn._model.resource_list import ResourceList

        try:
            rl = _parsed if _parsed is not None else ResourceList.parse(text, _worker=True)
        except LayoutChanged:
            return self._run_parsed(text, lazy=False, keep=_keep, raise_bugs=raise_bugs)
        except InputError as exc:
            return RunOutput("", self._stderr_line(str(exc)), 1)
        if _keep is not None:
            _keep.append(rl)
        try:
            return self._run(text, rl, raise_bugs)
        except LayoutChanged:  # a large list's cheap cut was wrong: read it whole, again
            return self._run_parsed(text, lazy=False, keep=_keep, raise_bugs=raise_bugs)
        finally:
            with contextlib.suppress(LayoutChanged):  # a run that ended otherwise: moot
                rl.stop_worker()

    def _run_parsed(self, text: str, *, lazy: bool, keep: list[object] | None = None,
                    raise_bugs: bool = False) -> RunOutput:
        from krmfn._model.resource_list import ResourceList

        try:
            rl = ResourceList.parse(text, lazy=lazy)
        except InputError as exc:
            return RunOutput("", self._stderr_line(str(exc)), 1)
        if keep is not None:
            keep.append(rl)
        return self._run(text, rl, raise_bugs)

    def _run(self, text: str, rl: ResourceList, raise_bugs: bool = False) -> RunOutput:
        from krmfn._large.lazy_list import LayoutChanged

        if rl.input_errors:
            rl.results.extend(rl.input_errors)
            return self._finish(rl)
        try:
            self.process(rl)
            # written before the last checks are done, while the check worker finishes
            # them on the other core; used only if they pass
            out = rl.to_text()
            rl.verify()
        except LayoutChanged:
            raise
        except KrmfnError as exc:
            return self._failed(text, _results_for(exc))
        except RecursionError:
            return self._failed(text, _results_for(InputError("input nested too deeply")))
        except Exception as exc:  # a bug: report it with its traceback, keep the input
            if raise_bugs:
                raise
            failed = self._failed(text, _results_for(KrmfnError(bug_message(exc))))
            return RunOutput(failed.stdout, failed.stderr + bug_traceback(exc),
                             failed.exit_code)
        return self._finish(rl, out)

    def _failed(self, text: str, results: list[Result]) -> RunOutput:
        from krmfn._model.resource_list import ResourceList

        try:
            rl = ResourceList.parse(text, lazy=False)  # the input as it came, nothing half-done
        except InputError as exc:  # read lazily, the whole text hid an earlier error: that one
            return RunOutput("", self._stderr_line(str(exc)), 1)
        # items of the wrong shape, unseen while reading lazily, come first as in `_run`
        rl.results.extend(rl.input_errors or results)
        return self._finish(rl)

    def _run_in_place(self, rl: ResourceList) -> tuple[ResourceList, int, str]:
        """Run in process on items read from files; on failure nothing will be written."""
        try:
            self.process(rl)
        except KrmfnError as exc:
            results = _results_for(exc)
            return rl, 1, self._stderr_line(results[0].summary())
        except RecursionError:
            return rl, 1, self._stderr_line("input nested too deeply")
        except Exception as exc:  # a bug: one line, its traceback, and nothing written
            return rl, 1, self._stderr_line(bug_message(exc)) + bug_traceback(exc)
        errors = [r for r in rl.results if r.is_error]
        if errors:
            return rl, 1, self._stderr_line(errors[0].summary())
        return rl, 0, ""

    def _finish(self, rl: ResourceList, out: str | None = None) -> RunOutput:
        out = rl.to_text() if out is None else out
        errors = [r for r in rl.results if r.is_error]
        if not errors:
            return RunOutput(out, "", 0)
        line = errors[0].summary()
        if len(errors) > 1:
            line += f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})"
        return RunOutput(out, self._stderr_line(line), 1)

    def _stderr_line(self, message: str) -> str:
        return f"{self.name}: error: {' '.join(message.split())}\n"

    # ------------------------------------------------------------ entry point
    def main(self, argv: Sequence[str] | None = None) -> NoReturn:
        """The console script: ResourceList on stdin, or files and directories (standalone)."""
        from krmfn._run.cli_function import run_cli

        try:
            code = run_cli(self, list(sys.argv[1:] if argv is None else argv))
            sys.stdout.flush()
        except BrokenPipeError:  # the reader went away (`| head`): not our error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            code = 1
        if argv is None:  # the process is a console script and ends here: let the OS take
            sys.stderr.flush()  # its memory back whole, rather than free every node, module
            os._exit(code)  # and object one by one (a fifth of a large run's time)
        sys.exit(code)

    def usage(self) -> str:
        """The usage text `--help` prints (and `kpt fn doc` shows): from the README."""
        path = self.readme or _readme_beside(self.fn)
        if path and os.path.isfile(path):
            with open(path, encoding="utf-8") as fh:
                return _usage_from_readme(fh.read())
        return f"{self.name}: {self.summary}\n"


@overload
def function(*, name: str, config: None = None, config_kind: str | None = None,
             readme: str | os.PathLike[str] | None = None
             ) -> Callable[[Callable[[ResourceList], object]], Function]: ...


@overload
def function(*, name: str, config: type[C], config_kind: str | None = None,
             readme: str | os.PathLike[str] | None = None
             ) -> Callable[[Callable[[ResourceList, C], object]], Function]: ...


def function(*, name: str, config: type[Any] | None = None, config_kind: str | None = None,
             readme: str | os.PathLike[str] | None = None
             ) -> Callable[[Callable[..., object]], Function]:
    """Decorator: `@krmfn.function(name="set-namespace", config=Config)`. Typed for mypy:
    without `config` the function takes `(rl)`, with it `(rl, config)` where `config` is of
    that class. `config_kind` is `Kind` (of fn.kpt.dev, any version; by default the name
    in CamelCase) or `group/version/Kind`; a malformed one is a ValueError here."""
    if config_kind is not None:
        from krmfn._model.config_kind import split_config_kind

        split_config_kind(config_kind)

    def wrap(fn: Callable[..., object]) -> Function:
        return Function(fn, name=name, config=config, config_kind=config_kind, readme=readme)

    return wrap


def bug_message(exc: BaseException) -> str:
    """The one line (and error result) for an exception that is a bug, not bad input."""
    return f"internal error: {type(exc).__name__}: {exc}"


def bug_traceback(exc: BaseException) -> str:
    """What a bug's author needs after that line: where it happened."""
    import traceback

    return "".join(traceback.format_exception(exc))


def _readme_beside(fn: Callable[..., Any]) -> str | None:
    """README.md in the directory of the module that defines the function."""
    module = sys.modules.get(getattr(fn, "__module__", "") or "")
    file = getattr(module, "__file__", None)
    return os.path.join(os.path.dirname(file), "README.md") if file else None


def _results_for(exc: KrmfnError) -> list[Result]:
    from krmfn._model.results import Field, Result

    if isinstance(exc, ConfigError):
        return [Result(f"functionConfig: {m}" if not f else f"functionConfig.{f}: {m}",
                       field=Field(f"functionConfig.{f}" if f else "functionConfig"))
                for f, m in exc.problems]
    if isinstance(exc, FieldError):
        return [Result.about(str(exc), exc.resource, field=Field(exc.path) if exc.path
                             else None)]
    result = getattr(exc, "result", None)
    if result is not None:
        return [result]
    return [Result(str(exc))]


def _usage_from_readme(text: str) -> str:
    """Title, first paragraph, and the `## Usage` section of a README."""
    lines = text.splitlines()
    title = next((ln.lstrip("# ").strip() for ln in lines if ln.startswith("# ")), "")
    body = re.split(r"^## ", text, flags=re.M)
    intro = body[0].split("\n\n")
    first = next((p.strip() for p in intro[1:] if p.strip()), "")
    usage = next((s for s in body[1:] if s.lower().startswith("usage")), "")
    out = [title, "", first]
    if usage:
        out += ["", "## " + usage.rstrip()]
    return "\n".join(out).strip() + "\n"
