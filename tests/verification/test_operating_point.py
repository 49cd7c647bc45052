"""pos_label, target_far and cross-fitted calibration (the operating point)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skvoice.metrics import threshold_at_far
from skvoice.verification import EnrollmentVerifier
from skvoice.verification._operating_point import crossfit_folds, far_cut, resolve_pos_label


def _embeddings(n_speakers=20, per=10, dim=16, noise=0.7, seed=0, prefix="s"):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_speakers, dim))
    E = np.repeat(centres, per, axis=0) + noise * rng.standard_normal((n_speakers * per, dim))
    spk = np.repeat([f"{prefix}{i:02d}" for i in range(n_speakers)], per)
    return E, spk


@pytest.mark.parametrize(
    "classes, expected",
    [([0, 1], 1), ([False, True], True), ([-1, 1], 1), ([0.0, 1.0], 1.0)],
)
def test_default_pos_label_is_one(classes, expected):
    assert resolve_pos_label(np.array(classes), None, "E") == expected


def test_other_labels_need_pos_label():
    with pytest.raises(ValueError, match="pos_label=<allowed label>"):
        resolve_pos_label(np.array(["allowed", "refused"]), None, "E")
    with pytest.raises(ValueError, match="pos_label=<allowed label>"):
        resolve_pos_label(np.array([1, 2]), None, "E")
    assert resolve_pos_label(np.array(["allowed", "refused"]), "allowed", "E") == "allowed"
    with pytest.raises(ValueError, match="not one of the labels"):
        resolve_pos_label(np.array(["allowed", "refused"]), "yes", "E")


def test_string_labels_no_longer_invert_enrolment():
    # Regression: with "allowed"/"refused" labels the class sorting last
    # ("refused") was enrolled, so every refused speaker got in.
    E, spk = _embeddings()
    y01 = np.isin(spk, ["s00", "s01", "s02"]).astype(int)
    names = np.where(y01 == 1, "allowed", "refused")
    with pytest.raises(ValueError, match="cannot tell which"):
        EnrollmentVerifier().fit(E, names, speakers=spk)
    ref = EnrollmentVerifier().fit(E, y01, speakers=spk)
    ver = EnrollmentVerifier(pos_label="allowed").fit(E, names, speakers=spk)
    assert sorted(ver.enrolled_) == ["s00", "s01", "s02"] == sorted(ref.enrolled_)
    # classes_ stay sorted (scikit-learn's convention): "allowed" is column 0.
    assert ver.classes_.tolist() == ["allowed", "refused"]
    np.testing.assert_allclose(ver.predict_proba(E)[:, 0], ref.predict_proba(E)[:, 1])
    np.testing.assert_allclose(ver.decision_function(E), -ref.decision_function(E))
    np.testing.assert_array_equal(ver.predict(E) == "allowed", ref.predict(E) == 1)


@settings(max_examples=200, deadline=None)
@given(
    scores=st.lists(st.integers(-5, 5), min_size=1, max_size=40),
    target=st.floats(0.01, 0.99),
)
def test_threshold_at_far_is_the_lowest_that_keeps_far(scores, target):
    # Integer scores make many ties: the rule must hold with them.
    imp = np.asarray(scores, dtype=float)
    y = np.r_[np.zeros(len(imp)), 1]
    t = threshold_at_far(y, np.r_[imp, 10.0], target)
    allowed_count = int(np.floor(target * len(imp) + 1e-9))
    assert np.sum(imp >= t) <= allowed_count
    # Any lower threshold at an impostor score lets more in than allowed.
    lower = imp[imp < t]
    if lower.size:
        assert np.sum(imp >= lower.max()) > allowed_count
    else:
        assert np.isneginf(t) or allowed_count >= len(imp) or np.sum(imp >= t) == len(imp)
    cut = far_cut(imp, target)
    assert np.sum(imp > cut) <= allowed_count


def test_threshold_at_far_hand_count():
    y = [0] * 10 + [1] * 3
    s = list(range(10)) + [20, 21, 22]
    assert threshold_at_far(y, s, 0.2) == np.nextafter(7.0, np.inf)  # 8, 9 pass
    assert threshold_at_far(y, s, 0.05) == np.nextafter(9.0, np.inf)  # nobody passes
    # 0.29 * 100 is 28.999999999999996 in floating point: still 29 impostors.
    y = [0] * 100 + [1]
    s = list(range(100)) + [1000]
    assert np.sum(np.arange(100) >= threshold_at_far(y, s, 0.29)) == 29
    with pytest.raises(ValueError, match="target_far"):
        threshold_at_far(y, s, 0.0)


def test_crossfit_folds_hold_out_whole_refused_speakers():
    rng = np.random.default_rng(0)
    spk = np.repeat([f"s{i}" for i in range(9)], 5)
    allowed = np.isin(spk, ["s0", "s1", "s2"])
    order = rng.permutation(len(spk))
    spk, allowed = spk[order], allowed[order]
    folds = crossfit_folds(allowed, spk, 3, seed=0)
    tests = np.concatenate([t for _, t in folds])
    np.testing.assert_array_equal(np.sort(tests), np.arange(len(spk)))  # a partition
    for train, test in folds:
        assert not set(spk[train]) & set(spk[test][~allowed[test]])  # never heard
        # Every allowed speaker is enrolled in every fold and tested in it too.
        assert set(spk[train][allowed[train]]) == {"s0", "s1", "s2"}
        assert set(spk[test][allowed[test]]) == {"s0", "s1", "s2"}
    again = crossfit_folds(allowed, spk, 3, seed=0)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))
    with pytest.raises(ValueError, match="at least 7 refused"):
        crossfit_folds(allowed, spk, 7, seed=0)
    mixed = allowed.copy()
    mixed[np.flatnonzero(spk == "s5")[0]] = True
    with pytest.raises(ValueError, match=r"\['s5'\]"):
        crossfit_folds(mixed, spk, 3, seed=0)


def test_verifier_target_far_holds_on_unseen_impostors():
    E, spk = _embeddings(n_speakers=30, per=10, seed=0)
    y = np.isin(spk, ["s00", "s01", "s02", "s03"]).astype(int)
    unseen, _ = _embeddings(n_speakers=60, per=5, seed=1)
    for target in (0.05, 0.1):
        ver = EnrollmentVerifier(target_far=target).fit(E, y, speakers=spk)
        # The threshold keeps the cross-fitted impostors' FAR at the target ...
        refused = y == 0
        a, b = ver.calibration_
        assert np.mean(a * ver.crossfit_scores_[refused] + b > ver.threshold_) <= target
        # ... and predict uses it.
        d = ver.decision_function(E)
        np.testing.assert_array_equal(ver.predict(E), (d > ver.threshold_).astype(int))
        realised = ver.predict(unseen).mean()
        assert realised <= 2 * target, (target, realised)


def test_crossfitted_calibration_is_not_the_training_one():
    E, spk = _embeddings(n_speakers=20, per=8, seed=2)
    y = np.isin(spk, ["s00", "s01", "s02"]).astype(int)
    plain = EnrollmentVerifier().fit(E, y, speakers=spk)
    crossed = EnrollmentVerifier(cv=4).fit(E, y, speakers=spk)
    assert plain.calibration_ is None and crossed.threshold_ == 0.0
    a, b = crossed.calibration_
    s = crossed.score_samples(E)
    np.testing.assert_allclose(crossed.predict_proba(E)[:, 1], 1 / (1 + np.exp(-(a * s + b))))
    # The training speakers are in the s-norm cohort: an impostor's score is
    # higher when its speaker is not, which the cross-fitted scores show.
    refused = y == 0
    assert crossed.crossfit_scores_[refused].mean() > plain.score_samples(E[refused]).mean()


def test_operating_point_errors():
    E, spk = _embeddings(n_speakers=6, per=4)
    y = np.isin(spk, ["s00"]).astype(int)
    with pytest.raises(ValueError, match="speaker of each recording"):
        EnrollmentVerifier(target_far=0.1).fit(E, y)
    with pytest.raises(ValueError, match="at least 6 refused"):
        EnrollmentVerifier(target_far=0.1, cv=6).fit(E, y, speakers=spk)
    with pytest.raises(ValueError, match="target_far"):
        EnrollmentVerifier(target_far=1.5).fit(E, y, speakers=spk)


def test_composes_with_sklearn_threshold_classifiers():
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import FixedThresholdClassifier, TunedThresholdClassifierCV

    E, spk = _embeddings(n_speakers=20, per=8, seed=3)
    y = np.isin(spk, ["s00", "s01", "s02"]).astype(int)
    ver = EnrollmentVerifier(cv=4).fit(E, y, speakers=spk)
    held, _ = _embeddings(n_speakers=30, per=4, seed=4)
    scores = np.r_[ver.decision_function(E[y == 1]), ver.decision_function(held)]
    labels = np.r_[np.ones((y == 1).sum()), np.zeros(len(held))]
    t = threshold_at_far(labels, scores, 0.05)
    gate = FixedThresholdClassifier(
        FrozenEstimator(ver), threshold=t, response_method="decision_function"
    ).fit(E, y)
    assert gate.predict(held).mean() <= 0.05
    tuned = TunedThresholdClassifierCV(EnrollmentVerifier(), cv=3, random_state=0).fit(E, y)
    assert set(tuned.predict(held)) <= {0, 1}
