"""The quick retrain: final weights refitted from the current model's, its calibration carried
over, chosen only where that is sound, and close to what a full retrain gives."""

from __future__ import annotations

import numpy as np
import pytest

from classifier.topics.applies import AppliesHead
from classifier.topics.corrections import gather
from classifier.topics.features import LexicalFeatures
from classifier.topics.gate import PromotionGate
from classifier.topics.head import TopicHead
from classifier.topics.quick import quick_refusal
from classifier.topics.store import ModelStore
from classifier.topics.training import train_from_file
from tests.support import FakeEmbedder, load_project_data, write_csv


def _blobs(n=300, classes=3, seed=0, shift=0.0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, 8)) * 2
    y = rng.integers(classes, size=n)
    return centres[y] + rng.normal(size=(n, 8)) + shift, y


@pytest.mark.parametrize("classes", [2, 3])
def test_a_refit_on_the_same_rows_keeps_the_weights_and_the_calibration(classes):
    X, y = _blobs(classes=classes)
    full = TopicHead(calibration_folds=3).fit(X, y)
    quick = TopicHead(calibration_folds=3).refit(
        X, y, calibration=full, init=(full.coef_, full.intercept_)
    )
    np.testing.assert_allclose(quick.coef_, full.coef_, atol=1e-3)
    np.testing.assert_allclose(quick.intercept_, full.intercept_, atol=1e-3)
    assert quick.temperature_ == full.temperature_
    np.testing.assert_array_equal(quick.thresholds_, full.thresholds_)
    assert quick.cv_ == "carried over" and quick.oof_proba_ is None
    assert int(np.max(quick.n_iter_)) < int(np.max(full.n_iter_))


def test_a_refit_on_new_rows_reaches_the_full_fits_weights():
    X, y = _blobs(seed=1)
    more_X, more_y = _blobs(n=60, seed=2)
    start = TopicHead(calibration_folds=3).fit(X, y)
    X2, y2 = np.vstack([X, more_X]), np.concatenate([y, more_y])
    fresh = TopicHead(calibration_folds=3).fit(X2, y2)
    quick = TopicHead(calibration_folds=3).refit(
        X2, y2, calibration=start, init=(start.coef_, start.intercept_)
    )
    # lbfgs stops within its tolerance of a flat optimum: compare answers, not weights
    quick.temperature_, quick.thresholds_ = fresh.temperature_, fresh.thresholds_
    assert np.abs(quick.predict_proba(X2) - fresh.predict_proba(X2)).max() < 0.02
    assert (quick.predict(X2) == fresh.predict(X2)).all()


def test_a_refit_with_other_classes_is_refused():
    X, y = _blobs()
    start = TopicHead(calibration_folds=3).fit(X, y)
    with pytest.raises(ValueError, match="refit needs the classes"):
        TopicHead().refit(
            X, np.where(y == 2, 3, y), calibration=start, init=(start.coef_, start.intercept_)
        )


def test_the_applies_refit_keeps_platt_and_thresholds_and_reaches_a_fresh_fit():
    X, y = _blobs(seed=3)
    Y = np.column_stack([y == k for k in range(3)])
    start = AppliesHead(calibration_folds=3).fit(X[:250], Y[:250])
    fresh = AppliesHead(calibration_folds=3).fit(X, Y)
    quick = AppliesHead().refit(X, Y, calibration=start, init=(start.coef_, start.intercept_))
    np.testing.assert_array_equal(quick.platt_, start.platt_)
    np.testing.assert_array_equal(quick.thresholds_, start.thresholds_)
    quick.platt_ = fresh.platt_
    assert np.abs(quick.predict_proba(X) - fresh.predict_proba(X)).max() < 0.02
    with pytest.raises(ValueError, match="Y must be"):
        AppliesHead().refit(X, Y[:, :2], calibration=start, init=(start.coef_, start.intercept_))


def test_carry_moves_shared_terms_and_starts_new_ones_at_zero():
    old = LexicalFeatures().fit(["tariffs rise", "flu spreads"])
    new = LexicalFeatures().fit(["flu spreads", "border closes"])
    dense = 2
    coef = np.arange(2 * (dense + old.size), dtype=float).reshape(2, -1) + 1
    carried = new.carry(coef, old, dense)
    assert carried.shape == (2, dense + new.size)
    np.testing.assert_array_equal(carried[:, :dense], coef[:, :dense])
    before, after = old.vectorizer.vocabulary_, new.vectorizer.vocabulary_
    for term, column in after.items():
        expected = coef[:, dense + before[term]] if term in before else 0.0
        np.testing.assert_array_equal(carried[:, dense + column], expected)
    with pytest.raises(ValueError, match="weights for"):
        new.carry(coef[:, :-1], old, dense)


GOOD = {
    "version": "v1",
    "metrics": {"macro_f1": 0.7},
    "applies_thresholds": {},
    "embedding": {"fingerprint": FakeEmbedder().info().fingerprint},
    "data": {"source_sha256": "abc"},
    "labels": ["health", "trade"],
    "head_params": {"C": 16.0, "class_weight": "balanced"},
}
CONDITIONS = {
    "source_sha256": "abc",
    "labels": ["trade", "health", "trade"],
    "params": {"C": 16.0, "class_weight": "balanced", "priors": {"trade": 0.4}},
    "new_topics": 0,
    "corrected": 10,
    "rows": 100,
}


@pytest.mark.parametrize(
    ("manifest", "conditions", "why"),
    [
        ({"metrics": {"method": "none"}}, {}, "not calibrated by cross-validation"),
        ({"zero_shot": {"climate": {}}}, {}, "zero-shot topics"),
        ({}, {"new_topics": 1}, "zero-shot topics"),
        ({"embedding": {"fingerprint": "other"}}, {}, "another encoder"),
        ({}, {"source_sha256": "def"}, "another file"),
        ({}, {"source_sha256": None}, "another file"),
        ({}, {"labels": ["trade", "health", "climate"]}, "topics differ"),
        ({}, {"params": {"C": 4.0, "class_weight": "balanced"}}, "C or the class weights"),
        ({}, {"corrected": 11}, "11 corrections are over 10% of the 100 rows"),
        ({}, {"corrected": 0}, "there are no corrections"),
    ],
)
def test_a_quick_retrain_is_refused_where_it_would_not_be_sound(manifest, conditions, why):
    assert quick_refusal(GOOD, FakeEmbedder(), **CONDITIONS) is None  # other priors are fine
    refusal = quick_refusal({**GOOD, **manifest}, FakeEmbedder(), **{**CONDITIONS, **conditions})
    assert refusal is not None and why in refusal


@pytest.mark.slow
def test_auto_retrains_quickly_after_corrections_and_in_full_after_the_file_changes(tmp_path):
    rows = load_project_data()[::8]
    base = write_csv(tmp_path / "base.csv", [(r["headline"], r["topic"]) for r in rows])
    wrong = [(r["headline"], "other" if r["topic"] != "other" else "trade") for r in rows[:12]]
    fix = write_csv(tmp_path / "fix.csv", wrong)
    store = ModelStore(tmp_path / "models")
    encoder = FakeEmbedder()
    held_out = write_csv(
        tmp_path / "eval.csv", [(r["headline"], r["topic"]) for r in load_project_data()[3::40]]
    )
    common = {"gate": PromotionGate(eval_file=held_out), "promote": "always"}
    first, _ = train_from_file(str(base), store, encoder, fit="auto", **common)
    assert first.manifest["fit"] == {
        "mode": "full",
        "reason": "there is no current model to start from",
    }
    options = {"corrections": gather(files=[str(fix)]), **common}
    second, _ = train_from_file(str(base), store, encoder, fit="auto", **options)
    fit = second.manifest["fit"]
    assert fit["mode"] == "quick" and fit["from"] == first.version
    assert fit["calibrated_by"] == first.version
    assert second.manifest["temperature"] == first.manifest["temperature"]
    assert second.manifest["metrics"]["macro_f1"] == first.manifest["metrics"]["macro_f1"]
    assert "carried over from " + first.version in second.manifest["metrics"]["method"]
    assert second.manifest["corrections"]["rows"] == 12
    third, _ = train_from_file(str(base), store, encoder, fit="quick", **options)
    assert third.manifest["fit"]["from"] == second.version
    assert third.manifest["fit"]["calibrated_by"] == first.version
    # the quick model answers as a full retrain on the same rows does, nearly everywhere
    full, _ = train_from_file(
        str(base),
        store,
        encoder,
        fit="full",
        promote="never",
        corrections=options["corrections"],
        gate=common["gate"],
    )
    assert full.manifest["fit"] == {"mode": "full", "reason": "--fit full"}
    texts = [r["headline"] for r in load_project_data()[1::8]]
    quick_answers = [p.topic for p in store.load(third.version, embedder=encoder).predict(texts)]
    full_answers = [p.topic for p in store.load(full.version, embedder=encoder).predict(texts)]
    assert np.mean(np.asarray(quick_answers) == np.asarray(full_answers)) > 0.95
    # the corrections were learnt: the corrected headlines now get the corrected topic mostly
    corrected = store.load(third.version, embedder=encoder).predict([t for t, _ in wrong])
    assert np.mean([c.topic == t for c, (_, t) in zip(corrected, wrong, strict=True)]) > 0.5
    edited = write_csv(tmp_path / "base.csv", [(r["headline"], r["topic"]) for r in rows[1:]])
    with pytest.raises(ValueError, match="--fit quick is not possible: .* another file"):
        train_from_file(str(edited), store, encoder, fit="quick", **options)
    again, _ = train_from_file(str(edited), store, encoder, fit="auto", **options)
    assert again.manifest["fit"]["mode"] == "full"
    assert "another file" in again.manifest["fit"]["reason"]


def test_an_unknown_fit_mode_is_refused_before_any_work(tmp_path):
    base = write_csv(tmp_path / "base.csv", [("Tariffs rise", "trade"), ("Flu spreads", "health")])
    store = ModelStore(tmp_path / "models")
    with pytest.raises(
        ValueError, match=r"fit must be one of \['auto', 'full', 'quick'\], not 'quik'"
    ):
        train_from_file(str(base), store, FakeEmbedder(), fit="quik")
    assert store.versions() == []
