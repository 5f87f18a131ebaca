"""The level list: one home, importable without the numeric stack, used by CLI and service."""

from __future__ import annotations

import subprocess
import sys

import pytest

from classifier.clustering import levels
from classifier.errors import ParameterError
from tests.conftest import ROOT


def test_the_levels_import_without_numpy_scipy_or_scikit_learn():
    code = (
        "import sys, classifier.clustering, classifier.clustering.levels as levels;"
        "print(levels.LEVELS, sorted(m for m in ('numpy', 'scipy', 'sklearn') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "('stories', 'themes', 'sections') []"


def test_each_level_is_named_once_and_has_a_default_size():
    assert levels.LEVELS == (levels.STORIES, levels.THEMES, levels.SECTIONS)
    assert levels.LEVELS == ("stories", "themes", "sections")  # fine to broad
    assert levels.DEFAULT_LEVEL in levels.LEVELS
    assert set(levels.DEFAULT_MIN_CLUSTER_SIZE) == set(levels.LEVELS)


def test_the_package_exports_its_public_names_lazily():
    import classifier.clustering as clustering
    from classifier.clustering.estimator import HeadlineClusterer
    from classifier.clustering.summary import describe

    assert clustering.HeadlineClusterer is HeadlineClusterer
    assert clustering.describe is describe  # the function, not a module of that name
    assert set(clustering.__all__) <= set(dir(clustering))


def test_a_parameter_of_the_other_level_is_refused_under_the_callers_names():
    """One rule for the CLI and POST /v1/cluster (issue 19: the service took what the CLI refused)."""
    levels.check_level_options("stories", {"distance_threshold": 0.4, "n_clusters": None})
    levels.check_level_options("themes", {"n_clusters": 3})
    with pytest.raises(ParameterError, match="^n_clusters applies to level themes only$") as caught:
        levels.check_level_options("stories", {"n_clusters": 3})
    assert caught.value.parameter == "n_clusters"
    names = {"distance_threshold": "--threshold", "level": "--level"}
    with pytest.raises(
        ParameterError, match="^--threshold applies to --level stories only$"
    ) as caught:
        levels.check_level_options("themes", {"distance_threshold": 0.4}, names)
    assert caught.value.parameter == "distance_threshold"
