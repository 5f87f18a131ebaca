"""The theme hierarchy: sections hold themes, themes hold whole stories; the cut, the tree, the answer."""

from __future__ import annotations

import numpy as np
import pytest

from classifier.clustering.estimator import HeadlineClusterer
from classifier.clustering.hierarchy import merge_gaps, parents
from classifier.clustering.summary import describe
from classifier.clustering.ward import CROSS_SECTION_OFFSET, cut, theme_range, weighted_ward
from tests.clustering.synthetic import jitter, random_directions

SYLLABLES = ["ba", "ko", "mi", "tu", "re", "sa", "lo", "ne"]


def word(i: int) -> str:
    """A made-up word per number: one vocabulary without digits, which keywords ignore."""
    return "".join(SYLLABLES[int(d)] for d in np.base_repr(i, 8).zfill(3))


def sectioned(n_sections=3, themes=4, stories=8, per_story=12, dim=256, seed=0):
    """Sections of themes of stories of headlines, with texts naming theme and story.

    Cosines: ~0.8 within a story, ~0.4 between stories of a theme, ~0.35 between themes of a
    section, ~0 between sections; 1,152 headlines, so that 12 themes lie inside the range.
    """
    rng = np.random.default_rng(seed)
    rows, texts, truth = [], [], {"sections": [], "themes": [], "stories": []}
    theme_id = story_id = 0
    for section, centre in enumerate(random_directions(n_sections, dim, rng)):
        for theme_centre in jitter(centre, themes, 0.4, rng):
            for story_centre in jitter(theme_centre, stories, 1.0, rng):
                rows.append(jitter(story_centre, per_story, 0.5, rng))
                for j in range(per_story):
                    texts.append(f"{word(theme_id)} {word(100 + story_id)} {word(300 + j)}")
                truth["sections"] += [section] * per_story
                truth["themes"] += [theme_id] * per_story
                truth["stories"] += [story_id] * per_story
                story_id += 1
            theme_id += 1
    return np.vstack(rows).astype(np.float32), texts, {k: np.array(v) for k, v in truth.items()}


def assert_nested(clusterer: HeadlineClusterer) -> None:
    """Every story lies in one theme and every theme in one section, as ``parents_`` says."""
    h = clusterer.hierarchy_
    for child, parent in (("stories", "themes"), ("themes", "sections")):
        for cluster in np.unique(h[child][h[child] >= 0]):
            holders = set(h[parent][h[child] == cluster].tolist())
            assert holders == {int(clusterer.parents_[child][cluster])}, (child, cluster)


@pytest.fixture(scope="module")
def fitted():
    X, texts, truth = sectioned()
    return X, texts, truth, HeadlineClusterer(level="themes").fit(X, texts=texts)


def test_every_story_is_inside_one_theme_and_every_theme_inside_one_section(fitted):
    from sklearn.metrics import adjusted_rand_score

    X, texts, truth, clusterer = fitted
    assert_nested(clusterer)
    h = clusterer.hierarchy_
    assert set(h) == {"stories", "themes", "sections"}
    counts = {level: int(labels.max()) + 1 for level, labels in h.items()}
    assert counts["sections"] == 3 < counts["themes"] < counts["stories"]
    assert adjusted_rand_score(truth["sections"], h["sections"]) == 1.0
    assert adjusted_rand_score(truth["stories"], h["stories"]) == 1.0
    assert adjusted_rand_score(truth["themes"], h["themes"]) > 0.7  # 0.745 measured


def test_the_level_picks_which_labels_and_clusters_are_the_answer(fitted):
    X, texts, _, themes = fitted
    sections = HeadlineClusterer(level="sections").fit(X, texts=texts)
    assert list(sections.labels_) == list(sections.hierarchy_["sections"])
    assert list(themes.labels_) == list(themes.hierarchy_["themes"])
    for level in ("stories", "themes", "sections"):  # one fit, whichever level is asked for
        assert list(sections.hierarchy_[level]) == list(themes.hierarchy_[level])
    assert sections.clusters_ == sections.level_clusters_["sections"]
    assert [c.parent for c in sections.clusters_] == [None] * sections.n_clusters_
    stories = HeadlineClusterer(level="stories").fit(X, texts=texts)
    assert set(stories.hierarchy_) == {"stories"} and stories.parents_ == {}
    assert list(stories.labels_) == list(themes.hierarchy_["stories"])


def test_every_theme_has_keywords_representatives_and_its_section(fitted):
    X, texts, truth, clusterer = fitted
    for summary in clusterer.clusters_:
        rows = np.nonzero(clusterer.labels_ == summary.id)[0]
        assert summary.size == len(rows) and len(summary.representatives) == 3
        assert set(summary.representatives) <= {texts[i] for i in rows}
        # the theme's own word (shared by all its headlines) names it, alone or in a phrase
        main_theme = word(int(np.bincount(truth["themes"][rows]).argmax()))
        assert any(main_theme in keyword.split() for keyword in summary.keywords)
        assert summary.parent == clusterer.parents_["themes"][summary.id] >= 0


def test_the_answer_carries_every_level_broadest_first(fitted):
    X, texts, _, clusterer = fitted
    answer = describe(clusterer)
    assert list(answer["hierarchy"]) == ["sections", "themes", "stories"]
    assert answer["hierarchy"]["themes"]["labels"] == answer["labels"]
    assert answer["hierarchy"]["themes"]["clusters"] == answer["clusters"]
    n_themes = answer["hierarchy"]["themes"]["n_clusters"]
    assert {c["parent"] for c in answer["hierarchy"]["stories"]["clusters"]} <= set(range(n_themes))
    assert all("parent" not in c for c in answer["hierarchy"]["sections"]["clusters"])
    stories_only = describe(HeadlineClusterer().fit(X, texts=texts))  # as before: no hierarchy
    assert "hierarchy" not in stories_only
    assert all("parent" not in c for c in stories_only["clusters"])


def test_a_sampled_fit_keeps_the_hierarchy_nested():
    X, texts, _ = sectioned(seed=3)
    clusterer = HeadlineClusterer(level="themes", sample_size=200).fit(X, texts=texts)
    assert clusterer.sampled_ and len(clusterer.labels_) == len(X)
    assert_nested(clusterer)
    assert (clusterer.labels_ >= 0).mean() > 0.95


def test_forcing_the_number_of_themes_keeps_them_nested():
    X, texts, _ = sectioned()
    clusterer = HeadlineClusterer(level="themes", n_clusters=6).fit(X, texts=texts)
    assert clusterer.n_clusters_ == 6 and clusterer.cut_scores_ == {}
    assert_nested(clusterer)


def test_the_range_of_themes_grows_with_the_headlines():
    assert theme_range(5_000, 50) == (10, 25)
    assert theme_range(10_000, 50) == (14, 35)
    assert theme_range(50_000, 50) == (32, 50)
    assert theme_range(50_000, 20) == (20, 20)  # max_clusters caps both ends
    assert theme_range(100, 50) == (2, 5)
    assert theme_range(100, 50, floor=4) == (4, 5)  # never fewer themes than sections


def test_ward_counts_each_point_by_its_weight_and_merges_sections_last():
    points = np.array([[0.0], [1.0], [2.2]])
    same = np.zeros(3, dtype=np.int64)
    # unweighted, 0 and 1 are the cheapest pair (0.5 < 0.72); a weight of 100 on 0 makes it 0.99
    assert weighted_ward(points, np.ones(3), same)[0][0].tolist() == [0, 1]
    merges, heights = weighted_ward(points, np.array([100.0, 1.0, 1.0]), same)
    assert merges.tolist() == [[1, 2], [0, 1]]
    assert heights[0] == pytest.approx(0.72)
    merges, heights = weighted_ward(points, np.ones(3), np.array([0, 1, 1]))
    assert merges.tolist() == [[1, 2], [0, 1]] and heights[-1] > CROSS_SECTION_OFFSET
    assert cut(merges, 3, 2).tolist() == [0, 1, 1] and cut(merges, 3, 3).tolist() == [0, 1, 2]


def test_the_cut_is_below_the_largest_rise_in_merge_cost():
    # costs of the merges that leave 4, 3, 2, 1 groups: the step from 3 to 2 groups is dear
    heights = np.array([0.1, 0.2, 1.0, 1.1])
    gaps = merge_gaps(heights, range(2, 5))
    assert max(gaps, key=gaps.get) == 3 and gaps[3] == pytest.approx(5.0)


def test_parents_read_the_level_above_from_the_rows():
    child = np.array([0, 0, 1, -1, 2])
    parent = np.array([1, 1, 0, 0, -1])
    assert parents(child, parent).tolist() == [1, 0, -1]


@pytest.mark.parametrize("level", ["themes", "sections"])
def test_headlines_alike_to_nothing_have_no_theme_or_section_and_do_not_crash(level):
    clusterer = HeadlineClusterer(level=level).fit(np.eye(8) + 0.01)  # no pair 0.3 alike
    assert clusterer.labels_.tolist() == [-1] * 8 and clusterer.n_clusters_ == 0
    assert {name: len(ids) for name, ids in clusterer.parents_.items()} == {
        "stories": 0,
        "themes": 0,
    }
