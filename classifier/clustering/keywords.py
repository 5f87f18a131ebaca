"""Name clusters of headlines with class-based TF-IDF keywords.

A cluster's name should be the words its headlines share and other clusters do not. c-TF-IDF
(as in BERTopic) treats each cluster as one document: term frequency within the cluster, times
``log(1 + A / f_t)`` where ``A`` is the average number of words per cluster and ``f_t`` how often
the term occurs across all clusters. Headlines carry wire-service tags ("(AP)", "(Reuters)"), HTML
debris ("#39;s", "&lt;b&gt;") and stock words ("says", "update"); those are removed first so a
cluster is never named "reuters says".
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

MIN_KEYWORDS = 3
MAX_KEYWORDS = 8
# Beyond the first MIN_KEYWORDS, a keyword must score at least this share of the best one.
RELATIVE_CUTOFF = 0.3

_BOILERPLATE_WORDS = """
    ap afp reuters upi ians pti cnn bbc nyt wsj dpa xinhua bloomberg cnbc
    says say said saying update updates updated report reports reported reporting
    breaking exclusive live video videos photo photos watch read listen podcast opinion
    editorial analysis column review news newswire headline headlines wire
    quot amp lt gt nbsp href http https www com html
    vs via amid just latest today yesterday tomorrow week weekend
    mr mrs ms dr st inc ltd corp co plc
"""
NEWS_BOILERPLATE = frozenset(_BOILERPLATE_WORDS.split())
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | NEWS_BOILERPLATE
# Too common in headlines to name anything alone, but fine inside a phrase ("new york").
PHRASE_ONLY_WORDS = frozenset({"new", "top", "big", "high", "record", "plan", "set"})

_HTML_ENTITY_DEBRIS = re.compile(r"&?#\d+;")  # AG-style "#39;s" where the ampersand was lost
_HTML_TAG = re.compile(r"<[^>]{0,200}>")
_SOURCE_TAG = re.compile(r"\(\s*[\w.\- ]{1,30}\)\s*$")  # trailing "(AP)", "(SPACE.com)"
_CLAUSE_BREAK = re.compile(r"[:;,!?|()\[\]\"“”]+|(?<![^\W\d_]\.[^\W\d_])\.(?=\s|$)|\s[-–—]+\s")
_TOKEN = re.compile(r"(?:[^\W\d_]\.){2,}|[^\W\d_][\w'’\-]*[^\W_]|[^\W\d_]", re.UNICODE)


def clean_headline(text: str) -> str:
    """Headline text without HTML entities/tags, wire-service tags and dangling possessives."""
    text = _HTML_ENTITY_DEBRIS.sub("'", text)
    text = html.unescape(html.unescape(text))
    text = _HTML_TAG.sub(" ", text)
    text = _SOURCE_TAG.sub(" ", text)
    return text


def _words(segment: str) -> list[str]:
    words = []
    for raw in _TOKEN.findall(segment):
        word = re.sub(r"['’](s)?$", "", raw).strip("-'’")
        if len(word) >= 2:
            words.append(word)
    return words


def tokenize(text: str) -> list[str]:
    """Lower-case words of at least two letters, possessives dropped, digits-only tokens ignored."""
    return [w for segment in _segments(text) for w in segment]


def _segments(text: str) -> list[list[str]]:
    """Words of each clause; phrases never span punctuation ("Tigers: Win" is two clauses)."""
    return [_words(part) for part in _CLAUSE_BREAK.split(clean_headline(text).lower())]


def plural_folding(texts: Sequence[str]) -> dict[str, str]:
    """Map word variants that differ by a plural ending ("haitians", "haitian") to one form.

    Only pairs that both occur in these headlines are folded, onto the more frequent form (the
    shorter on a tie), so the counts of one idea are not split across two spellings.
    """
    counts = Counter(w for text in texts for w in tokenize(text))
    folding: dict[str, str] = {}
    for word in sorted(counts):
        for ending in ("s", "es"):
            base = word[: -len(ending)]
            if (
                word.endswith(ending)
                and len(base) >= 3
                and base in counts
                and not {base, word} & (STOP_WORDS | PHRASE_ONLY_WORDS)
            ):
                keep = max((base, word), key=lambda w: (counts[w], -len(w)))
                folding[word if keep == base else base] = keep
                break
    return folding


def headline_terms(text: str, folding: dict[str, str] | None = None) -> list[str]:
    """Unigrams and bigrams of neighbouring content words ("supreme court", "trade war")."""
    unigrams: list[str] = []
    bigrams: list[str] = []
    for words in _segments(text):
        if folding:
            words = [folding.get(w, w) for w in words]
        keep = [w not in STOP_WORDS for w in words]
        unigrams += [
            w for w, k in zip(words, keep, strict=True) if k and w not in PHRASE_ONLY_WORDS
        ]
        bigrams += [
            f"{words[i]} {words[i + 1]}"
            for i in range(len(words) - 1)
            if keep[i] and keep[i + 1] and words[i] != words[i + 1]
        ]
    return unigrams + bigrams


def class_tfidf(
    texts: Sequence[str], labels: Sequence[int] | np.ndarray
) -> tuple[np.ndarray, sparse.csr_matrix, sparse.csr_matrix, list[str]]:
    """c-TF-IDF scores ``(classes, scores, doc_counts, vocabulary)``, one row per label.

    Every label takes part, including -1 (unclustered), so that words common across the whole
    collection are damped everywhere; callers simply do not name the -1 row.
    """
    labels = np.asarray(labels)
    folding = plural_folding(texts)
    vectorizer = CountVectorizer(analyzer=lambda t: headline_terms(t, folding), binary=True)
    counts = vectorizer.fit_transform(list(texts)).tocsr()
    vocabulary = list(vectorizer.get_feature_names_out())
    classes, inverse = np.unique(labels, return_inverse=True)
    membership = sparse.csr_matrix(
        (np.ones(len(labels)), (inverse, np.arange(len(labels)))),
        shape=(len(classes), len(labels)),
    )
    doc_counts = (membership @ counts).tocsr()  # headlines of class c containing term t
    totals = np.asarray(doc_counts.sum(axis=1)).ravel()
    tf = sparse.diags(1.0 / np.maximum(totals, 1)) @ doc_counts
    frequency = np.asarray(doc_counts.sum(axis=0)).ravel()
    average_words = totals.mean() if len(totals) else 0.0
    idf = np.log1p(average_words / np.maximum(frequency, 1))
    scores = (tf @ sparse.diags(idf)).tocsr()
    return classes, scores, doc_counts, vocabulary


def pick_keywords(
    terms: Sequence[str],
    scores: Sequence[float],
    doc_counts: Sequence[int],
    *,
    size: int,
    min_keywords: int = MIN_KEYWORDS,
    max_keywords: int = MAX_KEYWORDS,
    relative_cutoff: float = RELATIVE_CUTOFF,
) -> list[str]:
    """Best-scoring terms, preferring those shared by two or more headlines, without repeats.

    A bigram replaces a unigram it contains ("court" -> "supreme court"), and a term whose words
    are all already shown is skipped, so eight keywords carry eight pieces of information.
    """
    order = sorted(range(len(terms)), key=lambda i: (-scores[i], terms[i]))
    shared = min(2, size)
    ranked = [i for i in order if doc_counts[i] >= shared] + [
        i for i in order if doc_counts[i] < shared
    ]
    chosen: list[str] = []
    best = None
    for i in ranked:
        term, score = terms[i], scores[i]
        if score <= 0:
            continue
        if best is None:
            best = score
        if len(chosen) >= min_keywords and (
            score < relative_cutoff * best or doc_counts[i] < shared
        ):
            break
        words = term.split()
        shown = {w for c in chosen for w in c.split()}
        if all(w in shown for w in words):
            continue
        replaced = False
        if len(words) > 1:
            for j, existing in enumerate(chosen):
                if " " not in existing and existing in words:
                    chosen[j] = term
                    replaced = True
                    break
        if not replaced:
            chosen.append(term)
        if len(chosen) >= max_keywords:
            break
    return chosen


def cluster_keywords(
    texts: Sequence[str],
    labels: Sequence[int] | np.ndarray,
    *,
    min_keywords: int = MIN_KEYWORDS,
    max_keywords: int = MAX_KEYWORDS,
) -> dict[int, list[str]]:
    """3-8 keywords for every cluster id >= 0 (fewer only if its headlines have fewer words)."""
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} headlines but {len(labels)} cluster labels")
    labels = np.asarray(labels)
    if not len(texts) or not (labels >= 0).any():
        return {}
    try:
        classes, scores, doc_counts, vocabulary = class_tfidf(texts, labels)
    except ValueError:  # no headline has a single content word
        return {int(c): [] for c in np.unique(labels[labels >= 0])}
    sizes = dict(zip(*np.unique(labels, return_counts=True), strict=True))
    out: dict[int, list[str]] = {}
    for row, label in enumerate(classes):
        if label < 0:
            continue
        start, end = scores.indptr[row], scores.indptr[row + 1]
        columns = scores.indices[start:end]
        row_counts = np.asarray(doc_counts[row, columns].todense()).ravel()
        out[int(label)] = pick_keywords(
            [vocabulary[c] for c in columns],
            scores.data[start:end].tolist(),
            row_counts.tolist(),
            size=int(sizes[label]),
            min_keywords=min_keywords,
            max_keywords=max_keywords,
        )
    return out
