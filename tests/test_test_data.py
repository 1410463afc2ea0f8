"""The data kept from other projects (tests/corpus, tests/conformance) is what its
provenance says: every file byte-identical to the upstream file, by the git blob id that
`git ls-tree` shows at the named commit, and no file without one. A run that writes into
the data (an `--in-place` on the folder itself, a git filter converting line ends) fails
here instead of silently changing what every other test compares against."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
OWN = {"PROVENANCE.md", "NOTICE", "README.md", "BLOBS"}  # written here, not copied


def blob_id(data: bytes) -> str:
    """git's object id of a file's content (SHA-1 of `blob <size>\\0<content>`)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


@pytest.mark.parametrize("folder", ["corpus", "conformance"])
def test_files_are_the_upstream_blobs(folder: str) -> None:
    root = TESTS / folder
    listed = {}
    for line in (root / "BLOBS").read_text().splitlines():
        if line and not line.startswith("#"):
            blob, _, name = line.partition("  ")
            listed[name] = blob
    present = {str(p.relative_to(root)) for p in root.rglob("*")
               if p.is_file() and str(p.relative_to(root)) not in OWN}
    assert present == listed.keys(), (sorted(present - listed.keys()),
                                      sorted(listed.keys() - present))
    changed = [name for name, blob in listed.items()
               if blob_id((root / name).read_bytes()) != blob]
    assert not changed, f"differ from upstream: {changed}"
