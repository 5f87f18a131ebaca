"""Naming clusters: c-TF-IDF keywords without boilerplate, plural folding, headline cleaning."""

from __future__ import annotations

from classifier.clustering.keywords import clean_headline, cluster_keywords, headline_terms
from tests.clustering.synthetic import story_headlines


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
    # "hits coast" is left out: both its words are already shown
    assert keywords == {
        0: ["coast", "storm hits"],
        1: ["delays flights", "storm delays"],
        2: ["ahead", "markets storm"],
    }
    assert all(terms[0] != "storm" for terms in keywords.values())  # the shared word never leads


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
