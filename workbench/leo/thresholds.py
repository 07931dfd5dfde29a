"""Tree-ensemble inputs as threshold bits (`[zk] tree_inputs = "thresholds"`, an opt-in).

A tree ensemble only ever asks one question of a feature: is x_f <= T for the integer
thresholds T its nodes test on f. In this mode the private input is the answers, one bit
per distinct (feature, threshold) test of the model, instead of the features: per feature
a thermometer code of its rank among that feature's thresholds. The circuit then pays for
a bit of input (packed 128 to a u128 word, about 1.7 constraints each) where it paid for a
comparison (19 constraints on i16 features) and its share of the feature's input bits.

What changes about the private input: it is the rank of each feature among the model's
thresholds, not its value. The circuit checks the bits are a possible rank (a feature at
or below a threshold is at or below every larger one), so every proof is of the model on
some real feature vector; a verifier who is later shown the features can recompute the
bits, but cannot tell which values inside a rank's interval were used. See README
("Privacy") and docs/performance.md.
"""

from __future__ import annotations

import numpy as np

from workbench.algorithms.forms import TreeForm, TreeHead

Test = tuple[int, int]  # (feature, integer threshold): the node test x[feature] <= threshold


def applies(form: object) -> bool:
    """Whether the form can take threshold bits: a tree ensemble (scores summed over trees;
    a single classifier tree selects class indices instead and is not covered)."""
    return isinstance(form, TreeForm) and form.head != TreeHead.LEAF


def tests(form: TreeForm) -> tuple[Test, ...]:
    """Every distinct test of the model's internal nodes, sorted by feature then threshold:
    the bit order of the input."""
    found = {
        (int(tree.feature[n]), int(thr[n])) for tree, thr in zip(form.trees, form.thresholds) for n in tree.internal_nodes
    }
    return tuple(sorted(found))


def monotone_pairs(order: tuple[Test, ...]) -> list[tuple[int, int]]:
    """Bit index pairs (i, j) of consecutive thresholds of one feature: bit i implies bit j."""
    return [(i, i + 1) for i in range(len(order) - 1) if order[i][0] == order[i + 1][0]]


def encode(order: tuple[Test, ...], X: np.ndarray) -> np.ndarray:
    """The bits of quantized rows X (rows, features): bit i of a row is x[f_i] <= t_i."""
    X = np.asarray(X)
    if not order:
        return np.zeros((len(X), 0), dtype=np.int64)
    f = np.array([t[0] for t in order])
    t = np.array([t[1] for t in order])
    return (X[:, f] <= t).astype(np.int64)


def representative(order: tuple[Test, ...], bits: np.ndarray, n_features: int) -> np.ndarray:
    """Integer rows that answer every test as `bits` do (the inverse of `encode` up to the
    rank's interval): per feature its smallest threshold answered yes, or one above the
    largest when none is. Features no node tests are 0."""
    bits = np.asarray(bits)
    X = np.zeros((len(bits), n_features), dtype=np.int64)
    for r, row in enumerate(bits):
        for f in sorted({t[0] for t in order}):
            idx = [i for i, t in enumerate(order) if t[0] == f]
            yes = [order[i][1] for i in idx if row[i]]
            X[r, f] = min(yes) if yes else order[idx[-1]][1] + 1
    return X
