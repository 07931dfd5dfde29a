"""Where to cut a model too large for one transition into a chain of transitions.

The offline setup proves at most `OFFLINE_BUDGET` constraints per transition. A family
whose model is a sum of independent pieces (the trees of an ensemble) can be split into a
chain of programs: the main program evaluates the first group of pieces and calls the
first link, which evaluates the next group and calls the next link, and so on; each link
returns the partial result of everything after it. Every program of the chain is a
separate transition with its own budget, and holds at most one call (a call costs the
caller about 2,900 constraints, so a function with two calls does not fit; see
docs/cost-model.md).

The cuts are chosen from the estimates of the compiled programs, before any key is
synthesized: the last link takes as many of the last pieces as fit, the link before it as
many as fit in front of those, until the remaining first pieces fit in the main program.
Links are named after their first piece, so a link's source does not change when links
are added in front of it and each candidate is compiled once, against the signature of
the link it calls.
"""

from __future__ import annotations

from typing import Callable

from workbench.leo.compiler import CompiledProgram, compile_source
from workbench.leo.generate import LeoProgram
from workbench.snarkvm.costs import OFFLINE_BUDGET, estimate_constraints
from workbench.snarkvm.errors import CircuitTooLarge

MAX_TRANSITIONS = 31  # snarkVM's limit of transitions in one execution

Render = Callable[[tuple[int, ...]], list[LeoProgram]]  # cuts -> programs, main last


class _Chain:
    """Compiles and estimates the candidate programs of one chain search."""

    def __init__(self, render: Render, budget: int) -> None:
        self.render = render
        self.budget = budget
        self.compiled: dict[str, CompiledProgram] = {}  # accepted links, by program name

    def program(self, cuts: tuple[int, ...], index: int) -> LeoProgram:
        """Program `index` of the chain (0 = main, i = the link starting at cuts[i-1])."""
        programs = self.render(cuts)  # dependencies first: the main program is last
        return programs[len(programs) - 1 - index]

    def estimate(self, program: LeoProgram) -> tuple[int, CompiledProgram]:
        imports = [self.compiled[name] for name in program.imports]
        compiled = compile_source(program.source, f"{program.name}/src/main.leo", imports=[c.signature for c in imports])
        n = max(estimate_constraints(compiled.aleo, [c.aleo for c in imports]).values())
        return n, compiled

    def fits(self, program: LeoProgram) -> tuple[bool, int, CompiledProgram]:
        n, compiled = self.estimate(program)
        return n <= self.budget, n, compiled


def choose_cuts(
    render: Render,
    units: int,
    budget: int = OFFLINE_BUDGET,
    what: str = "pieces",
    max_transitions: int = MAX_TRANSITIONS,
) -> tuple[int, ...]:
    """Cuts (indices of the first piece of each link) splitting `units` pieces into a
    chain of transitions that each fit `budget`; () when one program fits.

    Raises CircuitTooLarge, naming the estimates, when no chain of at most
    `max_transitions` (snarkVM: 31) transitions fits (a single piece too large for a link, or too many pieces).
    """
    chain = _Chain(render, budget)
    ok, n, _ = chain.fits(chain.program((), 0))
    if ok:
        return ()
    if units < 2:
        raise CircuitTooLarge(f"the model is estimated at {n:,} constraints and has {units} {what}, too few to split")
    cuts: tuple[int, ...] = ()
    end = units
    while True:
        # The main program with pieces [0, end), calling the chain built so far.
        if cuts:
            ok, n, _ = chain.fits(chain.program(cuts, 0))
            if ok:
                return cuts
        if end == 1:
            raise CircuitTooLarge(
                f"the main program with one {what[:-1]} is estimated at {n:,} constraints (its fixed cost, the "
                f"{what[:-1]}, its call to the chain and the final result); the offline setup proves at most "
                f"about {budget:,} per transition"
            )
        if len(cuts) + 2 > max_transitions:
            raise CircuitTooLarge(
                f"the model does not fit in {max_transitions} transitions (snarkVM's limit per execution is "
                f"{MAX_TRANSITIONS}): the last "
                f"{units - end} of its {units} {what} fill {len(cuts)} transitions and {end} remain "
                f"(each transition proves at most about {budget:,} constraints offline)"
            )
        # A new link with pieces [start, end): the smallest start in 1..end-1 that fits.
        def candidate(start: int) -> LeoProgram:
            return chain.program((start, *cuts), 1)

        ok, n, compiled = chain.fits(candidate(end - 1))
        if not ok:
            raise CircuitTooLarge(
                f"a link of a chain of transitions holding only one {what[:-1]} is estimated at {n:,} constraints "
                f"(the link's fixed cost, its call to the next link if any, and the {what[:-1]}); the offline "
                f"setup proves at most about {budget:,} per transition"
            )
        best, best_compiled = end - 1, compiled
        lo, hi = 1, end - 2
        while lo <= hi:  # more pieces cost more: binary search the smallest start that fits
            mid = (lo + hi) // 2
            ok, _, compiled = chain.fits(candidate(mid))
            if ok:
                best, best_compiled, hi = mid, compiled, mid - 1
            else:
                lo = mid + 1
        chain.compiled[candidate(best).name] = best_compiled
        cuts = (best, *cuts)
        end = best
