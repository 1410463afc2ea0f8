"""inject-sidecar's golden cases: testdata/<case>/ holds input.yaml, config.yaml and the
expectations (KRMFN_UPDATE_GOLDEN=1 writes them from what the function now does)."""

from pathlib import Path

import pytest
from inject_sidecar import inject_sidecar
from krmfn.testing import GoldenCase, golden_cases, run_golden

CASES = golden_cases(Path(__file__).parent / "testdata")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden(case: GoldenCase) -> None:
    run_golden(inject_sidecar, case)
