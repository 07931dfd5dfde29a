"""The registry of algorithm families, keyed by estimator class (one place, no overwrites)."""

from __future__ import annotations

from workbench.algorithms.base import Algorithm
from workbench.errors import UserError

_BY_CLASS: dict[type, Algorithm] = {}
_BY_NAME: dict[str, Algorithm] = {}


class MissingAlgorithm(UserError):
    """No lowering is registered for an algorithm name or estimator class."""


def register(algorithm: Algorithm) -> None:
    """Register a family; registering the same class or name twice is an error."""
    if algorithm.estimator in _BY_CLASS or algorithm.name in _BY_NAME:
        raise RuntimeError(f"algorithm already registered: {algorithm.name} ({algorithm.estimator.__name__})")
    _BY_CLASS[algorithm.estimator] = algorithm
    _BY_NAME[algorithm.name] = algorithm


def _load() -> None:
    # Importing the family modules registers them.
    from workbench.algorithms import trees  # noqa: F401
    from workbench.algorithms import ensembles  # noqa: F401
    from workbench.algorithms import linear, mlp  # noqa: F401
    from workbench.algorithms import neighbors  # noqa: F401


def algorithm_names() -> tuple[str, ...]:
    """Every `[model] algorithm` value that is supported."""
    _load()
    return tuple(sorted(_BY_NAME))


def get(name: str) -> Algorithm:
    """The algorithm registered under a TOML name."""
    _load()
    try:
        return _BY_NAME[name]
    except KeyError:
        raise MissingAlgorithm(f"unknown algorithm {name!r}; supported: {', '.join(sorted(_BY_NAME))}") from None


def for_estimator(estimator: object) -> Algorithm:
    """The algorithm registered for a fitted estimator's class."""
    _load()
    try:
        return _BY_CLASS[type(estimator)]
    except KeyError:
        supported = ", ".join(sorted(c.__name__ for c in _BY_CLASS))
        raise MissingAlgorithm(f"no lowering for {type(estimator).__name__}; supported: {supported}") from None
