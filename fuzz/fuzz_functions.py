"""atheris harness: every catalog function over mutated ResourceLists, in process.

    .venv/bin/python fuzz/fuzz_functions.py -max_total_time=60 [CORPUS_DIR]

The first byte picks the function, the rest is the ResourceList text. Every run obeys
`oracle.py`'s rules (nothing escapes, exit 0 or 1, a whole ResourceList or nothing, lazy
reading changes nothing, validators change no item), and a function is deterministic and
idempotent on whatever it accepts.
"""

from __future__ import annotations

import sys

import atheris  # type: ignore[import-untyped,unused-ignore]

with atheris.instrument_imports(include=["krmfn", "krmfn_catalog"]):
    from oracle import catalog_functions, check_mutator_laws, seed_inputs

from seeds import corpus_args

FUNCTIONS = [fn for _, fn in sorted(catalog_functions().items())]


def test_one_input(data: bytes) -> None:
    if not data:
        return
    fn = FUNCTIONS[data[0] % len(FUNCTIONS)]
    try:
        text = data[1:].decode("utf-8")
    except UnicodeDecodeError:
        return  # the reader's byte handling is fuzz_parse.py's target
    check_mutator_laws(fn, text)


def main() -> None:
    names = sorted(catalog_functions())
    seeds = [bytes([i]) + text.encode("utf-8")
             for i, name in enumerate(names)
             for text in seed_inputs(None if name == "noop" else name)]
    atheris.Setup(corpus_args(sys.argv, "functions", seeds), test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
