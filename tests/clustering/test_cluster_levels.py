"""The level list: one home, importable without the numeric stack, used by CLI and service."""

from __future__ import annotations

import subprocess
import sys

from classifier.clustering import levels
from tests.conftest import ROOT


def test_the_levels_import_without_numpy_scipy_or_scikit_learn():
    code = (
        "import sys, classifier.clustering, classifier.clustering.levels as levels;"
        "print(levels.LEVELS, sorted(m for m in ('numpy', 'scipy', 'sklearn') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "('stories', 'themes') []"


def test_each_level_is_named_once_and_has_a_default_size():
    assert levels.LEVELS == (levels.STORIES, levels.THEMES) == ("stories", "themes")
    assert levels.DEFAULT_LEVEL in levels.LEVELS
    assert set(levels.DEFAULT_MIN_CLUSTER_SIZE) == set(levels.LEVELS)


def test_the_package_exports_its_public_names_lazily():
    import classifier.clustering as clustering
    from classifier.clustering.estimator import HeadlineClusterer
    from classifier.clustering.summary import describe

    assert clustering.HeadlineClusterer is HeadlineClusterer
    assert clustering.describe is describe  # the function, not a module of that name
    assert set(clustering.__all__) <= set(dir(clustering))
