"""NeighbourIndex: exact cosine top-k, and arrays that round-trip and are checked on the way in."""

from __future__ import annotations

import numpy as np
import pytest

from classifier.topics.neighbours import NeighbourIndex

LABELS = ["geopolitics", "health", "trade"]


def random_index(n: int = 500, d: int = 16, seed: int = 0) -> NeighbourIndex:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, d)).astype(np.float32)
    topics = [[LABELS[i % 3]] if i % 4 else [LABELS[i % 3], LABELS[(i + 1) % 3]] for i in range(n)]
    return NeighbourIndex(vectors, [f"headline {i}" for i in range(n)], topics)


def test_nearest_are_the_brute_force_top_k_by_cosine_closest_first():
    index = random_index()
    rng = np.random.default_rng(1)
    queries = rng.normal(size=(20, 16)) * rng.uniform(0.1, 10, size=(20, 1))  # any length
    unit = index.vectors / np.linalg.norm(index.vectors, axis=1, keepdims=True)
    for query, found in zip(queries, index.nearest(queries, k=3), strict=True):
        cosine = unit @ (query / np.linalg.norm(query))
        expected = np.argsort(-cosine)[:3]
        assert [n.headline for n in found] == [f"headline {i}" for i in expected]
        assert [n.similarity for n in found] == pytest.approx(cosine[expected], abs=1e-4)


def test_a_training_row_finds_itself_first_with_its_topics():
    index = random_index()
    (found,) = index.nearest(index.vectors[8], k=2)
    assert found[0].headline == "headline 8"
    assert found[0].similarity == pytest.approx(1.0, abs=1e-4)
    assert found[0].topics == ["trade", "geopolitics"]  # primary first, as trained


def test_equal_similarities_keep_the_training_order():
    vectors = np.array([[1, 0], [0, 1], [1, 0], [1, 0]], dtype=np.float32)
    index = NeighbourIndex(vectors, ["a", "b", "c", "d"], [["trade"]] * 4)
    assert [n.headline for n in index.nearest(np.array([1.0, 0.0]), k=3)[0]] == ["a", "c", "d"]


def test_k_larger_than_the_index_gives_every_row():
    index = random_index(n=2)
    assert len(index.nearest(index.vectors, k=3)[0]) == 2


def test_headlines_beyond_ascii_round_trip_and_bytes_that_are_not_utf8_are_refused():
    index = NeighbourIndex(
        np.eye(3, 16), ["Café talks stall", "Zölle steigen 😀", "Plain"], [["trade"]] * 3
    )
    arrays = index.arrays(LABELS)
    back = NeighbourIndex.from_arrays(arrays, summary=index.summary(), labels=LABELS)
    assert back.headlines == index.headlines
    broken = {**arrays, "headlines": np.array([b"\xff\xfe", b"a", b"b"])}
    with pytest.raises(ValueError, match="not UTF-8"):
        NeighbourIndex.from_arrays(broken, summary=index.summary(), labels=LABELS)


def test_arrays_round_trip_in_float16_with_topic_order_kept():
    index = random_index()
    arrays = index.arrays(LABELS)
    assert arrays["embeddings"].dtype == np.float16
    assert arrays["headlines"].dtype.kind == "S"  # UTF-8 bytes
    back = NeighbourIndex.from_arrays(arrays, summary=index.summary(), labels=LABELS)
    assert back.headlines == index.headlines
    # an index saved before (headlines as numpy str) still loads
    old = {**arrays, "headlines": np.asarray(index.headlines, dtype=str)}
    assert NeighbourIndex.from_arrays(old, summary=index.summary(), labels=LABELS).headlines == (
        index.headlines
    )
    assert back.topics == index.topics
    assert (
        np.abs(back.vectors - index.vectors / np.linalg.norm(index.vectors, axis=1)[:, None]).max()
        < 2e-3
    )
    queries = np.random.default_rng(2).normal(size=(10, 16))
    a, b = index.nearest(queries), back.nearest(queries)
    assert [[n.headline for n in row] for row in a] == [[n.headline for n in row] for row in b]


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda a: a.pop("headlines"), "lacks"),
        (lambda a: a.update(embeddings=a["embeddings"][:-1]), "manifest records"),
        (lambda a: a.update(headlines=a["headlines"][:-1]), "headlines of shape"),
        (lambda a: a.update(topics=a["topics"][:, :2]), "topics of shape"),
        (lambda a: a["topics"].__setitem__((0, slice(None)), 0), "not ranked"),
        (lambda a: a["topics"].__setitem__((0, slice(None)), [1, 1, 0]), "not ranked"),
        (lambda a: a.update(headlines=np.arange(len(a["headlines"]))), "wrong kind"),
    ],
)
def test_arrays_that_do_not_match_the_manifest_are_refused(damage, message):
    index = random_index(n=10)
    arrays = index.arrays(LABELS)
    damage(arrays)
    with pytest.raises(ValueError, match=message):
        NeighbourIndex.from_arrays(arrays, summary=index.summary(), labels=LABELS)


def test_vectors_and_rows_must_agree():
    with pytest.raises(ValueError, match="one vector and one topic list per headline"):
        NeighbourIndex(np.zeros((3, 4)), ["a", "b"], [["trade"]] * 2)
    with pytest.raises(ValueError, match="not finite"):
        NeighbourIndex(np.full((1, 4), np.nan), ["a"], [["trade"]])
