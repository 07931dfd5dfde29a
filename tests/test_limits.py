"""The setup's limits: reading a verifying key's six sizes and the measured rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.limits import (
    CircuitShape,
    Quantity,
    VerifyingKeyFormatError,
    domain_size,
    max_degree,
    setup_limits,
    shape_from_verifying_key,
)

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[1]
# A function with a private [field; 2] input and one field multiplication; its verifying
# key was synthesized by snarkVM (aleo-sdk 0.8.0) with the shipped setup.
FIELD2_MUL_SOURCE = """program vkpeek.aleo;

function main:
    input r0 as [field; 2u32].private;
    mul r0[0u32] r0[1u32] into r1;

constructor:
    assert.eq edition 0u16;
"""
FIELD2_MUL_SHAPE = CircuitShape(16, 12_099, 12_086, 26_946, 35_809, 16_494)


def test_reads_the_six_sizes_of_a_real_verifying_key() -> None:
    data = (DATA / "field2_mul.verifier").read_bytes()
    assert shape_from_verifying_key(data) == FIELD2_MUL_SHAPE


def test_refuses_short_bytes_and_unknown_versions() -> None:
    data = (DATA / "field2_mul.verifier").read_bytes()
    with pytest.raises(VerifyingKeyFormatError, match="49 bytes"):
        shape_from_verifying_key(data[:20])
    with pytest.raises(VerifyingKeyFormatError, match="version 2"):
        shape_from_verifying_key(b"\x02" + data[1:])


def test_limits_at_degree_16_and_above() -> None:
    lim = setup_limits(16)
    assert lim.maximum(Quantity.CONSTRAINTS) == 16_384
    assert lim.maximum(Quantity.VARIABLES) == 16_384
    assert {lim.maximum(q) for q in (Quantity.NONZERO_A, Quantity.NONZERO_B, Quantity.NONZERO_C)} == {65_536}
    assert lim.maximum(Quantity.PUBLIC_INPUTS) is None
    for d in range(17, 21):
        assert setup_limits(d).constraints == 1 << (d - 2)
        assert setup_limits(d).maximum(Quantity.NONZERO_B) == 1 << d


def test_maxima_are_the_largest_sizes_whose_degree_fits() -> None:
    # The maxima follow from max_degree <= 2^d - 1: one more of any size needs the next setup.
    for d in (16, 17, 20):
        lim = setup_limits(d)
        small = CircuitShape(16, 100, 100, 100, 100, 100)
        for q, m in lim.maxima:
            at = CircuitShape(**{**small.as_dict(), _attr(q): m})
            over = CircuitShape(**{**small.as_dict(), _attr(q): m + 1})
            assert max_degree(at) <= (1 << d) - 1
            assert max_degree(over) > (1 << d) - 1
            assert lim.over(at) == [] and [x[0] for x in lim.over(over)] == [q]


def test_the_iris_tree_fits_with_its_b_entries_above_half_the_setup() -> None:
    iris = CircuitShape(16, 11_759, 11_752, 27_150, 37_298, 15_779)
    assert domain_size(iris.nonzero_b) == 65_536 and max_degree(iris) == 65_535
    assert setup_limits(16).over(iris) == []


def test_rule_agrees_with_every_measured_probe() -> None:
    # scripts/measure_limits.py recorded accepted probes (with their keys' sizes) and the
    # refused neighbour of each boundary (sizes extrapolated by the family's growth).
    doc = json.loads((REPO / "workbench" / "snarkvm" / "costs.json").read_text())["setup_limits"]
    lim = setup_limits(doc["degree"])
    accepted = [p for p in doc["probes"] if p["accepted"]]
    assert len(accepted) >= 10
    for p in accepted:
        assert lim.over(CircuitShape(**p["shape"])) == [], p
    binding = {}
    for b in doc["boundaries"]:
        assert lim.over(CircuitShape(**b["accepted_shape"])) == []
        over = lim.over(CircuitShape(**b["refused_shape_extrapolated"]))
        assert len(over) == 1, b
        binding[b["family"]] = over[0][0]
    assert binding == {"mul": Quantity.VARIABLES, "assert": Quantity.CONSTRAINTS, "nnz_b": Quantity.NONZERO_B}


def _attr(q: Quantity) -> str:
    return {Quantity.VARIABLES: "variables", Quantity.CONSTRAINTS: "constraints", Quantity.NONZERO_A: "nonzero_a",
            Quantity.NONZERO_B: "nonzero_b", Quantity.NONZERO_C: "nonzero_c"}[q]


@pytest.mark.slow
def test_snarkvm_process_reads_the_shape_of_its_keys() -> None:
    from workbench.snarkvm.process import SnarkVMProcess

    vm = SnarkVMProcess([FIELD2_MUL_SOURCE])
    vm.execute(["[3field, 5field]"])
    shape = vm.shape("vkpeek.aleo", "main")
    assert shape == FIELD2_MUL_SHAPE
    assert shape.constraints == vm.constraints("vkpeek.aleo", "main")
    assert shape == shape_from_verifying_key(vm.verifying_key_bytes("vkpeek.aleo", "main"))
