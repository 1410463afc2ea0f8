"""Seed corpora for the atheris harnesses: libFuzzer mutates real ResourceLists far better
than it finds one from nothing. Findings are kept in the same directory between runs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def corpus_args(argv: list[str], name: str, seeds: Iterable[bytes]) -> list[str]:
    """`argv` with a corpus directory (`.cache/fuzz/<name>` unless one is given), seeded
    when empty, and artifacts (crashing inputs) written beside it."""
    args = list(argv)
    dirs = [a for a in args[1:] if not a.startswith("-")]
    if not dirs:
        default = ROOT / ".cache" / "fuzz" / name
        args.append(str(default))
        dirs = [str(default)]
    corpus = Path(dirs[0])
    corpus.mkdir(parents=True, exist_ok=True)
    if not any(corpus.iterdir()):
        for data in seeds:
            (corpus / hashlib.sha1(data).hexdigest()).write_bytes(data)
    if not any(a.startswith("-artifact_prefix=") for a in args):
        crashes = corpus.parent / f"{name}-crashes"
        crashes.mkdir(parents=True, exist_ok=True)
        args.insert(1, f"-artifact_prefix={crashes}/")
    return args
