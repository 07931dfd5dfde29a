"""Packed inputs and the cheaper argmax head: a batch's features in u128 words, read back
for free, and the estimator pricing exactly that (docs/performance.md)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from workbench.experiment import load_experiment
from workbench.leo.codec import CodecError, Packing, encode_rows
from workbench.pipeline import StageClock, _ignore, prepare, run_experiment
from workbench.quantize import IntType
from workbench.reference_prover import ReferenceProver
from workbench.snarkvm.costs import estimate_constraints, private_input_constraints
from workbench import stages

ROOT = Path(__file__).resolve().parent.parent
BC_LOGISTIC = ROOT / "experiments" / "cmp_breast_cancer_logistic.toml"
IRIS_LOGISTIC = ROOT / "experiments" / "cmp_iris_logistic.toml"


def test_packing_round_trips_and_lays_values_row_major() -> None:
    p = Packing(16, 12)  # 3 rows of 4 features
    assert (p.per_word, p.words, p.mask) == (8, 2, 0xFFFF)
    values = list(range(100, 112))
    words = p.pack(values)
    assert p.unpack(words) == values
    assert p.slot(0) == (0, 0) and p.slot(7) == (0, 112) and p.slot(8) == (1, 0)
    assert words[0] & 0xFFFF == 100 and (words[1] >> 16) & 0xFFFF == 109
    with pytest.raises(CodecError):
        p.pack([1 << 16] + values[1:])  # does not fit 16 bits
    with pytest.raises(CodecError):
        p.pack(values[:-1])


def test_encode_rows_packs_a_batch_into_u128_literals() -> None:
    rows = np.array([[1, 2, 3], [4, 5, 6]])
    (literal,) = encode_rows(rows, IntType(False, 8), Packing(8, 6))
    assert literal == f"[{sum(v << (8 * k) for k, v in enumerate(range(1, 7)))}u128]"
    assert encode_rows(rows, IntType(False, 8)) == ["[[1u8, 2u8, 3u8], [4u8, 5u8, 6u8]]"]


def test_unpacking_costs_nothing_in_the_estimate() -> None:
    """Shift, mask and cast of a packed word were measured at 0 constraints (the bits are
    already there); the estimator must not charge a narrowing cast for them."""
    unpack = "\n".join(
        f"    shr r0[0u32] {16 * i}u8 into r{3 * i + 1};\n"
        f"    and r{3 * i + 1} 65535u128 into r{3 * i + 2};\n"
        f"    cast r{3 * i + 2} into r{3 * i + 3} as u16;"
        for i in range(8)
    )
    with_unpack = f"program p.aleo;\n\nfunction main:\n    input r0 as [u128; 1u32].private;\n{unpack}\n    output r24 as u16.public;\n"
    bare = "program p.aleo;\n\nfunction main:\n    input r0 as [u128; 1u32].private;\n    cast r0[0u32] into r1 as u16;\n    output r1 as u16.public;\n"
    # `bare` casts without a mask: a real narrowing check, which the unpacked version avoids.
    assert estimate_constraints(with_unpack)["main"] < estimate_constraints(bare)["main"]
    unmasked_cost = estimate_constraints(bare)["main"] - estimate_constraints(
        "program p.aleo;\n\nfunction main:\n    input r0 as [u128; 1u32].private;\n    output r0[0u32] as u128.public;\n"
    )["main"]
    assert unmasked_cost > 0


def _model_and_request(path: Path, batch: int | str):
    exp = load_experiment(path)
    from dataclasses import replace

    zk = replace(exp.zk, batch=batch)
    _, _, quantized, request = prepare(exp, zk, StageClock(_ignore))
    return quantized, request


def test_a_batch_is_packed_when_the_staircase_prices_it_cheaper() -> None:
    quantized, _ = _model_and_request(BC_LOGISTIC, 1)
    model = quantized.model
    # 30 u8 features: one row stays below the staircase's first step, twelve do not.
    assert stages.build.input_packing(model, 1, (), "private") is None
    packing = stages.build.input_packing(model, 12, (), "private")
    assert packing == Packing(8, 360) and packing.words == 23
    assert private_input_constraints("[u128; 23u32]") < private_input_constraints("[[u8; 30u32]; 12u32]")
    # Never for a chain (its links read their own inputs) nor for public features.
    assert stages.build.input_packing(model, 12, (15,), "private") is None
    assert stages.build.input_packing(model, 12, (), "public") is None


def test_auto_batch_packs_and_the_reference_agrees() -> None:
    """The auto batch of breast-cancer logistic regression is packed, the program reads
    the packed words, and every row decodes to the integer reference's prediction."""
    quantized, request = _model_and_request(BC_LOGISTIC, "auto")
    plan = stages.plan(quantized.model, request)
    packing = stages.plan_packing(quantized.model, plan)
    assert plan.batch >= 10 and packing is not None
    leo = stages.generate_leo(quantized.model, plan).main.source
    assert f"private p: [u128; {packing.words}]" in leo and ">> 8u8) & 255u128) as u8" in leo
    code = "\n".join(line.split("//")[0] for line in leo.splitlines())
    assert re.search(r"& 1u\d+\) as u8;", code) and " > " not in code  # the sign head reads one bit
    result, _ = run_experiment(load_experiment(BC_LOGISTIC), None, batch="auto", proofs=0,
                               prover=ReferenceProver.factory())
    assert result.circuit.batch == plan.batch and result.agreement == 1.0
    assert result.circuit.input_encoding == "packed features"


def test_argmax_head_compares_by_one_cast_per_class() -> None:
    quantized, request = _model_and_request(IRIS_LOGISTIC, 1)
    plan = stages.plan(quantized.model, request)
    leo = stages.generate_leo(quantized.model, plan).main.source
    assert leo.count("let d") == 2 and "arg2 as u8" in leo  # 3 classes: 2 comparisons
    assert "best2" not in leo  # the last comparison needs no running maximum


@pytest.mark.slow
def test_packed_batch_is_proven_with_the_estimated_size(tmp_path: Path) -> None:
    """Real snarkVM: the packed auto batch of breast-cancer logistic regression agrees on
    every row, its proof verifies, and the key's constraints are within 2% of the estimate."""
    result, run_dir = run_experiment(load_experiment(BC_LOGISTIC), tmp_path, samples=24, batch="auto", proofs=1)
    fn = result.circuit.functions[0]
    assert result.circuit.batch >= 10 and result.agreement == 1.0
    assert all(p.verified for p in result.proofs)
    assert fn.estimated is not None and abs(fn.estimated - fn.constraints) <= 0.02 * fn.constraints
    assert "[u128;" in (run_dir / f"{result.circuit.programs[0]}").read_text()


# -- threshold bits (tree_inputs = "thresholds") ---------------------------------------------

FOREST_THRESHOLDS = ROOT / "experiments" / "cmp_bc_forest10_thresholds.toml"


def test_threshold_bits_encode_a_rank_and_decode_to_a_row_answering_alike() -> None:
    from workbench.leo import thresholds

    order = ((0, -2), (0, 5), (0, 9), (2, 0))
    assert thresholds.monotone_pairs(order) == [(0, 1), (1, 2)]
    X = np.array([[-3, 7, 1], [6, 0, 0], [10, 0, -1]])
    bits = thresholds.encode(order, X)
    assert bits.tolist() == [[1, 1, 1, 0], [0, 0, 1, 1], [0, 0, 0, 1]]
    back = thresholds.representative(order, bits, 3)
    assert (thresholds.encode(order, back) == bits).all()
    assert back[:, 1].tolist() == [0, 0, 0]  # an untested feature


def test_threshold_bits_are_packed_and_checked_in_the_program() -> None:
    quantized, request = _model_and_request(FOREST_THRESHOLDS, 4)
    plan = stages.plan(quantized.model, request)
    packing = stages.plan_packing(quantized.model, plan)
    from workbench.leo import thresholds

    n = len(thresholds.tests(quantized.model.form))
    assert packing == Packing(1, 4 * n) and plan.batch == 4
    leo = stages.generate_leo(quantized.model, plan).main.source
    assert f"fn predict_row(x: [field; {n}])" in leo
    assert leo.count("assert_eq(falls, 0field);") == 1  # one check per row, inlined per row
    code = "\n".join(line.split("//")[0] for line in leo.splitlines())
    assert " <= " not in code  # no comparison left: the bits are the answers
    result, _ = run_experiment(load_experiment(FOREST_THRESHOLDS), None, samples=10, batch=4, proofs=0,
                               prover=ReferenceProver.factory())
    assert result.agreement == 1.0 and result.circuit.batch == 4
    assert result.circuit.input_encoding == "threshold bits"


def test_threshold_bits_are_refused_for_a_model_that_is_not_a_tree_ensemble(write_toml) -> None:
    from workbench.errors import UserError

    text = IRIS_LOGISTIC.read_text().replace('compiler = "auto"', 'compiler = "auto"\ntree_inputs = "thresholds"')
    with pytest.raises(UserError, match=r'tree_inputs = "thresholds" is for tree ensembles'):
        run_experiment(load_experiment(write_toml(text)), None, prover=ReferenceProver.factory())


@pytest.mark.slow
def test_threshold_bits_forest_is_proven_with_the_estimated_size(tmp_path: Path) -> None:
    """Real snarkVM: the forest on threshold bits agrees with the integer reference on every
    executed row, its proof verifies and the key is within 2% of the estimate."""
    result, _ = run_experiment(load_experiment(FOREST_THRESHOLDS), tmp_path, samples=26, batch="auto", proofs=1)
    fn = result.circuit.functions[0]
    assert result.circuit.batch >= 8 and result.agreement == 1.0
    assert all(p.verified for p in result.proofs)
    assert fn.estimated is not None and abs(fn.estimated - fn.constraints) <= 0.02 * fn.constraints


def test_threshold_bits_past_a_leo_array_are_refused_with_what_to_change(monkeypatch) -> None:
    """More distinct tests than a Leo array holds: a user error naming the count, the limit
    and the way out, before any Leo is generated."""
    import workbench.pipeline as pipeline
    from workbench.errors import UserError

    monkeypatch.setattr(pipeline, "MAX_ARRAY_ELEMENTS", 50)
    with pytest.raises(UserError, match=r"makes \d+ distinct tests, more than the 50 elements a Leo array holds.*"
                                         r'tree_inputs = "features"'):
        _model_and_request(FOREST_THRESHOLDS, 1)
