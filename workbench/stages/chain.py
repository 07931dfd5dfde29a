"""Where to cut a model too large for one transition: a chain of calls, or links by commitments.

The setup bounds what one transition holds (`limits.planning_limits`). A model that can be
split (the trees of an ensemble, the neurons of a dense network, the stored rows of a
k-NN model: `contexts.chain_units`) is cut into programs, each a transition of its own:

- `choose_cuts`, a chain of calls (one execution, one proof, at most 31 transitions): the
  main program evaluates the first group of pieces and calls the first link, which
  evaluates the next group and calls the next link, and so on. Each program holds at most
  one call (a call costs the caller about 2,900 constraints and 20,400 non-zeros of B, so
  a function with two calls does not fit; see docs/cost-model.md). The last link takes as
  many of the last pieces as fit, the link before it as many as fit in front of those,
  until the remaining first pieces fit in the main program. Links are named after their
  first piece, so a link's source does not change when links are added in front of it and
  each candidate is compiled once (the estimator caches by source).
- `choose_links`, links by commitments (one execution per link, no cap): links are
  packed greedily in order (docs/algorithms.md, "Links by commitments").

The cuts are chosen from the estimates of the compiled programs, before any key is
synthesized, with the experiment's toolchain.
"""

from __future__ import annotations

from typing import Callable

from workbench.leo.generate import LeoProgram
from workbench.limits import MAX_TRANSITIONS, OFFLINE_BUDGET, SRS_DEGREE, planning_limits
from workbench.snarkvm.errors import CircuitTooLarge
from workbench.stages.estimate import Estimator

Render = Callable[[tuple[int, ...]], list[LeoProgram]]  # cuts -> programs, main last


# A program of a chain, with every program it calls (directly or not), dependencies first.
Candidate = tuple[LeoProgram, list[LeoProgram]]


class _Chain:
    """Compiles and estimates the candidate programs of one chain search."""

    def __init__(self, render: Render, budget: int, estimator: Estimator, degree: int = SRS_DEGREE) -> None:
        self.render = render
        self.budget = budget
        self.limits = planning_limits(degree, budget)  # of the setup degree planned against
        self.estimator = estimator  # compiles with the experiment's toolchain, caching by source

    def program(self, cuts: tuple[int, ...], index: int) -> Candidate:
        """Program `index` of the chain (0 = main, i = the link starting at cuts[i-1]), and
        the links after it (the ones it calls)."""
        programs = self.render(cuts)  # dependencies first: the main program is last
        at = len(programs) - 1 - index
        return programs[at], programs[:at]

    def fits(self, candidate: Candidate) -> tuple[bool, int]:
        """Whether every estimated size of the candidate is within the setup's limits (the
        constraint maximum lowered to the budget), and its largest constraint estimate."""
        program, deps = candidate
        return self.estimator.fits(program, deps, self.limits)


def _smallest_fitting(fits: Callable[[int], bool], lo: int, hi: int, guess: int) -> int | None:
    """The smallest s in [lo, hi] with fits(s), for fits monotone (false below some s*,
    true from it on); None if fits(hi) is false. Searches outward from `guess` (the
    previous link's size predicts the next), then bisects: a few probes per link."""
    if not fits(hi):
        return None
    guess = min(max(guess, lo), hi)
    if fits(guess):
        good, step = guess, 1
        while good > lo:  # gallop down while it still fits
            probe = max(lo, good - step)
            if not fits(probe):
                bad = probe
                break
            good, step = probe, step * 2
        else:
            return good
    else:
        bad, step = guess, 1
        while True:  # gallop up until it fits (hi does)
            probe = min(hi, bad + step)
            if fits(probe):
                good = probe
                break
            bad, step = probe, step * 2
    while good - bad > 1:  # fits(good), not fits(bad)
        mid = (good + bad) // 2
        good, bad = (mid, bad) if fits(mid) else (good, mid)
    return good


def choose_cuts(
    render: Render,
    units: int,
    budget: int = OFFLINE_BUDGET,
    what: str = "pieces",
    max_transitions: int = MAX_TRANSITIONS,
    estimator: Estimator | None = None,
    degree: int = SRS_DEGREE,
) -> tuple[int, ...]:
    """Cuts (indices of the first piece of each link) splitting `units` pieces into a
    chain of transitions that each fit `budget`; () when one program fits.

    Candidates are compiled by `estimator` (the experiment's toolchain; the built-in
    compiler by default). Raises CircuitTooLarge, naming the estimates, when no chain of
    at most `max_transitions` (snarkVM: 31) transitions fits: a piece too large for a
    link, or too many pieces.
    """
    if estimator is None:
        with Estimator("workbench") as own:
            return choose_cuts(render, units, budget, what, max_transitions, own, degree)
    chain = _Chain(render, budget, estimator, degree)
    ok, n = chain.fits(chain.program((), 0))
    if ok:
        return ()
    if units < 2:
        raise CircuitTooLarge(f"the model is estimated at {n:,} constraints and has {units} {what}, too few to split")
    cuts: tuple[int, ...] = ()
    end = units
    sizes: list[int] = []  # pieces per link, the last link first
    while True:
        # The main program with pieces [0, end), calling the chain built so far.
        if cuts:
            ok, n = chain.fits(chain.program(cuts, 0))
            if ok:
                return cuts
        if end == 1:
            raise CircuitTooLarge(
                f"the main program with one {what[:-1]} is estimated at {n:,} constraints (its fixed cost, the "
                f"{what[:-1]}, its call to the chain and the final result); the offline setup proves at most "
                f"about {budget:,} per transition"
            )
        links_left = max_transitions - len(cuts) - 1  # the main program takes one
        # Stop early when even twice the largest middle link per remaining transition
        # (the main program at most as large as the last link) cannot hold what is left.
        middle = max(sizes[1:], default=None)
        hopeless = middle is not None and end > (links_left - 1) * 2 * middle + sizes[0]
        if links_left < 1 or hopeless:
            needed = len(cuts) + 1 + -(-end // max(middle or 1, 1))
            raise CircuitTooLarge(
                f"the model does not fit in {max_transitions} transitions (snarkVM's limit per execution is "
                f"{MAX_TRANSITIONS}): the last {units - end} of its {units} {what} fill {len(cuts)} transitions "
                f"({', '.join(map(str, sizes))} {what} each) and {end} remain, about {needed} transitions in all "
                f"(each transition proves at most about {budget:,} constraints offline)"
            )

        def candidate(start: int) -> Candidate:  # a new link with pieces [start, end)
            return chain.program((start, *cuts), 1)

        def fits(start: int) -> bool:
            return chain.fits(candidate(start))[0]

        # The smallest start that fits, leaving the main program at least one piece.
        guess = end - (sizes[-1] if len(sizes) > 1 else max(1, end // 2))
        best = _smallest_fitting(fits, 1, end - 1, guess)
        if best is None:
            _, n = chain.fits(candidate(end - 1))
            raise CircuitTooLarge(
                f"a link of a chain of transitions holding only one {what[:-1]} is estimated at {n:,} constraints "
                f"(the link's fixed cost, its call to the next link if any, and the {what[:-1]}); the offline "
                f"setup proves at most about {budget:,} per transition"
            )
        sizes.append(end - best)
        cuts = (best, *cuts)
        end = best


# Links of a chain linked by commitments are separate executions: no snarkVM cap on their
# number, but a model needing more than this many is refused as unreasonable to prove.
MAX_LINKS = 1000

# Linked renderer: the chain's bounds (0, cuts..., units) -> its programs, in link order.
LinkedRender = Callable[[tuple[int, ...]], list[LeoProgram]]


def choose_links(
    render: LinkedRender,
    units: int,
    budget: int = OFFLINE_BUDGET,
    what: str = "pieces",
    estimator: Estimator | None = None,
    first_at_least: int = 1,
    degree: int = SRS_DEGREE,
) -> tuple[int, ...]:
    """Cuts splitting `units` pieces into links of a chain linked by commitments (separate
    executions), each fitting every limit of the setup (constraints held to `budget`); ()
    when one program fits. The first link holds at least `first_at_least` pieces.

    Links are packed greedily in order, each taking as many pieces as fit (its sizes grow
    with its pieces). A link's source depends only on its range and on whether it is the
    first or the last, so each candidate is compiled once; the search for a link starts
    from the size of the link before it (links in the middle of a chain are alike), so a
    link usually costs two compilations. Raises CircuitTooLarge when one piece does not
    fit a link, or when more than MAX_LINKS links would be needed.
    """
    if estimator is None:
        with Estimator("workbench") as own:
            return choose_links(render, units, budget, what, own, first_at_least, degree)
    limits = planning_limits(degree, budget)

    def check(cuts: tuple[int, ...], index: int) -> tuple[bool, int]:
        """Whether program `index` of the chain cut at `cuts` fits every limit, and its
        constraint estimate (links import nothing, so a link is estimated on its own)."""
        return estimator.fits(render(cuts)[index], (), limits)

    cuts: list[int] = []
    start, previous = 0, 0
    while True:
        left = units - start
        # The last link (no handoff after it) holds somewhat more than one in the middle:
        # try it only when what is left is within reach, not on every step.
        if start == 0 or left <= 3 * previous:
            ok, n = check(tuple(cuts), len(cuts))  # [start, units) as the last link (or the whole model)
            if ok:
                return tuple(cuts)
            if start == 0 and units < 2:
                raise CircuitTooLarge(f"the model is estimated at {n:,} constraints and has {units} {what}, too few to split")
        if len(cuts) >= MAX_LINKS:
            raise CircuitTooLarge(f"the model needs more than {MAX_LINKS} links of about {budget:,} constraints each")
        lo = start + 1 if cuts else max(1, first_at_least)
        if lo > units - 1:
            raise CircuitTooLarge(f"the last link, holding {left} {what}, is estimated at {check(tuple(cuts), len(cuts))[1]:,} "
                                  f"constraints; the setup proves at most about {budget:,} per transition")

        def fits(end: int) -> bool:  # a link [start, end) before the last
            return check((*cuts, end), len(cuts))[0]

        end = _largest_fitting(fits, lo, units - 1, start + previous if previous else lo)
        if end is None:
            n = check((*cuts, lo), len(cuts))[1]
            raise CircuitTooLarge(
                f"a link holding {lo - start} {what} is estimated at {n:,} constraints (the link's fixed cost, its "
                f"commitments, its inputs and the {what}); the setup proves at most about {budget:,} per transition"
            )
        cuts.append(end)
        start, previous = end, end - start


def _largest_fitting(fits: Callable[[int], bool], lo: int, hi: int, guess: int) -> int | None:
    """The largest e in [lo, hi] with fits(e), for fits monotone (true up to some e*, false
    after); None if fits(lo) is false. The mirror of `_smallest_fitting`: the smallest e
    that does not fit, less one."""
    first_bad = _smallest_fitting(lambda e: e > hi or not fits(e), lo, hi + 1, guess + 1)
    return None if first_bad is None or first_bad <= lo else first_bad - 1
