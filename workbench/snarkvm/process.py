"""One snarkVM process holding a model's programs, through aleo-sdk: keys, execution, proofs.

This package is the only place that imports aleo-sdk. Its calls hold the GIL for their
whole duration, so callers with a UI run this in a worker process (see docs/architecture.md).
`prover.py` builds the `Prover` protocol's snarkVM backend on this class; the worker
processes of `parallel.py` each hold one.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Sequence

from aleo import mainnet as avm

from workbench import memory
from workbench.errors import ZkError
from workbench.limits import (
    FIXED_TRANSITION_COST,
    OFFLINE_BUDGET,
    CircuitShape,
    Quantity,
    setup_limits,
    shape_from_verifying_key,
)
from workbench.prover import Executed, FunctionKey, FunctionKeys, Proof, Verification
from workbench.snarkvm import params, setup_files
from workbench.snarkvm.errors import CircuitTooLarge

if TYPE_CHECKING:
    from workbench.snarkvm.keycache import KeyCache


def is_vm_failure(exc: BaseException) -> bool:
    """Whether an exception is snarkVM refusing or halting (not an interrupt or a bug of ours).

    aleo-sdk raises RuntimeError for most failures, but a halting instruction (overflow,
    failed assert, bad cast) surfaces as pyo3's PanicException, which derives from
    BaseException, not Exception.
    """
    return isinstance(exc, (RuntimeError, ValueError)) or type(exc).__name__ == "PanicException"


def _needs_larger_setup(message: str) -> bool:
    # snarkVM asks for a larger universal setup, and tries to download it, when a circuit
    # exceeds the shipped degree; offline the download fails with a network error.
    lowered = message.lower()
    return any(s in lowered for s in ("powers-of-beta", "download", "ureq", "failed to lookup address"))


def _too_large(function: str) -> CircuitTooLarge:
    # The installed degree, not the shipped one: larger setup files may have been installed
    # (`workbench setup install`), and this refusal means snarkVM wanted one beyond them.
    degree = setup_files.installed_degree()
    lim = setup_limits(degree)
    return CircuitTooLarge(
        f"{function} needs a universal setup of degree 2^{degree + 1} or more; installed here is "
        f"2^{degree}, which holds at most {lim.constraints:,} constraints, {lim.maximum(Quantity.VARIABLES):,} "
        f"variables and {lim.maximum(Quantity.NONZERO_B):,} non-zero entries of each R1CS matrix per transition "
        f"(at degree 16 the workbench plans to about {OFFLINE_BUDGET:,} constraints, of which about "
        f"{FIXED_TRANSITION_COST:,} are the fixed cost of any transition), and snarkVM could not download a "
        f"larger one. Shrink the model (fewer nodes or features, fewer fractional bits) or shard it; "
        f"`workbench setup` lists the larger setups and their files."
    )


def sdk_version() -> str:
    """The installed aleo-sdk version."""
    from importlib.metadata import version

    return version("aleo-sdk")


class SnarkVMProcess:
    """A snarkVM process holding a model's programs and a throwaway signing key.

    `sources` are Aleo programs in dependency order; the last is the main program, whose
    entry function `function` is executed (it may `call` functions of the others).
    """

    def __init__(self, sources: Sequence[str], function: str = "main") -> None:
        params.ensure_installed()
        self.sources = list(sources)
        self.function = function
        self.process = avm.Process.load()
        self.programs = []
        for source in self.sources:
            try:
                program = avm.Program.from_source(source)
                self.process.add_program(program)
            except (RuntimeError, ValueError) as exc:
                raise ZkError(f"snarkVM rejected the compiled program: {str(exc).splitlines()[0]}") from None
            self.programs.append(program)
        self.main = self.programs[-1]
        # A fresh key per run: the signer of an inference request is not what is proven,
        # and nothing is spent, so the key is never saved.
        self._key = avm.PrivateKey.random()

    @property
    def program_id(self) -> str:
        """The main program's id."""
        return str(self.main.id)

    def functions(self) -> list[FunctionKey]:
        """Every entry function of every program, in dependency order."""
        return [(str(p.id), str(f)) for p in self.programs for f in p.functions]

    def source_of(self, program: str) -> str:
        """The Aleo source of one of the programs, by id."""
        return self.sources[[str(p.id) for p in self.programs].index(program)]

    def insert_keys(self, keys: dict[FunctionKey, FunctionKeys]) -> bool:
        """Use these keys instead of synthesizing (each proving key read and parsed in turn,
        so one key's text at a time is in memory); False if any is missing or unreadable."""
        parsed = []
        for (program, function), k in keys.items():
            try:
                text = k.proving_text()
                if text is None:
                    return False
                prover = avm.ProvingKey.from_string(text)
                del text
                verifier = avm.VerifyingKey.from_bytes(k.verifier)
            except (RuntimeError, ValueError, OSError, UnicodeDecodeError):
                return False  # e.g. a corrupt cache entry: synthesize again (and overwrite it)
            parsed.append((program, function, prover, verifier))
        for program, function, prover, verifier in parsed:
            pid, name = avm.ProgramID.from_string(program), avm.Identifier.from_string(function)
            self.process.insert_proving_key(pid, name, prover)
            self.process.insert_verifying_key(pid, name, verifier)
        return True

    def insert_verifying_keys(self, keys: dict[FunctionKey, bytes]) -> None:
        """Use these verifying keys (to verify, and read sizes, without any proving key)."""
        for (program, function), verifier in keys.items():
            pid, name = avm.ProgramID.from_string(program), avm.Identifier.from_string(function)
            self.process.insert_verifying_key(pid, name, avm.VerifyingKey.from_bytes(verifier))

    def verifying_key_bytes(self, program: str, function: str) -> bytes:
        """A function's synthesized verifying key (its bytes: under a kilobyte)."""
        vk = self.process.get_verifying_key(avm.ProgramID.from_string(program), avm.Identifier.from_string(function))
        return bytes(vk.bytes())

    def proving_key_text(self, program: str, function: str) -> str:
        """A function's synthesized proving key as snarkVM's text (bech32, "prover1...").

        Not its bytes: aleo-sdk's `ProvingKey.bytes()` returns a list of Python ints (8 bytes
        per byte: 260 MB for a 32 MB key). The text is 1.6 times the key's size, and making
        it still peaks at about 4.6 times (the key's bytes, their bech32 encoding and its
        Python copy at once): about 147 MB for a 32 MB key.
        """
        pk = self.process.get_proving_key(avm.ProgramID.from_string(program), avm.Identifier.from_string(function))
        return str(pk)

    def synthesized_keys(self) -> dict[FunctionKey, FunctionKeys]:
        """Every function's synthesized verifying key (after the first execution); the proving
        keys stay in this process (`prover` None)."""
        return {
            (program, function): FunctionKeys(prover=None, verifier=self.verifying_key_bytes(program, function))
            for program, function in self.functions()
        }

    def store_keys(self, cache: "KeyCache") -> None:
        """Write every function's synthesized keys into `cache`, one proving key's text at a
        time, handing back what each serialization freed before the next."""
        for (program, function), k in self.synthesized_keys().items():
            cache.store(program, function, FunctionKeys(self.proving_key_text(program, function), k.verifier))
            memory.release()

    def constraints(self, program: str, function: str) -> int:
        """A function's constraint count, from its synthesized verifying key."""
        vk = self.process.get_verifying_key(avm.ProgramID.from_string(program), avm.Identifier.from_string(function))
        return int(vk.num_constraints())

    def shape(self, program: str, function: str) -> CircuitShape:
        """A function's six circuit sizes (constraints, variables, non-zeros...), read from
        its synthesized verifying key's bytes (`limits.shape_from_verifying_key`)."""
        return shape_from_verifying_key(self.verifying_key_bytes(program, function))

    def execute(self, inputs: Sequence[str], program: str | None = None) -> Executed:
        """Authorize and execute the entry function on Aleo input literals (no proof yet).

        `program` (an id) runs that program's entry function instead of the main one's
        (the links of a chain linked by commitments are separate programs).
        The first execution also synthesizes the keys of every function it runs (the main
        one and those it calls), unless they were inserted.
        """
        values = [avm.Value.parse(v) for v in inputs]
        name = avm.Identifier.from_string(self.function)
        program_id = self.main.id if program is None else avm.ProgramID.from_string(program)
        label = f"{program or self.program_id}/{self.function}"
        t0 = time.perf_counter()
        try:
            auth = self.process.authorize(self._key, program_id, name, values)
            t1 = time.perf_counter()
            response, trace = self.process.execute(auth)
        except BaseException as exc:
            if not is_vm_failure(exc):
                raise
            message = str(exc).splitlines()[0]
            if _needs_larger_setup(str(exc)):
                raise _too_large(label) from None
            raise ZkError(f"snarkVM halted executing {label} on {list(inputs)}: {message}") from None
        t2 = time.perf_counter()
        return Executed(
            outputs=tuple(str(o) for o in response.outputs),
            authorize_seconds=t1 - t0,
            execute_seconds=t2 - t1,
            transitions=len(trace.transitions()),
            handle=trace,
        )

    def prove(self, executed: Executed, ledger_url: str, program: str | None = None) -> Proof:
        """Prove an execution (of `program`'s entry function; default the main one); the
        ledger query (height, state root) is read from `ledger_url`."""
        label = f"{program or self.program_id}/{self.function}"
        t0 = time.perf_counter()
        try:
            executed.handle.prepare(avm.Query.rest(ledger_url))
            execution = executed.handle.prove_execution(label)
        except BaseException as exc:
            if not is_vm_failure(exc):
                raise
            if _needs_larger_setup(str(exc)):
                raise _too_large(label) from None
            raise ZkError(f"proving {label} failed: {str(exc).splitlines()[0]}") from None
        return Proof(execution_json=execution.to_json(), prove_seconds=time.perf_counter() - t0, handle=execution)

    def verify(self, proof: Proof) -> Verification:
        """Verify a proof against this process's verifying keys."""
        t0 = time.perf_counter()
        try:
            execution = proof.handle if proof.handle is not None else avm.Execution.from_json(proof.execution_json)
            self.process.verify_execution(execution)
        except BaseException as exc:
            if not is_vm_failure(exc):
                raise
            return Verification(False, time.perf_counter() - t0, str(exc).splitlines()[0])
        return Verification(True, time.perf_counter() - t0, None)
