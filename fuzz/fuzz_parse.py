"""atheris harness: raw bytes into the reader, in process, as a console script gets them.

    .venv/bin/python fuzz/fuzz_parse.py -max_total_time=60 [CORPUS_DIR]

Every input is checked against `oracle.py`'s rules: through the command line path (stdin
bytes, exit code, stderr, stdout) with a no-op function, and, when the bytes are UTF-8,
through `Function.run_text` read whole and read lazily.
"""

from __future__ import annotations

import sys

import atheris  # type: ignore[import-untyped,unused-ignore]

with atheris.instrument_imports(include=["krmfn"]):
    import krmfn._large.lazy_list
    import krmfn._model.object
    import krmfn._model.resource_list
    import krmfn._run.cli_function
    import krmfn._run.package
    import krmfn._text.document
    import krmfn._text.parse  # noqa: F401
    from oracle import NOOP, check_console, check_everything, seed_inputs

from seeds import corpus_args


def test_one_input(data: bytes) -> None:
    check_console(NOOP, data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    check_everything(NOOP, text)


def main() -> None:
    seeds = [text.encode("utf-8") for text in seed_inputs()]
    atheris.Setup(corpus_args(sys.argv, "parse", seeds), test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
