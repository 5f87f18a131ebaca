"""Clustering headlines into stories and themes: grouping, naming, determinism, scale-out, errors,
the service function, the map and the ``cluster`` command."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from classifier import cli
from classifier.clustering.cluster import HeadlineClusterer, cluster_headlines
from classifier.clustering.keywords import clean_headline, cluster_keywords, headline_terms
from classifier.topics.model import InputError
from classifier.topics.store import ModelStore
from tests.conftest import ROOT, FakeEmbedder, load_project_data, save_model, write_csv


# -- synthetic data ------------------------------------------------------------------------------
def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def random_directions(count: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    return unit(rng.normal(size=(count, dim)))


def jitter(centre: np.ndarray, count: int, spread: float, rng: np.random.Generator) -> np.ndarray:
    """``count`` unit vectors around ``centre``; cosine to it about ``1 / sqrt(1 + spread**2)``."""
    noise = rng.normal(size=(count, len(centre))) * spread / np.sqrt(len(centre))
    return unit(centre + noise)


def themed_vectors(
    n_themes: int, *, stories=6, per_story=8, dim=256, seed=0, story_spread=1.0, spread=0.7
):
    """Themes made of stories made of headlines: the hierarchy the two levels should find.

    The defaults give cosines like MiniLM's: ~0.67 within a story, ~0.33 between stories of a
    theme, ~0 between themes.
    """
    rng = np.random.default_rng(seed)
    rows, theme_of, story_of = [], [], []
    for theme, centre in enumerate(random_directions(n_themes, dim, rng)):
        for story_centre in jitter(centre, stories, story_spread, rng):
            rows.append(jitter(story_centre, per_story, spread, rng))
            theme_of += [theme] * per_story
            story_of += [len(set(story_of))] * per_story
    return np.vstack(rows).astype(np.float32), np.array(theme_of), np.array(story_of)


# Stories worded so that even the fake (word-hashing) embedder sees them as one event.
STORY_TEMPLATES = {
    "tariffs": [
        "US raises tariffs on Chinese steel imports",
        "US raises tariffs on Chinese steel imports again",
        "US raises steel tariffs on Chinese imports (Reuters)",
        "US raises tariffs on Chinese steel imports, says Commerce Department",
        "Chinese steel imports: US raises tariffs",
    ],
    "measles": [
        "Measles outbreak spreads across county schools",
        "Measles outbreak spreads to more county schools",
        "County schools hit as measles outbreak spreads",
        "Measles outbreak spreads across county schools, officials say",
    ],
    "election": [
        "Mayoral election too close to call",
        "Mayoral election still too close to call",
        "Mayoral election result too close to call",
    ],
}
ODD_ONES = [
    "Zoo welcomes twin panda cubs",
    "Bakery wins national croissant prize",
    "Marathon runner breaks course record",
    "Library extends weekend opening hours",
]


def story_headlines() -> tuple[list[str], list[str]]:
    texts, truth = [], []
    for name, headlines in STORY_TEMPLATES.items():
        texts += headlines
        truth += [name] * len(headlines)
    return texts + ODD_ONES, truth + ["odd"] * len(ODD_ONES)


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    return adjusted_rand_score(a, b) == 1.0


@pytest.fixture(scope="module")
def fake_model(tmp_path_factory):
    """A topic model trained on our data with the fake embedder, in a temporary store."""
    rows = load_project_data()[::20]
    texts, labels = [r["headline"] for r in rows], [r["topic"] for r in rows]
    embedder = FakeEmbedder()
    store = ModelStore(tmp_path_factory.mktemp("models"))
    save_model(store, texts, labels, embedder)
    return store.load(embedder=embedder)


# -- stories ---------------------------------------------------------------------------------------
def test_near_duplicates_form_one_story_and_unrelated_ones_stay_apart():
    rng = np.random.default_rng(3)
    groups = [jitter(c, 3, 0.3, rng) for c in random_directions(4, 64, rng)]
    loners = random_directions(6, 64, rng)
    X = np.vstack(groups + [loners])
    labels = HeadlineClusterer(level="stories").fit_predict(X)
    for g in range(4):
        members = labels[g * 3 : g * 3 + 3]
        assert members[0] >= 0 and (members == members[0]).all()
    assert len(set(labels[:12])) == 4
    assert (labels[12:] == -1).all()


def test_a_tighter_threshold_splits_looser_stories():
    rng = np.random.default_rng(5)
    X = jitter(random_directions(1, 64, rng)[0], 10, 1.0, rng)  # pairwise cosine ~0.5
    loose = HeadlineClusterer(level="stories", distance_threshold=0.7).fit(X)
    tight = HeadlineClusterer(level="stories", distance_threshold=0.2).fit(X)
    assert loose.n_clusters_ == 1 and (loose.labels_ == 0).all()
    assert tight.n_clusters_ == 0 and (tight.labels_ == -1).all()


def test_min_cluster_size_leaves_small_stories_unclustered():
    rng = np.random.default_rng(8)
    centres = random_directions(2, 64, rng)
    X = np.vstack([jitter(centres[0], 5, 0.2, rng), jitter(centres[1], 2, 0.2, rng)])
    labels = HeadlineClusterer(level="stories", min_cluster_size=3).fit_predict(X)
    assert (labels[:5] == 0).all() and (labels[5:] == -1).all()


def test_ids_are_ranked_by_size_then_first_headline():
    rng = np.random.default_rng(11)
    centres = random_directions(3, 64, rng)
    X = np.vstack([jitter(c, n, 0.2, rng) for c, n in zip(centres, (2, 5, 3), strict=True)])
    texts = [f"b{i}" for i in range(2)] + [f"c{i}" for i in range(5)] + [f"a{i}" for i in range(3)]
    clusterer = HeadlineClusterer(level="stories").fit(X, texts)
    assert [c.size for c in clusterer.clusters_] == [5, 3, 2]
    assert clusterer.labels_[2] == 0 and clusterer.labels_[7] == 1 and clusterer.labels_[0] == 2
    # equal sizes: the cluster whose alphabetically first headline comes first gets the lower id
    X2 = np.vstack([jitter(c, 2, 0.2, rng) for c in centres[:2]])
    tied = HeadlineClusterer(level="stories").fit(X2, ["zeta 1", "zeta 2", "alpha 1", "alpha 2"])
    assert list(tied.labels_) == [1, 1, 0, 0]


# -- themes ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_themes", [3, 5])
def test_the_number_of_themes_comes_from_the_data(n_themes):
    X, themes, stories = themed_vectors(n_themes, seed=n_themes)
    clusterer = HeadlineClusterer(level="themes").fit(X)
    assert clusterer.n_clusters_ == n_themes
    assert adjusted_rand_score(themes, clusterer.labels_) > 0.95
    story_level = HeadlineClusterer(level="stories").fit(X)
    assert story_level.n_clusters_ > 2 * n_themes  # stories are finer than themes
    assert normalized_mutual_info_score(stories, story_level.labels_) > 0.8


def test_themes_can_be_forced_to_a_number():
    X, themes, _ = themed_vectors(4, seed=1)
    assert HeadlineClusterer(level="themes", n_clusters=2).fit(X).n_clusters_ == 2


def test_tight_repeats_do_not_pass_for_themes():
    # stories of near-verbatim copies (cosine ~0.95): left alone, each would look like a theme
    X, themes, _ = themed_vectors(3, seed=1, story_spread=1.3, spread=0.2)
    clusterer = HeadlineClusterer(level="themes").fit(X)
    assert clusterer.n_clusters_ == 3
    assert adjusted_rand_score(themes, clusterer.labels_) > 0.95


def test_an_isolated_headline_has_no_theme():
    X, _, _ = themed_vectors(3, seed=2)
    rng = np.random.default_rng(0)
    stray = random_directions(1, X.shape[1], rng)
    labels = HeadlineClusterer(level="themes").fit_predict(np.vstack([X, stray]))
    assert labels[-1] == -1 and (labels[:-1] >= 0).all()


def test_duplicate_cliques_join_a_theme_instead_of_breaking_the_spectrum():
    X, themes, _ = themed_vectors(3, stories=20, seed=4)
    copies = np.repeat(X[:1], 20, axis=0)  # 20 identical headlines fill each other's neighbours
    labels = HeadlineClusterer(level="themes").fit_predict(np.vstack([X, copies]))
    assert len(set(labels)) == 3
    assert (labels[len(X) :] == labels[0]).all()


# -- determinism -----------------------------------------------------------------------------------
@pytest.mark.parametrize("level", ["stories", "themes"])
def test_order_does_not_change_clusters_ids_or_keywords(level, fake_embedder):
    rng = np.random.default_rng(0)
    texts, _ = story_headlines()
    texts = texts * 3  # repeats make theme-sized groups, and duplicates must not break ties
    X = fake_embedder.encode(texts)
    reference = HeadlineClusterer(level=level, min_cluster_size=2).fit(X, texts)
    by_text = dict(zip(texts, reference.labels_, strict=True))
    for _ in range(3):
        order = rng.permutation(len(texts))
        shuffled = HeadlineClusterer(level=level, min_cluster_size=2).fit(
            X[order], [texts[i] for i in order]
        )
        assert [by_text[texts[i]] for i in order] == list(shuffled.labels_)
        assert [c.to_dict() for c in shuffled.clusters_] == [
            c.to_dict() for c in reference.clusters_
        ]


def test_order_does_not_change_themes_of_many_similar_headlines():
    X, _, _ = themed_vectors(4, seed=12, story_spread=1.4)
    texts = [f"headline {i % 50:02d}" for i in range(len(X))]  # repeated texts: ties to break
    reference = HeadlineClusterer(level="themes").fit(X, texts)
    for seed in range(3):
        order = np.random.default_rng(seed).permutation(len(X))
        shuffled = HeadlineClusterer(level="themes").fit(X[order], [texts[i] for i in order])
        assert list(shuffled.labels_) == list(reference.labels_[order])


def test_without_texts_the_order_still_does_not_matter():
    X, _, _ = themed_vectors(3, seed=9)
    order = np.random.default_rng(1).permutation(len(X))
    a = HeadlineClusterer(level="themes").fit(X).labels_
    b = HeadlineClusterer(level="themes").fit(X[order]).labels_
    assert list(a[order]) == list(b)


# -- naming ----------------------------------------------------------------------------------------
def test_keywords_contain_the_obvious_words_of_each_cluster():
    texts, truth = story_headlines()
    ids = {"tariffs": 0, "measles": 1, "election": 2, "odd": -1}
    keywords = cluster_keywords(texts, [ids[t] for t in truth])
    assert set(keywords) == {0, 1, 2}
    words = {c: " ".join(k).split() for c, k in keywords.items()}
    assert {"steel", "tariffs"} <= set(words[0])
    assert {"measles", "outbreak"} <= set(words[1])
    assert {"mayoral", "election"} <= set(words[2])
    for terms in keywords.values():
        assert 3 <= len(terms) <= 8
        assert not {"says", "say", "reuters", "new"} & set(" ".join(terms).split())


def test_boilerplate_never_names_a_cluster_even_when_every_headline_has_it():
    texts = [
        "Minister says steel tariffs will rise (Reuters)",
        "Official says steel tariffs may rise - live updates (Reuters)",
        "Analyst says steel tariffs to rise: exclusive (Reuters)",
        "Storm hits the coast",
        "Storm hits coast again",
    ]
    keywords = cluster_keywords(texts, [0, 0, 0, 1, 1])
    words = set(" ".join(keywords[0]).split())
    assert {"steel", "tariffs", "rise"} <= words
    assert not {"says", "reuters", "live", "updates", "exclusive"} & words


def test_keywords_come_from_a_clusters_own_headlines_not_the_shared_vocabulary():
    texts = ["Storm hits coast"] * 3 + ["Storm delays flights"] * 3 + ["Markets storm ahead"] * 3
    keywords = cluster_keywords(texts, [0, 0, 0, 1, 1, 1, 2, 2, 2])
    assert keywords[0][0] in ("coast", "storm hits", "hits coast", "hits")
    assert "storm" not in keywords[1][:1]  # the word all clusters share does not lead


def test_plural_spellings_count_as_one_word():
    texts = ["Haitians fear deportation", "Haitian court rules", "Ports reopen", "Port strike ends"]
    keywords = cluster_keywords(texts, [0, 0, 1, 1])
    assert keywords[0][0] == "haitian" and "port" in keywords[1][0].split()
    assert not {"haitians", "ports"} & set(" ".join(keywords[0] + keywords[1]).split())
    # "news" is not the plural of "new": stop words and phrase-only words are never folded
    assert "new york" in headline_terms("New York news")


def test_headline_cleaning_removes_wire_tags_and_html_debris():
    assert "(AP)" not in clean_headline("Fed holds rates (AP)")
    assert headline_terms("Tigers #39; challenge: Win out &lt;b&gt;...&lt;/b&gt;") == [
        "tigers",
        "challenge",
        "win",
        "tigers challenge",
    ]
    assert "u.s. trade" in headline_terms("U.S. Trade Deficit Widens")
    assert "new york" in headline_terms("New York votes") and "new" not in headline_terms("New law")


def test_summaries_have_representatives_and_topic_shares():
    texts, truth = story_headlines()
    X = FakeEmbedder().encode(texts)
    topics = ["trade" if t == "tariffs" else "health" if t == "measles" else "other" for t in truth]
    clusterer = HeadlineClusterer(level="stories").fit(X, texts, topics=topics)
    tariff_id = clusterer.labels_[0]
    summary = clusterer.clusters_[tariff_id]
    assert summary.id == tariff_id and summary.size == int((clusterer.labels_ == tariff_id).sum())
    assert len(summary.representatives) == min(3, summary.size)
    assert set(summary.representatives) <= set(STORY_TEMPLATES["tariffs"])
    assert summary.top_topic == "trade" and summary.topic_shares["trade"] == 1.0
    assert abs(sum(summary.topic_shares.values()) - 1) < 1e-6
    # the most central headline comes first: highest cosine to the cluster mean
    rows = np.nonzero(clusterer.labels_ == tariff_id)[0]
    member = unit(X[rows])
    centrality = member @ member.mean(axis=0)
    assert summary.representatives[0] == texts[rows[int(np.argmax(centrality))]]


# -- scale-out ------------------------------------------------------------------------------------
@pytest.mark.parametrize("level", ["stories", "themes"])
def test_assign_gives_new_headlines_the_nearest_cluster(level):
    X, themes, stories = themed_vectors(3, seed=6)
    clusterer = HeadlineClusterer(level=level).fit(X)
    rng = np.random.default_rng(2)
    near_copies = unit(X + rng.normal(size=X.shape) * 0.02)
    assigned = clusterer.assign(near_copies)
    assert np.mean(assigned == clusterer.labels_) > 0.95
    strangers = random_directions(5, X.shape[1], rng)
    assert (clusterer.assign(strangers) == -1).all()
    assert clusterer.assign(near_copies[:1]).dtype.kind == "i"


def test_a_large_input_is_fitted_on_a_sample_and_the_rest_assigned():
    X, themes, _ = themed_vectors(3, stories=12, seed=7)
    texts = [f"headline {i:04d}" for i in range(len(X))]
    full = HeadlineClusterer(level="themes").fit(X, texts)
    sampled = HeadlineClusterer(level="themes", sample_size=100).fit(X, texts)
    assert sampled.sampled_ and not full.sampled_
    assert len(sampled.fit_labels_) == 100 and len(sampled.labels_) == len(X)
    assert adjusted_rand_score(full.labels_, sampled.labels_) > 0.95
    order = np.random.default_rng(0).permutation(len(X))
    again = HeadlineClusterer(level="themes", sample_size=100).fit(
        X[order], [texts[i] for i in order]
    )
    assert list(again.labels_) == list(sampled.labels_[order])


def test_assign_refuses_what_it_cannot_compare():
    with pytest.raises(NotFittedError):
        HeadlineClusterer().assign(np.ones((1, 4)))
    clusterer = HeadlineClusterer().fit(np.eye(4) + 0.01)
    with pytest.raises(ValueError, match="3 dimensions; the clusterer was fitted on 4"):
        clusterer.assign(np.ones((2, 3)))
    with pytest.raises(ValueError, match="row 1 is all zeros"):
        clusterer.assign(np.vstack([np.ones(4), np.zeros(4)]))


# -- contract and bad input ------------------------------------------------------------------------
def test_follows_the_scikit_learn_estimator_contract():
    clusterer = HeadlineClusterer(level="themes", n_neighbors=7)
    assert clusterer.get_params()["n_neighbors"] == 7
    copy = clone(clusterer)
    assert copy.get_params() == clusterer.get_params()
    clusterer.set_params(level="nonsense")  # checked when fitting, not when set
    with pytest.raises(ValueError, match="level must be one of stories, themes"):
        clusterer.fit(np.eye(3))
    X, _, _ = themed_vectors(2, seed=0)
    fitted = copy.fit(X)
    assert fitted is copy and copy.labels_.shape == (len(X),)
    assert copy.fit_predict(X).tolist() == copy.labels_.tolist()


@pytest.mark.parametrize(
    "X, texts, params, error, message",
    [
        (np.array([[1.0, np.nan]]), None, {}, ValueError, "row 0 contains NaN"),
        (np.array([[1.0, 0.0], [0.0, 0.0]]), None, {}, ValueError, "row 1 is all zeros"),
        (np.ones(3), None, {}, ValueError, "must be 2-D"),
        (np.zeros((0, 4)), None, {}, InputError, "no headlines to cluster"),
        ([["a", "b"]], None, {}, ValueError, "2-D array of numbers"),
        (np.eye(2), ["one"], {}, ValueError, "2 embeddings but 1 headlines"),
        (np.eye(2), ["one", "  "], {}, InputError, "headline 1 is empty"),
        (np.eye(2), ["one", 7], {}, InputError, "headline 1 is int, not text"),
        (np.eye(2), None, {"level": "topics"}, ValueError, "level must be one of"),
        (np.eye(2), None, {"distance_threshold": 0}, ValueError, "between 0 and 2"),
        (np.eye(2), None, {"n_clusters": 0}, ValueError, "n_clusters must be a positive"),
        (np.eye(2), None, {"min_cluster_size": 0}, ValueError, "min_cluster_size must be"),
        (np.eye(2), None, {"n_neighbors": 2.5}, ValueError, "n_neighbors must be a positive"),
    ],
)
def test_bad_input_gets_a_clear_error(X, texts, params, error, message):
    with pytest.raises(error, match=message):
        HeadlineClusterer(**params).fit(X, texts)


def test_tiny_inputs_do_not_crash():
    one = HeadlineClusterer(level="themes").fit(np.ones((1, 3)), ["only"])
    assert one.labels_.tolist() == [-1] and one.n_clusters_ == 0 and one.clusters_ == []
    pair = HeadlineClusterer(level="stories").fit(np.ones((2, 3)), ["same", "same"])
    assert pair.labels_.tolist() == [0, 0]
    few = HeadlineClusterer(level="themes").fit(np.ones((6, 3)) + np.eye(6, 3) * 0.1)
    assert few.n_clusters_ == 1


# -- the service function --------------------------------------------------------------------------
def test_cluster_headlines_answers_json_ready(fake_model):
    texts, _ = story_headlines()
    result = cluster_headlines(texts, fake_model, level="stories")
    assert json.loads(json.dumps(result)) == result
    assert result["level"] == "stories" and result["model"] == fake_model.version
    assert result["n_headlines"] == len(texts) == len(result["labels"])
    assert result["n_unclustered"] == result["labels"].count(-1)
    assert result["n_clusters"] == len(result["clusters"]) >= 3
    for cluster in result["clusters"]:
        assert set(cluster) == {
            "id",
            "size",
            "keywords",
            "representative_headlines",
            "top_topic",
            "topic_shares",
        }
        assert list(cluster["topic_shares"])[0] == cluster["top_topic"]
        assert set(cluster["topic_shares"]) == set(fake_model.labels)  # always every topic
        assert abs(sum(cluster["topic_shares"].values()) - 1) < 1e-3
    # precomputed embeddings give the same answer without touching the encoder
    embeddings = fake_model.embedder.encode(texts)
    calls = fake_model.embedder.calls
    again = cluster_headlines(texts, fake_model, level="stories", embeddings=embeddings)
    assert again == result and fake_model.embedder.calls == calls


@pytest.mark.parametrize(
    "texts, kwargs, message",
    [
        ("one headline", {}, "a single string"),
        ([], {}, "no headlines"),
        (["fine", ""], {}, "headline 1 is empty"),
        (["a", "b"], {"embeddings": np.ones((3, 4))}, "3 embeddings for 2 headlines"),
        (["a", "b"], {"level": "sections"}, "level must be one of"),
    ],
)
def test_cluster_headlines_refuses_bad_input(fake_model, texts, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cluster_headlines(texts, fake_model, **kwargs)


def test_cluster_headlines_without_a_model_has_no_topics(fake_embedder):
    texts, _ = story_headlines()
    result = cluster_headlines(texts, embedder=fake_embedder, level="stories")
    assert result["model"] is None
    assert all("topic_shares" not in c for c in result["clusters"])


# -- the map ---------------------------------------------------------------------------------------
def test_plot_writes_a_png(tmp_path):
    from classifier.clustering.plot import plot_clusters

    X, _, _ = themed_vectors(3, stories=3, per_story=6, seed=3)
    clusterer = HeadlineClusterer(level="themes").fit(X, [f"h{i}" for i in range(len(X))])
    path = plot_clusters(X, clusterer.labels_, clusterer.clusters_, tmp_path / "map.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="54 embeddings but 3 labels"):
        plot_clusters(X, [0, 1, 2], clusterer.clusters_, tmp_path / "x.png")


# -- the command ----------------------------------------------------------------------------------
@pytest.fixture
def use_fake_model(monkeypatch, fake_model):
    monkeypatch.setattr(
        "classifier.cli.cluster.load_resources", lambda args: (fake_model.embedder, fake_model)
    )
    return fake_model


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(["cluster", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def headlines_csv(tmp_path, blank_row=True):
    texts, _ = story_headlines()
    rows = [(t, "x") for t in texts]
    if blank_row:
        rows.insert(2, ("   ", "x"))
    return write_csv(tmp_path / "in.csv", rows)


def test_cli_clusters_a_csv_and_reports_unusable_rows(tmp_path, capsys, caplog, use_fake_model):
    code, out, _ = run(capsys, headlines_csv(tmp_path), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["n_headlines"] == len(story_headlines()[0])
    assert result["skipped"] == [{"row": 3, "reason": "empty headline"}]
    assert "row 3: empty headline" in caplog.text
    code, out, _ = run(capsys, headlines_csv(tmp_path), "--level", "stories")
    assert code == 0 and out.startswith("stories: ") and "skipped 1 unusable row(s)" in out
    assert "#0 " in out and "mostly " in out


@pytest.mark.parametrize("kind", ["txt", "jsonl"])
def test_cli_reads_plain_lines_and_jsonl(tmp_path, capsys, use_fake_model, kind):
    texts, _ = story_headlines()
    path = tmp_path / f"in.{kind}"
    if kind == "txt":
        path.write_text("\n".join(texts[:5] + [""] + texts[5:]) + "\n", encoding="utf-8")
    else:
        lines = [json.dumps({"title": t}) for t in texts] + ["{broken"]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    extra = ["--text-column", "title"] if kind == "jsonl" else []
    code, out, _ = run(capsys, path, "--json", *extra)
    result = json.loads(out)
    assert code == 0 and result["n_headlines"] == len(texts)
    expected_row = 6 if kind == "txt" else len(texts) + 1
    assert [s["row"] for s in result["skipped"]] == [expected_row]


def test_cli_out_keeps_every_row_and_refuses_to_overwrite(tmp_path, capsys, use_fake_model):
    source = headlines_csv(tmp_path)
    out = tmp_path / "clusters.csv"
    code, _, _ = run(capsys, source, "--out", out)
    assert code == 0
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["row"]) for r in rows] == list(range(1, len(story_headlines()[0]) + 2))
    assert rows[2]["error"] == "empty headline" and rows[2]["cluster"] == ""
    assert rows[0]["cluster"] == rows[1]["cluster"] != "-1"
    assert {r["topic"] for r in rows if r["topic"]} <= set(use_fake_model.labels)
    before = out.read_bytes()
    code, _, err = run(capsys, source, "--out", out)
    assert code == 2 and "already exists; pass --force" in err and "Traceback" not in err
    assert out.read_bytes() == before
    out.write_text("old")
    code, _, _ = run(capsys, source, "--out", out, "--force")
    assert code == 0 and out.read_text(encoding="utf-8").startswith("row,headline,cluster")
    code, _, _ = run(capsys, source, "--out", tmp_path / "all.json")
    assert json.loads((tmp_path / "all.json").read_text())["n_headlines"] > 0


def test_cli_plot_draws_a_map_and_refuses_to_overwrite(tmp_path, capsys, use_fake_model):
    source = headlines_csv(tmp_path)
    png = tmp_path / "map.png"
    code, out, _ = run(capsys, source, "--plot", png, "--level", "themes", "--min-cluster-size", 2)
    assert code == 0 and png.read_bytes()[:4] == b"\x89PNG" and "map drawn to" in out
    code, _, err = run(capsys, source, "--plot", png)
    assert code == 2 and "already exists; pass --force" in err


@pytest.mark.parametrize(
    "make_args, message",
    [
        (lambda p: [p / "missing.csv"], "no such file"),
        (lambda p: [write_csv(p / "t.csv", [("a", "b")], header=("title", "x"))], "missing column"),
        (lambda p: [headlines_csv(p), "--threshold", "3"], "between 0 and 2"),
        (lambda p: [headlines_csv(p), "--level", "themes", "--threshold", ".3"], "stories only"),
        (lambda p: [headlines_csv(p), "--out", p / "x.parquet"], "--out must end in"),
        (lambda p: [headlines_csv(p), "--plot", p / "x.jpg"], "--plot must be a .png"),
        (lambda p: [headlines_csv(p), "--out", p / "nowhere" / "x.csv"], "does not exist"),
        (lambda p: [write_csv(p / "e.csv", [("  ", "x")])], "no headlines to cluster"),
    ],
)
def test_cli_bad_input_is_one_clean_line(tmp_path, capsys, use_fake_model, make_args, message):
    code, _, err = run(capsys, *make_args(tmp_path))
    assert code == 2 and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 2


def test_cli_refuses_undecodable_text(tmp_path, capsys, use_fake_model):
    path = tmp_path / "latin.txt"
    path.write_bytes("Caf\xe9 opens\nSecond line\n".encode("latin-1"))
    code, _, err = run(capsys, path)
    assert code == 2 and "not valid utf-8-sig text" in err
    code, out, _ = run(capsys, path, "--encoding", "latin-1", "--json")
    assert code == 0 and json.loads(out)["n_headlines"] == 2


def test_cli_without_topics_uses_only_the_encoder(tmp_path, capsys, monkeypatch, fake_embedder):
    monkeypatch.setattr("classifier.cli._embedder", lambda args: fake_embedder)
    code, out, _ = run(capsys, headlines_csv(tmp_path), "--json", "--no-topics")
    result = json.loads(out)
    assert code == 0 and result["model"] is None and result["n_clusters"] >= 3


# -- with the real embedding model -----------------------------------------------------------------
PARAPHRASES = [
    ("Judge blocks end of TPS for Haitians", "Court halts bid to end Haitian protected status"),
    ("Fed raises interest rates by a quarter point", "Federal Reserve lifts rates 0.25%"),
    ("Earthquake kills hundreds in Turkey", "Turkey quake death toll rises to 500"),
]
UNRELATED = [
    "Yankees sign veteran pitcher to one-year deal",
    "New exhibit of Dutch masters opens at museum",
    "Apple unveils thinner laptop with longer battery life",
    "Heat wave grips southern Europe",
]


@pytest.mark.slow
def test_real_paraphrases_share_a_story_and_unrelated_headlines_do_not(real_embedder):
    texts = [t for pair in PARAPHRASES for t in pair] + UNRELATED
    clusterer = HeadlineClusterer(level="stories").fit(real_embedder.encode(texts), texts)
    labels = clusterer.labels_
    for i in range(len(PARAPHRASES)):
        assert labels[2 * i] >= 0 and labels[2 * i] == labels[2 * i + 1], texts[2 * i]
    assert len({labels[2 * i] for i in range(len(PARAPHRASES))}) == len(PARAPHRASES)
    assert (labels[len(PARAPHRASES) * 2 :] == -1).all()
    tps = clusterer.clusters_[labels[0]]
    assert {"haitian", "haitians"} & set(" ".join(tps.keywords).split())


@pytest.mark.slow
def test_real_themes_follow_the_subjects_of_our_headlines(real_embedder):
    rows = load_project_data()
    chosen = []
    for subject in ("health_features", "trade_features", "immigration_features"):
        chosen += [r for r in rows if r["set"] == subject][:60]
    texts = [r["headline"] for r in chosen]
    truth = [r["set"] for r in chosen]
    clusterer = HeadlineClusterer(level="themes").fit(real_embedder.encode(texts), texts)
    assert clusterer.n_clusters_ >= 2
    assert normalized_mutual_info_score(truth, clusterer.labels_) > 0.5


@pytest.mark.slow
def test_real_cli_end_to_end_with_the_shipped_model(tmp_path, capsys):
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models, ignore=shutil.ignore_patterns("encoders"))
    texts = [t for pair in PARAPHRASES for t in pair] + UNRELATED
    source = tmp_path / "in.txt"
    source.write_text("\n".join(texts) + "\n", encoding="utf-8")
    code, out, err = run(capsys, source, "--models-dir", models, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["model"] == ModelStore(models).current_version()
    assert result["n_clusters"] == 3
    shares = {c["top_topic"] for c in result["clusters"]}
    assert "immigration" in shares
