"""scikit-learn's own estimator checks, run on HeadlineClusterer at both levels.

A few checks assume what headline embeddings never are, or want scikit-learn's own wording of an
error where ours names the argument; each is listed with the reason, per level.
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from classifier.clustering.estimator import HeadlineClusterer
from classifier.clustering.levels import LEVELS, STORIES

BOTH_LEVELS = {
    "check_estimators_dtypes": (
        "casting the check's random data to integers leaves all-zero rows; a zero vector has "
        "no direction, so fit refuses it (cosine is undefined)"
    ),
    "check_dtype_object": (
        "a non-number inside X raises ValueError ('embeddings must be a 2-D array of numbers'), "
        "which the CLI and the service report cleanly, not numpy's TypeError"
    ),
    "check_estimators_empty_data_messages": (
        "zero columns raise ValueError 'embeddings have no dimensions', not check_array's wording"
    ),
}
STORIES_ONLY = {
    "check_clustering": (
        "stories ignore n_clusters (their number comes from the distance cut), and a cosine "
        "cut of 2-D standardised blobs does not find the blobs"
    ),
    "check_clustering(readonly_memmap=True)": "as check_clustering",
}


def expected_failures(estimator: HeadlineClusterer) -> dict[str, str]:
    return {**BOTH_LEVELS, **(STORIES_ONLY if estimator.level == STORIES else {})}


@parametrize_with_checks(
    [HeadlineClusterer(level=level) for level in LEVELS], expected_failed_checks=expected_failures
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
