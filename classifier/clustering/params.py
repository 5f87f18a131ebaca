"""What each :class:`HeadlineClusterer` parameter may be, declared once as data, and one checker.

The shape follows scikit-learn's ``_parameter_constraints`` (a dict from parameter name to what
it accepts, checked when fitting so that ``set_params`` stays cheap) without using its private
``sklearn.utils._param_validation``. Each rule carries its own wording, so the error names the
parameter, what it must be and what it got: ``n_neighbors must be a positive integer; got 2.5``.
Rules are checked in the order written here, which decides the message when several are wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from classifier.clustering.levels import LEVELS
from classifier.errors import ParameterError


@dataclass(frozen=True)
class Constraint:
    """One parameter's rule: the test a value must pass and how the error message words it."""

    wording: str
    test: Callable[[object], bool]
    show: Callable[[object], str] = repr


def _positive_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and value >= 1


def _within(low: float, high: float, *, closed: bool) -> Callable[[object], bool]:
    """A test for numbers (or what ``float`` reads as one) between ``low`` and ``high``."""

    def test(value: object) -> bool:
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
        return low <= number <= high if closed else low < number < high

    return test


POSITIVE_INT = Constraint("a positive integer", _positive_int)

PARAMETER_CONSTRAINTS: dict[str, Constraint] = {
    "level": Constraint(f"one of {', '.join(LEVELS)}", lambda v: v in LEVELS),
    "distance_threshold": Constraint(
        "between 0 and 2 (cosine distance)", _within(0.0, 2.0, closed=False), show=str
    ),
    "max_clusters": POSITIVE_INT,
    "n_neighbors": POSITIVE_INT,
    "sample_size": POSITIVE_INT,
    "n_clusters": Constraint("a positive integer or None", lambda v: v is None or _positive_int(v)),
    "noise_similarity": Constraint(
        "a cosine in [-1, 1]", _within(-1.0, 1.0, closed=True), show=str
    ),
    # None: the level's default (DEFAULT_MIN_CLUSTER_SIZE); the message keeps to the usual case
    "min_cluster_size": Constraint("a positive integer", lambda v: v is None or _positive_int(v)),
    # handed to KMeans as it is, which accepts None, an integer or a RandomState and checks it
    "random_state": Constraint("anything KMeans accepts", lambda v: True),
}


def check_params(params: Mapping[str, object]) -> None:
    """Raise ParameterError (a ValueError) naming the first parameter in ``params`` that breaks
    its rule, then check the rules between parameters."""
    for name, rule in PARAMETER_CONSTRAINTS.items():
        value = params[name]
        if not rule.test(value):
            raise ParameterError(name, f"{name} must be {rule.wording}; got {rule.show(value)}")
    wanted, ceiling = params["n_clusters"], params["max_clusters"]
    if wanted is not None and wanted > ceiling:  # type: ignore[operator]  # both checked above
        raise ParameterError(
            "n_clusters", f"n_clusters must be at most max_clusters ({ceiling}); got {wanted}"
        )
