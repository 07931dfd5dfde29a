"""Models split across separate executions linked by commitments (Topology.COMMITMENTS).

The bundle reader is tested on execution JSON shaped like snarkVM's; planning and decoding
through the reference backend (no snarkVM, seconds); the `slow` test proves a real chain of
links with snarkVM, re-verifies it from the run directory, and checks that links taken
from two different rows (each proof valid on its own) are refused; another runs the links
in one process and in two worker processes, with keys from the cache and without it, and
checks that a proof of other values than the execution's is refused. A worker process that
dies mid-link is a clear error (no snarkVM: the worker exits at once).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import EXPERIMENTS

from workbench import linked
from workbench.experiment import load_experiment
from workbench.kinds import Topology
from workbench.pipeline import run_experiment
from workbench.reference_prover import ReferenceProver

FOREST = EXPERIMENTS / "wine_random_forest_40.toml"


def _execution(program: str, outputs: list[tuple[str, str]]) -> dict:
    return {"transitions": [{"program": program, "function": "main", "outputs": [
        {"type": kind, "id": f"{i}field", "value": value} for i, (kind, value) in enumerate(outputs)
    ]}]}


def _bundle(*links: dict) -> str:
    return linked.make_bundle([json.dumps(x) for x in links])


def _link(program: str, commitments: list[str], *rest: tuple[str, str]) -> dict:
    return _execution(program, [("public", "[" + ", ".join(commitments) + "]"), *rest])


GOOD = _bundle(
    _link("m_c0_2.aleo", ["21field"]),
    _link("m_c3_5.aleo", ["21field", "22field"]),
    _link("m.aleo", ["22field"], ("public", "2u8")),
)


def test_a_bundle_chains_when_each_link_received_what_the_one_before_handed_on() -> None:
    assert linked.is_bundle(GOOD) and not linked.is_bundle(json.dumps(_execution("m.aleo", [])))
    assert len(linked.link_executions(GOOD)) == 3
    assert linked.chain_problems(GOOD) == []
    assert linked.prediction_outputs(GOOD) == ["2u8"]
    assert [linked.commitments_in(k, 3) for k in range(3)] == [1, 2, 1]


def test_a_bundle_whose_links_disagree_is_refused() -> None:
    broken = _bundle(_link("m_c0_2.aleo", ["21field"]), _link("m.aleo", ["29field"], ("public", "2u8")))
    assert linked.chain_problems(broken) == ["link 2 of 2 received values other than those link 1 handed on"]
    private = _bundle(_execution("m_c0_2.aleo", [("private", "ciphertext")]), _link("m.aleo", ["21field"]))
    assert linked.chain_problems(private) == ["link 1 of 2 does not output its 1 public commitment(s)"]
    assert linked.chain_problems(_bundle(_link("m.aleo", [], ("public", "2u8")))) == ["a bundle of fewer than two links"]
    assert linked.chain_problems("{}") == ["not a bundle of linked executions"]


def _forest(write_toml, trees: int, topology: str):  # type: ignore[no-untyped-def]
    text = FOREST.read_text().replace("n_estimators = 40", f"n_estimators = {trees}")
    return load_experiment(write_toml(text.replace('compiler = "auto"', f'compiler = "auto"\ntopology = "{topology}"')))


def test_a_forest_is_planned_as_links_by_commitments_and_decodes_exactly(write_toml) -> None:
    exp = _forest(write_toml, 26, "commitments")
    budget = 15_000
    result, _ = run_experiment(exp, None, samples=4, proofs=1, chain_budget=budget, prover=ReferenceProver.factory())
    chain = result.circuit.chain
    assert chain is not None and chain.topology == Topology.COMMITMENTS and chain.units == 26
    assert len(chain.cuts) >= 1 and result.circuit.transitions == len(chain.cuts) + 1
    programs = result.circuit.programs
    # Links in tree order, named after their trees; the last link is the main program.
    bounds = [0, *chain.cuts, 26]
    assert programs == tuple(f"wine_random_forest_40_c{a}_{b - 1}.aleo" for a, b in zip(bounds, bounds[1:-1])) + (
        "wine_random_forest_40.aleo",)
    assert all((f.estimated or 0) <= budget for f in result.circuit.functions)
    assert result.agreement == 1.0 and result.proofs[0].verified


def test_auto_takes_links_by_commitments_past_the_31_transitions_of_a_call_chain(write_toml) -> None:
    # Each link of a call chain pays for a call; at this budget a call chain of single trees
    # does not fit at all, and links by commitments (no call) do.
    exp = _forest(write_toml, 26, "auto")
    result, _ = run_experiment(exp, None, samples=2, proofs=0, chain_budget=15_000, prover=ReferenceProver.factory())
    assert result.circuit.chain is not None and result.circuit.chain.topology == Topology.COMMITMENTS


def test_a_forced_call_chain_that_cannot_fit_is_refused_with_the_estimate(write_toml) -> None:
    from workbench.snarkvm.errors import CircuitTooLarge

    exp = _forest(write_toml, 26, "call")
    with pytest.raises(CircuitTooLarge, match=r"estimated at [\d,]+ constraints[\s\S]*To fit"):
        run_experiment(exp, None, samples=2, proofs=0, chain_budget=15_000, prover=ReferenceProver.factory())


@pytest.mark.slow
def test_links_by_commitments_are_proven_verified_and_bound_to_each_other(write_toml, tmp_path: Path) -> None:
    exp = _forest(write_toml, 26, "commitments")
    # Two rows proven, two more executed only, by two link workers (`workers` caps them).
    result, run_dir = run_experiment(exp, tmp_path, samples=4, proofs=2, workers=2, chain_budget=15_000)
    assert run_dir is not None and result.is_zk
    assert result.circuit.execute_workers == min(2, result.circuit.transitions)
    chain = result.circuit.chain
    assert chain is not None and chain.topology == Topology.COMMITMENTS and len(chain.cuts) >= 1
    assert result.agreement == 1.0 and all(p.verified for p in result.proofs)
    first, second = (run_dir / p.path for p in result.proofs)
    bundle = first.read_text()
    links = linked.link_executions(bundle)
    assert len(links) == result.circuit.transitions
    # Features and carries stay private: the verifier sees commitments and the prediction.
    for text in links:
        (transition,) = json.loads(text)["transitions"]
        assert all(i["type"] == "private" for i in transition["inputs"])
    verify = [sys.executable, "-m", "workbench", "verify", str(run_dir)]
    proc = subprocess.run(verify, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and "every claim checked" in proc.stdout, proc.stdout + proc.stderr
    # Each link's proof is valid on its own, but a link of another row carries other
    # commitments (fresh salts per row): the mixed bundle is refused.
    mixed = linked.make_bundle([links[0], *linked.link_executions(second.read_text())[1:]])
    first.write_text(mixed)
    proc = subprocess.run(verify, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0 and "handed on" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.parametrize("guess", [1, 3, 7, 12])
def test_the_largest_fitting_link_is_found_from_any_guess(guess: int) -> None:
    from workbench.stages.chain import _largest_fitting

    for threshold in range(0, 13):  # fits(e) for e <= threshold
        calls: list[int] = []

        def fits(e: int) -> bool:
            calls.append(e)
            return e <= threshold

        found = _largest_fitting(fits, 1, 12, guess)
        assert found == (None if threshold < 1 else min(threshold, 12))
        assert all(1 <= e <= 12 for e in calls)  # never probes outside [lo, hi]


def test_the_shipped_knn_over_every_iris_training_row_is_planned_as_links() -> None:
    exp = load_experiment(EXPERIMENTS / "iris_knn_120.toml")
    result, _ = run_experiment(exp, None, samples=3, proofs=1, prover=ReferenceProver.factory())
    chain = result.circuit.chain
    assert chain is not None and chain.topology == Topology.COMMITMENTS and chain.unit == "stored rows"
    assert chain.units == 120 and chain.cuts[0] >= 3  # the first link fills the k = 3 slots
    assert result.agreement == 1.0


def test_knn_carries_are_the_slots_the_circuit_fills() -> None:
    import numpy as np

    from workbench.algorithms.neighbors import majority_vote, top_k_insertion, top_k_slots
    from workbench.leo import codec
    from workbench.leo.carries import carry_literal
    from workbench.pipeline import StageClock, prepare

    exp = load_experiment(EXPERIMENTS / "iris_knn_120.toml")
    _, _, quantized, _ = prepare(exp, exp.zk, StageClock(lambda e: None))
    form = quantized.model.form
    row = quantized.inputs[0]
    scores = form.scores.evaluate(np.asarray([row]))[0]
    literal = carry_literal(form, row, 60)
    values = codec.parse_int_literals(literal)
    # The k slot scores, ascending, then their classes; inserting the rest after them
    # gives what inserting every row gives (the prediction the last link makes).
    vals, labs = values[: form.k], values[form.k:]
    assert vals == sorted(vals) and (vals, labs) == top_k_slots(scores[:60], form.labels[:60], form.k)
    rest_vals, rest_labs = list(vals), list(labs)
    for s, y in zip(scores[60:], form.labels[60:]):
        merged = sorted([*zip(rest_vals, range(-form.k, 0), rest_labs), (s, 0, y)])[: form.k]
        rest_vals, rest_labs = [m[0] for m in merged], [m[2] for m in merged]
    whole = top_k_insertion(np.asarray([scores]), np.asarray(form.labels), form.k)[0]
    assert rest_labs == list(whole)
    assert majority_vote(np.asarray([rest_labs]), form.n_classes)[0] == quantized.model.predict_int(np.asarray([row]))[0]


WIDE = EXPERIMENTS / "synthetic_logistic_wide.toml"


def _wide(write_toml, features: int, classes: int = 2):  # type: ignore[no-untyped-def]
    text = WIDE.read_text().replace("n_features = 600", f"n_features = {features}")
    text = text.replace("n_informative = 40", f"n_informative = {min(40, features // 2)}")
    return load_experiment(write_toml(text.replace("n_classes = 2", f"n_classes = {classes}")))


def test_the_shipped_wide_logistic_model_is_split_by_features_into_links() -> None:
    exp = load_experiment(WIDE)
    result, _ = run_experiment(exp, None, samples=3, proofs=1, prover=ReferenceProver.factory())
    chain = result.circuit.chain
    assert chain is not None and chain.topology == Topology.COMMITMENTS and chain.unit == "features"
    assert chain.units == 600 and len(chain.cuts) >= 2 and result.circuit.transitions == len(chain.cuts) + 1
    # Every link's program name stays within Leo's 31 characters.
    assert all(len(p.removesuffix(".aleo")) <= 31 for p in result.circuit.programs)
    assert result.agreement == 1.0


@pytest.mark.parametrize("classes", [2, 3])
def test_linear_carries_are_partial_dot_products_that_sum_to_the_models_scores(write_toml, classes: int) -> None:
    import numpy as np

    from workbench.algorithms.linear import feature_partial_type, forward
    from workbench.leo import codec
    from workbench.leo.carries import carry_literal, link_features
    from workbench.pipeline import StageClock, prepare

    exp = _wide(write_toml, 40, classes)
    _, _, quantized, _ = prepare(exp, exp.zk, StageClock(lambda e: None))
    form = quantized.model.form
    (layer,) = form.layers
    for row in quantized.inputs[:5]:
        z = forward(form.layers, np.asarray([row]) - form.input_offset, form.io.fractional_bits)[0]
        for cut in (1, 17, 39):
            t, offset = feature_partial_type(form, cut)
            literal = carry_literal(form, row, cut)
            assert literal.endswith(f"{t.name}]")
            sums = [v - offset for v in codec.parse_int_literals(literal)]
            assert all(0 <= v + offset <= t.max for v in sums)
            rest = [int(layer.weight[k, cut:] @ (np.asarray(row[cut:], dtype=np.int64) - form.input_offset))
                    for k in range(form.n_outputs)]
            assert [s + r + int(b) for s, r, b in zip(sums, rest, layer.bias)] == [int(v) for v in z]
    items = [f"{v}u8" for v in range(40)]
    assert link_features(form, items, 17, 30) == "[" + ", ".join(items[17:30]) + "]"


def test_a_network_of_several_layers_still_splits_only_by_calls() -> None:
    from workbench.leo.contexts import chain_units, split_topologies, suffixed

    exp = load_experiment(EXPERIMENTS / "wine_mlp_split.toml")
    from workbench.pipeline import StageClock, prepare

    _, _, quantized, _ = prepare(exp, exp.zk, StageClock(lambda e: None))
    assert split_topologies(quantized.model.form) == (Topology.CALL,)
    assert chain_units(quantized.model.form)[1] == "neurons"
    assert suffixed("a" * 26, "_c1234_5678") == "a" * 20 + "_c1234_5678"
    assert suffixed("ab_cd", "_p3") == "ab_cd_p3" and suffixed("abcdefghijklmnopqrstuvwxy_", "_c10_20") == "abcdefghijklmnopqrstuvwx_c10_20"


@pytest.mark.slow
def test_a_linear_model_split_by_features_is_proven_and_verified(write_toml, tmp_path: Path) -> None:
    # About 300 features fit one transition, packed in u128 words; past that the model is
    # linked, each link reading an unpacked slice of about 40.
    exp = _wide(write_toml, 400, 3)
    result, run_dir = run_experiment(exp, tmp_path, samples=2, proofs=1)
    assert run_dir is not None and result.is_zk
    chain = result.circuit.chain
    assert chain is not None and chain.topology == Topology.COMMITMENTS and chain.unit == "features"
    assert len(chain.cuts) >= 1 and result.agreement == 1.0 and all(p.verified for p in result.proofs)
    links = linked.link_executions((run_dir / result.proofs[0].path).read_text())
    assert len(links) == len(chain.cuts) + 1
    for text in links:  # each link reads its slice of the features, privately
        (transition,) = json.loads(text)["transitions"]
        assert all(i["type"] == "private" for i in transition["inputs"])
    proc = subprocess.run([sys.executable, "-m", "workbench", "verify", str(run_dir)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0 and "every claim checked" in proc.stdout, proc.stdout + proc.stderr


def test_a_link_worker_that_dies_is_a_clear_error_not_a_hang() -> None:
    from workbench.errors import ZkError
    from workbench.snarkvm.link_pool import LinkPool

    # The runner stands in for a link killed mid-job (out of memory): its process exits.
    pool = LinkPool(2, runner=os._exit)  # type: ignore[arg-type]
    with pytest.raises(ZkError, match=r"a worker process running links died \(0 of 2 links done"):
        pool.run([1, 1])  # type: ignore[list-item]
    assert pool._pool is None  # stopped: a later run starts fresh workers


def test_links_get_one_worker_per_two_cores_at_most_one_per_link() -> None:
    from workbench.snarkvm.link_pool import link_workers

    # Two cores: in-process (snarkVM's prover already uses both); more: one per two cores.
    assert [link_workers(n, cores=2) for n in (1, 2, 46)] == [1, 1, 1]
    assert [link_workers(n, cores=8) for n in (1, 3, 46)] == [1, 3, 4]
    assert link_workers(46, cores=1) == 1


def _linked_factory(made: list, workers: int):  # type: ignore[no-untyped-def]
    from workbench.snarkvm.keycache import KeyCache
    from workbench.snarkvm.linked_prover import LinkedProver
    from workbench.snarkvm.process import sdk_version

    def open_(request):  # type: ignore[no-untyped-def]
        cache = KeyCache(list(request.sources), sdk_version()) if request.use_key_cache else None
        prover = LinkedProver(request.sources, request.function, cache, request.model, request.cuts, workers=workers)
        made.append((request, prover))
        return prover

    return open_


@pytest.mark.slow
def test_links_run_in_one_process_or_in_workers_with_keys_on_disk(write_toml, tmp_path: Path, monkeypatch) -> None:
    from workbench.errors import ZkError
    from workbench.kinds import KeyCacheState
    from workbench.prover import Executed
    from workbench.stages.proving import batch_rows

    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "keys"))  # a cache of this test's own
    exp = _forest(write_toml, 26, "commitments")
    # One worker: every link runs in this process, one link's keys at a time; keys synthesized and cached.
    made: list = []
    result, _ = run_experiment(
        exp, None, samples=3, proofs=1, workers=2, chain_budget=15_000, prover=_linked_factory(made, 1)
    )
    assert result.is_zk and result.circuit.key_cache == KeyCacheState.MISS
    assert result.agreement == 1.0 and result.proofs[0].verified
    (request, first), = made
    assert first.workers == 1 and result.circuit.execute_workers == 1
    inputs = batch_rows(_prepared(exp), 1, 1, 1).inputs[0]

    # From the cache: every link's keys read, the proving keys left on disk.
    cached = _linked_factory(made, 2)(request)
    try:
        synthesis = cached.synthesize(inputs)
        assert synthesis.key_cache == KeyCacheState.HIT and len(synthesis.keys) == len(request.sources)
        assert all(isinstance(k.prover, Path) and k.prover.is_relative_to(tmp_path / "keys") for k in synthesis.keys.values())
    finally:
        cached.close()

    # Without the cache, in two workers: keys in a directory of the prover's own, removed by close.
    off = _linked_factory(made, 2)(dataclasses.replace(request, use_key_cache=False))
    own = off._store.dir
    try:
        assert off.synthesize(inputs).key_cache == KeyCacheState.OFF and own.is_dir()
        executed = off.execute(inputs)
        assert executed.outputs[0] == result.proofs[0].output  # the same prediction, other salts
        proof = off.prove(executed, None)
        assert linked.chain_problems(proof.execution_json) == [] and off.verify(proof).verified
        # Proofs of other values than the execution's are refused (here: another prediction).
        other = Executed(("99u8",), 0.0, 0.0, executed.transitions, executed.handle)
        with pytest.raises(ZkError, match="other values"):
            off.prove(other, None)
    finally:
        off.close()
    assert not own.exists()


def _prepared(exp):  # type: ignore[no-untyped-def]
    from workbench.pipeline import StageClock, prepare

    return prepare(exp, exp.zk, StageClock(lambda e: None), 15_000)[2]


def test_a_topology_the_family_cannot_take_is_refused_with_the_one_it_can(write_toml) -> None:
    from workbench.pipeline import check_experiment
    from workbench.snarkvm.errors import CircuitTooLarge

    text = (EXPERIMENTS / "wine_mlp_split.toml").read_text()
    exp = load_experiment(write_toml(text.replace('compiler = "auto"', 'compiler = "auto"\ntopology = "commitments"')))
    with pytest.raises(CircuitTooLarge, match=r'topology = "commitments" was asked, but a model split by neurons '
                                              r'splits only into a chain of calls; set \[zk\] topology = "auto" \(or "call"\)'):
        check_experiment(exp)
