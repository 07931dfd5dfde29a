"""The enums every layer shares: what a model predicts, who sees a value, who produced a result.

They are `StrEnum`s, so a value compares equal to its string, prints as it, and goes into
JSON as it: result.json and the TOML files keep their plain strings.
"""

from __future__ import annotations

from enum import StrEnum


class Task(StrEnum):
    """What a model predicts, which decides its metrics."""

    CLASSIFICATION = "classification"
    REGRESSION = "regression"
    CLUSTERING = "clustering"


class Visibility(StrEnum):
    """Whether a value of a transition is seen by a verifier (public) or not (private)."""

    PRIVATE = "private"
    PUBLIC = "public"


class ProverKind(StrEnum):
    """Which backend computed a run's circuit outputs.

    Only SNARKVM outputs are ZK results; REFERENCE evaluates the integer reference in
    numpy (a test double for planning and plumbing) and its results are never saved.
    """

    SNARKVM = "snarkvm"
    REFERENCE = "reference"


class KeyCacheState(StrEnum):
    """Where a run's proving keys came from."""

    HIT = "hit"  # read from the on-disk cache
    MISS = "miss"  # synthesized, then stored in the cache
    OFF = "off"  # synthesized; the cache was not used
    # Synthesized, and not stored: a model of one transition does not cache its proving key
    # (writing it out would cost more memory than synthesizing it again costs time;
    # workbench/snarkvm/keycache.py, docs/performance.md "Memory").
    UNCACHED = "uncached"


class Topology(StrEnum):
    """How the transitions of a model split across several are linked.

    CALL: one execution; each program calls the next (at most 31 transitions, each call
    costs its caller about 2,900 constraints), one proof covers every transition.
    COMMITMENTS: one execution per link; each link outputs public commitments (BHP256 with
    a random private salt) to the features it read and the values it hands on, the next
    link recomputes the commitment of what it received; a verifier checks every link's
    proof and that the commitments match. No limit on the number of links, no call cost.
    """

    CALL = "call"
    COMMITMENTS = "commitments"
