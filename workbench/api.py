"""The plugin API: bring a fitted model, get a Leo program, predictions from snarkVM, proofs.

    from workbench import zk
    model = zk.compile(fitted_estimator, X_train)        # scikit-learn, XGBoost, a Pipeline
    model = zk.compile_onnx("net.onnx", X_train)         # PyTorch / TensorFlow via ONNX
    proof = model.prove(X_test[:1])                      # executed and proven in snarkVM
    model.save("my_model")                               # Leo project, Aleo, verifying keys
    zk.verify(proof, "my_model")                         # anyone, in a fresh process

`compile` runs the same stages as an experiment file (workbench/stages/): the estimator's
family lowers it to fixed point against the calibration rows, the plan stage decides the
batch and any chain of transitions, the Leo layer generates and compiles the programs.
`predict_quantized` is the integer reference; `predict` and `prove` execute in snarkVM
(keys are made on first use and cached on disk). A `CompiledModel` saved with `save` is
described by `model.json` (a `ModelCard`): enough to encode inputs, decode outputs and
verify proofs without the estimator or the data. docs/python-api.md has the details.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from workbench import __version__, stages
from workbench.algorithms import catalogue
from workbench.algorithms.base import QuantizedModel
from workbench.algorithms.forms import InputCodec, LabelCodec
from workbench.atomic import write_bytes_atomic, write_json_atomic
from workbench.errors import UserError
from workbench.kinds import Task, Topology, Visibility
from workbench.leo import codec
from workbench.limits import MAX_BATCH
from workbench.prover import Executed, Prover, ProverRequest
from workbench.prover import Proof as BackendProof
from workbench.quantize import Calibration, QuantizationSpec, type_named
from workbench.records import RecordError, from_json, to_json
from workbench.stages.records import LeoSources, Plan, PlanRequest, ProgramSpec

CARD_FILE = "model.json"
CARD_SCHEMA = 1
_PROGRAM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,25}$")
# scikit-learn preprocessing steps a Pipeline may hold before the estimator (see `Preprocess`).
SCALERS = ("StandardScaler", "MinMaxScaler")


class ApiError(UserError):
    """A call of the plugin API that cannot be done as asked (the message says why)."""

    title = "zk API"


# -- records a saved model carries ------------------------------------------------------------
@dataclass(frozen=True)
class Preprocess:
    """A feature-wise affine map x' = x * scale + shift applied before quantization.

    The composition of a Pipeline's StandardScaler and MinMaxScaler steps. It runs in Python,
    not in the circuit: one fixed-point scale serves every feature only when features have
    comparable ranges, which is what the scaler provides; the map is public (it is in
    model.json), and since the features are private a verifier could not check raw features
    either way: the proof attests the model applied to the scaled, quantized input.
    """

    scale: tuple[float, ...]
    shift: tuple[float, ...]

    def apply(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float64) * np.asarray(self.scale) + np.asarray(self.shift)

    @classmethod
    def from_steps(cls, steps: Sequence[Any], n_features: int) -> "Preprocess | None":
        scale, shift = np.ones(n_features), np.zeros(n_features)
        for step in steps:
            kind = type(step).__name__
            if kind == "StandardScaler":
                mean = step.mean_ if getattr(step, "with_mean", True) and step.mean_ is not None else 0.0
                std = step.scale_ if getattr(step, "with_std", True) and step.scale_ is not None else 1.0
                scale, shift = scale / std, (shift - mean) / std
            elif kind == "MinMaxScaler":
                scale, shift = scale * step.scale_, shift * step.scale_ + step.min_
            elif kind in ("passthrough",) or step is None or step == "passthrough":
                continue
            else:
                raise ApiError(
                    f"a Pipeline step {kind} is not supported; before the estimator a Pipeline may hold "
                    f"{' or '.join(SCALERS)} steps"
                )
        if not steps:
            return None
        return cls(tuple(float(v) for v in scale), tuple(float(v) for v in shift))


@dataclass(frozen=True)
class FunctionEstimate:
    """A function of the compiled programs and its estimated constraints (before key synthesis)."""

    program: str
    function: str
    constraints: int


@dataclass(frozen=True)
class ModelCard:
    """What a saved model needs, without the estimator: the programs, the I/O codecs, the plan."""

    name: str
    algorithm: str
    estimator: str
    task: Task
    function: str
    programs: tuple[str, ...]  # program ids, dependencies first, the main program last
    feature_type: str
    output_type: str
    inputs: InputCodec
    labels: LabelCodec
    batch: int
    cuts: tuple[int, ...]
    input_visibility: Visibility
    output_visibility: Visibility
    estimates: tuple[FunctionEstimate, ...]
    scores: int = 0  # size of the score vector the entry function also outputs (0: none)
    score_type: str = ""
    preprocess: Preprocess | None = None
    # How a split model's programs are linked: "call" (one execution) or "commitments"
    # (one execution per program, the main one last); cards saved before it are "call".
    topology: str = "call"
    # The entry function's features packed in u128 words of values this wide (0: one array
    # element each, as every card saved before packing; workbench/leo/codec.py `Packing`).
    packed_bits: int = 0
    workbench: str = __version__
    schema: int = CARD_SCHEMA

    @property
    def n_features(self) -> int:
        return len(self.inputs.offsets)

    @property
    def main_program(self) -> str:
        return self.programs[-1]


@dataclass(frozen=True)
class ZkProof:
    """A proof of one execution of a compiled model, with what its prover claims.

    `execution` is snarkVM's execution JSON (proof, transitions, public values). `outputs`
    are the entry function's outputs as the prover claims them (Aleo literals) and
    `predictions` the labels they decode to, for the first `rows` rows of the batch (the
    rest is padding). With a private output there is nothing public to claim: `outputs` is
    empty and only the proof's validity is checked.
    """

    program: str
    function: str
    execution: str
    outputs: tuple[str, ...]
    predictions: tuple[Any, ...] | None
    rows: int

    def to_json(self) -> str:
        """The proof as JSON text (a file anyone can verify with the saved model)."""
        return json.dumps({"kind": "workbench-zk-proof", "version": 1, **to_json(self)}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "ZkProof":
        """A proof from `to_json`'s text; ApiError for anything else."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.pop("kind", None) != "workbench-zk-proof":
                raise ValueError("the JSON has no \"kind\": \"workbench-zk-proof\"")
            data.pop("version", None)
            return from_json(cls, data)
        except (ValueError, RecordError, TypeError) as exc:
            raise ApiError(f"not a workbench proof: {exc}") from None

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, self.to_json().encode())
        return path

    @classmethod
    def load(cls, path: str | Path) -> "ZkProof":
        try:
            return cls.from_json(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ApiError(f"{path}: cannot read ({exc.strerror})") from None


# -- the compiled model -------------------------------------------------------------------------
class CompiledModel:
    """A model compiled for zero-knowledge inference (see the module docstring).

    Made by `compile`/`compile_onnx`, or read back by `load` (then without the integer
    reference: `predict_quantized` needs the estimator's quantized model).
    """

    def __init__(
        self,
        card: ModelCard,
        leo: Mapping[str, str],
        aleo: Mapping[str, str],
        model: QuantizedModel | None = None,
        plan: Plan | None = None,
        directory: Path | None = None,
        verifying_keys: Mapping[tuple[str, str], bytes] | None = None,
    ) -> None:
        self.card = card
        self._leo = dict(leo)  # program id -> Leo source
        self._aleo = dict(aleo)  # program id -> Aleo instructions
        self.model = model
        self.plan = plan
        self.directory = directory
        self._verifying_keys = dict(verifying_keys or {})
        self._prover: Prover | None = None
        self._verifier: Any = None  # a saved model's verifier (programs and verifying keys only)

    # -- what it is -----------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.card.name

    @property
    def leo_source(self) -> str:
        """The main program's Leo source."""
        return self._leo[self.card.main_program]

    @property
    def leo_sources(self) -> dict[str, str]:
        """Every program's Leo source by program id (dependencies first)."""
        return {p: self._leo[p] for p in self.card.programs}

    @property
    def aleo(self) -> str:
        """The main program's Aleo instructions."""
        return self._aleo[self.card.main_program]

    @property
    def aleo_sources(self) -> dict[str, str]:
        """Every program's Aleo instructions by program id (dependencies first)."""
        return {p: self._aleo[p] for p in self.card.programs}

    @property
    def batch(self) -> int:
        """Rows one execution (and one proof) evaluates."""
        return self.card.batch

    @property
    def transitions(self) -> int:
        """Transitions in one execution (more than one for a model split across programs)."""
        return len(self.card.programs)

    @property
    def estimates(self) -> dict[str, int]:
        """Estimated constraints per function ("program/function"), before key synthesis."""
        return {f"{e.program}/{e.function}": e.constraints for e in self.card.estimates}

    def constraints(self) -> dict[str, int]:
        """Constraints per function ("program/function") from the synthesized verifying keys
        (makes the keys first if this model has not executed yet)."""
        prover = self._open()
        return {f"{p}/{f}": prover.constraints(p, f) for p, f in prover.functions()}

    def __repr__(self) -> str:
        return (
            f"CompiledModel({self.name!r}: {self.card.estimator}, {self.card.n_features} features, "
            f"batch {self.batch}, {self.transitions} transition(s))"
        )

    # -- rows -----------------------------------------------------------------------------
    def _rows(self, X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X.reshape(1, -1)
        X = X.reshape(len(X), -1)
        if X.shape[1] != self.card.n_features:
            raise ApiError(f"{self.name} takes rows of {self.card.n_features} features; got {X.shape[1]}")
        if not np.all(np.isfinite(X)):
            raise ApiError("features must be finite numbers (no NaN or infinity)")
        return self.card.preprocess.apply(X) if self.card.preprocess else X

    def _inputs(self, X: Any) -> np.ndarray:
        return self.card.inputs.encode(self._rows(X))

    def _packing(self) -> codec.Packing | None:
        """How the entry function takes a batch's features (the card's `packed_bits`)."""
        bits = self.card.packed_bits
        return codec.Packing(bits, self.batch * self.card.n_features) if bits else None

    def _batches(self, ints: np.ndarray) -> list[tuple[int, list[str]]]:
        b = self.batch
        feature_type = type_named(self.card.feature_type)
        packing = self._packing()
        out = []
        for start in range(0, len(ints), b):
            rows = ints[start : start + b]
            rows = np.vstack([rows, np.repeat(rows[-1:], b - len(rows), axis=0)])  # pad with the last row
            out.append((start // b, codec.encode_rows(rows, feature_type, packing)))  # type: ignore[arg-type]
        return out

    # -- the integer reference ----------------------------------------------------------------
    def predict_quantized(self, X: Any) -> np.ndarray:
        """The quantized model's predictions (numpy, exactly what the circuit computes)."""
        if self.model is None:
            raise ApiError(
                f"{self.name} was loaded from {self.directory}: the integer reference is not saved with it "
                "(compile the estimator again for predict_quantized; predict and prove need only the saved files)"
            )
        return self.model.labels(self.model.predict_int(self._inputs(X)))

    # -- snarkVM --------------------------------------------------------------------------------
    def _linked_model(self) -> Any:
        """The quantized model, which the prover of links by commitments needs (it computes
        what each link receives); None for any other model."""
        if self.card.topology != Topology.COMMITMENTS:
            return None
        if self.model is None:
            raise ApiError(
                f"{self.name} was loaded from {self.directory} and is split into links by commitments: proving "
                "computes what each link receives from the integer reference, which is not saved; compile the "
                "estimator again to prove (verifying needs only the saved files)"
            )
        return self.model

    def _open(self) -> Prover:
        if self._prover is None:
            from workbench.pipeline import snarkvm_prover

            sources = tuple(self._aleo[p] for p in self.card.programs)
            prover = snarkvm_prover(
                ProverRequest(sources, self.card.function, use_key_cache=True, model=self._linked_model(),
                              topology=Topology(self.card.topology), cuts=self.card.cuts, packing=self._packing())
            )
            zero = self.card.inputs.encode(np.zeros((1, self.card.n_features)))
            synthesis = prover.synthesize(self._batches(zero)[0][1])  # makes or loads every key
            self._verifying_keys = {k: v.verifier for k, v in synthesis.keys.items()}
            self._prover = prover
        return self._prover

    def _decode(self, outputs: Sequence[str], rows: int) -> np.ndarray:
        ints = codec.decode_predictions(list(outputs), self.batch, type_named(self.card.output_type))
        return self.card.labels.decode(np.asarray(ints[:rows]))

    def predict(self, X: Any, workers: int | None = None) -> np.ndarray:
        """Predictions computed by snarkVM executing the compiled program (no proof).

        Equal to `predict_quantized` on every row (the circuit is the integer reference).
        """
        ints = self._inputs(X)
        if len(ints) == 0:
            return np.asarray([])
        prover = self._open()
        batches = self._batches(ints)
        decoded: dict[int, np.ndarray] = {}

        def done(index: int, executed: Executed) -> None:
            decoded[index] = self._decode(executed.outputs, min(self.batch, len(ints) - index * self.batch))

        from workbench.snarkvm.parallel import worker_count

        prover.execute_many(batches, worker_count(len(batches)) if workers is None else workers, done)
        return np.concatenate([decoded[i] for i in range(len(batches))])

    def prove(self, X: Any) -> ZkProof:
        """Execute and prove one row, or a batch of at most `batch` rows (one proof)."""
        ints = self._inputs(X)
        if not 1 <= len(ints) <= self.batch:
            raise ApiError(
                f"prove takes 1 to {self.batch} row(s) (one execution of {self.name}); got {len(ints)}: "
                "prove each batch on its own"
            )
        prover = self._open()
        ((_, inputs),) = self._batches(ints)
        executed = prover.execute(inputs)
        proof = prover.prove(executed, None)
        public = self.card.output_visibility == Visibility.PUBLIC
        outputs = tuple(executed.outputs) if public else ()
        predictions = tuple(np.asarray(self._decode(outputs, len(ints))).tolist()) if public else None
        return ZkProof(self.card.main_program, self.card.function, proof.execution_json, outputs, predictions, len(ints))

    def verify(self, proof: ZkProof) -> bool:
        """Whether `proof` is a valid proof of this model's programs and attests what it claims.

        Never raises for an invalid or altered proof: it returns False.
        """
        return check_proof(proof, self.card, self._verify_execution)

    def _verify_execution(self, execution: str) -> bool:
        if self.directory is not None and self._prover is None:
            from workbench.snarkvm.verifier import Verifier

            self._verifier = self._verifier or Verifier(self.directory)
            return self._verifier.check(execution, "proof").verified
        prover = self._open()
        return prover.verify(BackendProof(execution_json=execution, prove_seconds=0.0)).verified

    # -- files -------------------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write the Leo projects, the compiled programs, the verifying keys and model.json.

        Makes the keys first if this model has not executed yet (snarkVM, seconds).
        """
        from workbench.leo.generate import LeoProgram, write_project

        directory = Path(directory)
        if not self._verifying_keys:
            self._open()
        directory.mkdir(parents=True, exist_ok=True)
        for program_id in self.card.programs:
            name = program_id.removesuffix(".aleo")
            imports = tuple(i.removesuffix(".aleo") for i in self.card.programs[: self.card.programs.index(program_id)]
                            if f"import {i};" in self._leo[program_id])
            write_project(LeoProgram(name, self.card.function, self._leo[program_id], imports), directory / "leo" / name)
            write_bytes_atomic(directory / f"{name}.aleo", self._aleo[program_id].encode())
        keys = directory / "verifying_keys"
        keys.mkdir(exist_ok=True)
        for (program_id, function), verifier in self._verifying_keys.items():
            write_bytes_atomic(keys / f"{program_id.removesuffix('.aleo')}.{function}.verifier", verifier)
        write_json_atomic(directory / CARD_FILE, to_json(self.card))
        self.directory = directory
        return directory

    def close(self) -> None:
        """Stop what the snarkVM backend holds (its ledger stand-in process)."""
        if self._prover is not None:
            self._prover.close()
            self._prover = None

    def __enter__(self) -> "CompiledModel":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: nothing left to close with
            pass


def check_proof(proof: ZkProof, card: ModelCard, verify_execution: Any) -> bool:
    """A proof's checks: it is of this model's main program, snarkVM accepts it, the outputs it
    claims are the ones it attests, and its predictions are what those outputs decode to."""
    from workbench.snarkvm.verifier import attested_outputs

    try:
        if proof.program != card.main_program or proof.function != card.function:
            return False
        if not 1 <= proof.rows <= card.batch:
            return False
        if card.output_visibility == Visibility.PUBLIC:
            attested = attested_outputs(proof.execution, card.main_program)
            if attested is None or tuple(attested) != tuple(proof.outputs):
                return False
            ints = codec.decode_predictions(list(proof.outputs), card.batch, type_named(card.output_type))
            labels = card.labels.decode(np.asarray(ints[: proof.rows])).tolist()
            if proof.predictions is None or list(proof.predictions) != labels:
                return False
        elif proof.outputs or proof.predictions is not None:
            return False  # nothing public to attest a claim
        return bool(verify_execution(proof.execution))
    except (ValueError, TypeError, KeyError, IndexError, UserError):
        return False


# -- compile -------------------------------------------------------------------------------------
def _check_name(name: str) -> str:
    if not (_PROGRAM_NAME.match(name) and "__" not in name and "aleo" not in name):
        raise ApiError(
            f"name {name!r}: a Leo program name is lowercase letters, digits and _, starting with a letter, "
            'at most 26 characters, without "__" or "aleo"'
        )
    return name


def _options_spec(fractional_bits: int | None, input_range: tuple[float, float] | None) -> QuantizationSpec:
    if fractional_bits is not None and (not isinstance(fractional_bits, int) or not 0 <= fractional_bits <= 24):
        raise ApiError(f"fractional_bits must be None (auto) or an integer from 0 to 24, not {fractional_bits!r}")
    if input_range is not None:
        low, high = input_range
        if not low < high:
            raise ApiError(f"input_range must be (low, high) with low < high, not {input_range!r}")
        input_range = (float(low), float(high))
    return QuantizationSpec(fractional_bits, input_range)


def _build(
    model: QuantizedModel, family: catalogue.Family, estimator: Any, task: Task, name: str,
    preprocess: Preprocess | None, inputs: str, output: str, batch: int | str, scores: bool, compiler: str,
    topology: str = "auto",
) -> CompiledModel:
    try:
        spec = ProgramSpec(
            _check_name(name), experiment=name, description=f"{type(estimator).__name__} compiled with zk.compile",
            inputs=Visibility(inputs), output=Visibility(output), scores=scores,
        )
    except ValueError:
        raise ApiError(f"inputs and output are 'private' or 'public', not {inputs!r} / {output!r}") from None
    if not (batch == "auto" or (isinstance(batch, int) and 1 <= batch <= MAX_BATCH)):
        raise ApiError(f'batch must be "auto" or an integer from 1 to {MAX_BATCH}, not {batch!r}')
    info = model.revealed_scores() if scores else None
    if scores and info is None:
        raise ApiError(f"{type(estimator).__name__}: this model has no score vector to output; compile with scores=False")
    if topology not in ("auto", "call", "commitments"):
        raise ApiError(f'topology must be "auto", "call" or "commitments", not {topology!r}')
    plan = stages.plan(model, PlanRequest(spec, batch=batch, rows=MAX_BATCH, compiler=compiler, topology=topology))
    sources: LeoSources = stages.generate_leo(model, plan)
    compiled = stages.compile_programs(sources, compiler)
    form = model.form
    card = ModelCard(
        name=name,
        algorithm=family.name,
        estimator=type(estimator).__name__,
        task=task,
        function=compiled.function,
        programs=tuple(p.program_id for p in compiled.programs),
        feature_type=form.io.feature_type.name,
        output_type=form.io.output_type.name,
        inputs=model.input_codec,
        labels=model.label_codec,
        batch=plan.batch,
        cuts=plan.cuts,
        input_visibility=spec.inputs,
        output_visibility=spec.output,
        estimates=tuple(FunctionEstimate(p, f, n) for (p, f), n in compiled.estimates.items()),
        scores=info.count if info else 0,
        score_type=info.type.name if info else "",
        preprocess=preprocess,
        topology=str(plan.topology),
        packed_bits=packing.bits if (packing := stages.plan_packing(model, plan)) else 0,
    )
    leo = {p.program_id: p.source for p in sources.programs}
    aleo = {p.program_id: p.aleo for p in compiled.programs}
    return CompiledModel(card, leo, aleo, model=model, plan=plan)


def _split_pipeline(estimator: Any, X: np.ndarray) -> tuple[Any, Preprocess | None]:
    steps = getattr(estimator, "steps", None)
    if steps is None or type(estimator).__name__ != "Pipeline":
        return estimator, None
    *before, (_, last) = steps
    return last, Preprocess.from_steps([s for _, s in before], X.shape[1])


def _check_fitted(estimator: Any) -> None:
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(estimator)
    except NotFittedError:
        raise ApiError(f"{type(estimator).__name__} is not fitted: call fit before zk.compile") from None
    except TypeError:
        pass  # not a scikit-learn estimator: its family's lowering says what is missing


def _calibration(X: Any) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim < 2 or len(X) == 0:
        raise ApiError("X_calibration must hold rows of features (shape (n_rows, n_features)), at least one row")
    X = X.reshape(len(X), -1)
    if not np.all(np.isfinite(X)):
        raise ApiError("X_calibration must hold finite numbers (no NaN or infinity)")
    return X


def compile(  # noqa: A001 - the API's verb, as in zk.compile
    estimator: Any,
    X_calibration: Any,
    y: Any = None,
    *,
    name: str | None = None,
    fractional_bits: int | None = None,
    input_range: tuple[float, float] | None = None,
    inputs: str = "private",
    output: str = "public",
    batch: int | str = 1,
    scores: bool = False,
    compiler: str = "auto",
    task: str = "auto",
    topology: str = "auto",
) -> CompiledModel:
    """Compile a fitted model for zero-knowledge inference.

    `estimator`: a fitted scikit-learn or XGBoost estimator of a supported family, a
    `sklearn.pipeline.Pipeline` of StandardScaler/MinMaxScaler steps ending in one, a
    PyTorch `nn.Module` (exported through torch.onnx, `X_calibration` serving as the example
    input), or an ONNX model (path, bytes or `onnx.ModelProto`; see `compile_onnx`).
    `X_calibration`: rows like the ones the model will see (the training rows): input ranges
    ("auto") and the fractional-bit search are taken from them; `y`, if given, sets
    regression tolerances and class labels of networks. The options mirror an experiment
    file's `[quantization]` and `[zk]`: `fractional_bits` (None: auto), `input_range` ((low,
    high) in the model's feature units; None: auto), `inputs`/`output` visibility, `batch`
    (rows per execution and proof, or "auto"), `scores` (also output the score vector),
    `compiler` ("auto", "workbench", "leo"), `topology` (how a model split across
    transitions links them: "auto", "call", "commitments"). `name` is the Leo program's (default: the
    family's name). `task` is for networks ("auto", "classification", "regression").
    """
    if _is_torch_module(estimator):
        return _compile_torch(estimator, X_calibration, y, name=name, fractional_bits=fractional_bits,
                              input_range=input_range, inputs=inputs, output=output, batch=batch, scores=scores,
                              compiler=compiler, task=task, topology=topology)
    if _is_onnx(estimator):
        return compile_onnx(estimator, X_calibration, y, name=name, fractional_bits=fractional_bits,
                            input_range=input_range, inputs=inputs, output=output, batch=batch, scores=scores,
                            compiler=compiler, task=task, topology=topology)
    X = _calibration(X_calibration)
    last, preprocess = _split_pipeline(estimator, X)
    family = catalogue.for_estimator(last)  # MissingAlgorithm names the class and what is supported
    _check_fitted(last)
    if preprocess is not None:
        X = preprocess.apply(X)
    spec = _options_spec(fractional_bits, input_range)
    model = family.lower(last, Calibration(X, None if y is None else np.asarray(y)), spec)
    return _build(model, family, last, family.task, name or family.name, preprocess, inputs, output, batch, scores,
                  compiler, topology)


def compile_onnx(
    source: Any,
    X_calibration: Any,
    y: Any = None,
    *,
    task: str = "auto",
    name: str | None = None,
    **options: Any,
) -> CompiledModel:
    """Compile a network from ONNX (a path, the file's bytes or an `onnx.ModelProto`).

    PyTorch networks arrive through `torch.onnx.export`, Keras/TensorFlow ones through
    tf2onnx. The supported operators and how each is handled are in
    workbench/algorithms/onnx_net.py and docs/python-api.md; onnxruntime runs the file as
    the float model.
    """
    from workbench.algorithms.onnx_net import OnnxEstimator

    X = _calibration(X_calibration)
    model_arg = None if isinstance(source, (str, Path)) else source
    estimator = OnnxEstimator(path=str(source) if model_arg is None else None, task=task, model=model_arg)
    estimator.fit(X, None if y is None else np.asarray(y))
    family = catalogue.get("onnx")
    spec = _options_spec(options.pop("fractional_bits", None), options.pop("input_range", None))
    quantized = family.lower(estimator, Calibration(X, None if y is None else np.asarray(y)), spec)
    net_task = Task.REGRESSION if quantized.task == Task.REGRESSION else Task.CLASSIFICATION
    return _build(quantized, family, estimator, net_task, name or "onnx_model", None,
                  options.pop("inputs", "private"), options.pop("output", "public"), options.pop("batch", 1),
                  options.pop("scores", False), options.pop("compiler", "auto"), options.pop("topology", "auto"))


def _is_onnx(obj: Any) -> bool:
    if isinstance(obj, (str, Path)):
        return str(obj).endswith(".onnx")
    if isinstance(obj, (bytes, bytearray)):
        return True
    return type(obj).__name__ == "ModelProto"


def _is_torch_module(obj: Any) -> bool:
    return any(c.__module__.startswith("torch.nn") and c.__name__ == "Module" for c in type(obj).__mro__)


def _compile_torch(module: Any, X_calibration: Any, y: Any, **options: Any) -> CompiledModel:
    """Export a PyTorch module to ONNX (torch.onnx, the TorchScript exporter), then compile it."""
    import io

    try:
        import torch
    except ImportError:  # pragma: no cover - a torch module implies torch
        raise ApiError("compiling a PyTorch module needs torch (pip install -e '.[torch]')") from None
    X = np.asarray(X_calibration, dtype=np.float32)
    example = torch.tensor(X[:1])
    buffer = io.BytesIO()
    was_training = module.training
    module.eval()
    try:
        with warnings.catch_warnings():
            # The TorchScript exporter is deprecated in favour of torch.export, which needs
            # onnxscript; it still writes the plain graphs the importer reads.
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(
                module, (example,), buffer, input_names=["input"], output_names=["output"],
                dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=17, dynamo=False,
            )
    finally:
        module.train(was_training)
    return compile_onnx(buffer.getvalue(), X.reshape(len(X), -1), y, **options)


# -- load and verify -------------------------------------------------------------------------------
def load(directory: str | Path) -> CompiledModel:
    """A model saved with `CompiledModel.save`: it predicts, proves and verifies with snarkVM,
    without the estimator (so without `predict_quantized`)."""
    directory = Path(directory)
    card_path = directory / CARD_FILE
    try:
        data = json.loads(card_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ApiError(f"{card_path}: no such file (is {directory} a saved model?)") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(f"{card_path}: cannot read ({exc})") from None
    if not isinstance(data, dict) or data.get("schema") != CARD_SCHEMA:
        raise ApiError(f"{card_path}: not a saved model of this workbench (schema {data.get('schema') if isinstance(data, dict) else '?'})")
    try:
        card = from_json(ModelCard, data)
    except (RecordError, TypeError, ValueError) as exc:
        raise ApiError(f"{card_path}: {exc}") from None
    leo, aleo = {}, {}
    for program_id in card.programs:
        name = program_id.removesuffix(".aleo")
        try:
            aleo[program_id] = (directory / f"{name}.aleo").read_text()
        except OSError:
            raise ApiError(f"{directory}: {name}.aleo is missing") from None
        source = directory / "leo" / name / "src" / "main.leo"
        leo[program_id] = source.read_text() if source.is_file() else ""
    keys = {}
    for path in sorted((directory / "verifying_keys").glob("*.verifier")):
        program, _, function = path.name.removesuffix(".verifier").rpartition(".")
        keys[(f"{program}.aleo", function)] = path.read_bytes()
    return CompiledModel(card, leo, aleo, directory=directory, verifying_keys=keys)


def verify(proof: ZkProof | str | Path, model: CompiledModel | str | Path) -> bool:
    """Whether a proof (a ZkProof, its JSON text, or a file) is valid for a model (a
    CompiledModel or a saved model's directory) and attests what it claims. Reads only the
    saved programs and verifying keys; never raises for an invalid proof."""
    compiled = model if isinstance(model, CompiledModel) else load(model)
    if not isinstance(proof, ZkProof):
        try:
            text = Path(proof).read_text(encoding="utf-8") if isinstance(proof, Path) or (
                isinstance(proof, str) and not proof.lstrip().startswith("{")) else str(proof)
            proof = ZkProof.from_json(text)
        except (OSError, ApiError):
            return False
    return compiled.verify(proof)


__all__ = ["compile", "compile_onnx", "load", "verify", "CompiledModel", "ZkProof", "ModelCard", "Preprocess"]
