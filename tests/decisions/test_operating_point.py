"""pos_label, target_far and cross-fitted calibration (the operating point)."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skvoice._labels import resolve_pos_label
from skvoice.decisions import crossfit_folds
from skvoice.metrics import threshold_at_far
from skvoice.metrics._verification import far_cut
from skvoice.verification import EnrollmentVerifier, UnreachableFARWarning


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
        EnrollmentVerifier().fit(E, names, groups=spk)
    ref = EnrollmentVerifier().fit(E, y01, groups=spk)
    ver = EnrollmentVerifier(pos_label="allowed").fit(E, names, groups=spk)
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnreachableFARWarning)
        t = threshold_at_far(y, np.r_[imp, 10.0], target)
    allowed_count = int(np.floor(target * len(imp) + 1e-9))
    assert np.sum(imp >= t) <= allowed_count
    # Any lower threshold at an impostor score lets more in than allowed.
    lower = imp[imp < t]
    if lower.size:
        assert np.sum(imp >= lower.max()) > allowed_count
    else:
        # No impostor below t, so all of them pass: only a target that lets them all
        # in allows that, and then the threshold is -inf, as documented.
        assert allowed_count >= len(imp) and np.isneginf(t)
    # And the converse: whenever all may pass, nothing is refused.
    if allowed_count >= len(imp):
        assert np.isneginf(t)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cut = far_cut(imp, target)
    assert np.sum(imp > cut) <= allowed_count
    # Warned exactly when no impostor may pass: the target is finer than 1 / n.
    assert bool(caught) == (allowed_count == 0)


def test_threshold_at_far_hand_count():
    y = [0] * 10 + [1] * 3
    s = list(range(10)) + [20, 21, 22]
    assert threshold_at_far(y, s, 0.2) == np.nextafter(7.0, np.inf)  # 8, 9 pass
    with pytest.warns(UnreachableFARWarning, match="10 impostor"):
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
        ver = EnrollmentVerifier(target_far=target).fit(E, y, groups=spk)
        # The threshold keeps the cross-fitted impostors' FAR at the target ...
        refused = y == 0
        a, b = ver.calibration_
        assert np.mean(a * ver.crossfit_scores_[refused] + b > ver.threshold_) <= target
        # ... and predict uses it.
        d = ver.decision_function(E)
        np.testing.assert_array_equal(ver.predict(E), (d > ver.threshold_).astype(int))
        realised = ver.predict(unseen).mean()
        assert realised <= 2 * target, (target, realised)
        # What to expect, counted by hand on the scores the threshold saw.
        lo = a * ver.crossfit_scores_ + b
        rates = ver.expected_rates_
        assert rates["far"] == np.mean(lo[refused] > ver.threshold_) <= target
        assert rates["frr"] == np.mean(lo[~refused] <= ver.threshold_)
        assert rates["impostor_recordings"] == refused.sum()
        assert rates["impostor_speakers"] == 26 and rates["allowed_recordings"] == 40


def test_crossfitted_calibration_is_not_the_training_one():
    E, spk = _embeddings(n_speakers=20, per=8, seed=2)
    y = np.isin(spk, ["s00", "s01", "s02"]).astype(int)
    plain = EnrollmentVerifier().fit(E, y, groups=spk)
    crossed = EnrollmentVerifier(cv=4).fit(E, y, groups=spk)
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
        EnrollmentVerifier(target_far=0.1, cv=6).fit(E, y, groups=spk)
    with pytest.raises(ValueError, match="target_far"):
        EnrollmentVerifier(target_far=1.5).fit(E, y, groups=spk)


def test_composes_with_sklearn_threshold_classifiers():
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import FixedThresholdClassifier, TunedThresholdClassifierCV

    E, spk = _embeddings(n_speakers=20, per=8, seed=3)
    y = np.isin(spk, ["s00", "s01", "s02"]).astype(int)
    ver = EnrollmentVerifier(cv=4).fit(E, y, groups=spk)
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


def _tiny_specs(n_speakers=8, per=4, seed=0):
    """Spectrogram-like inputs: each speaker a spectral shape, plus noise."""
    rng = np.random.default_rng(seed)
    shapes = rng.standard_normal((n_speakers, 12, 1)).astype(np.float32)
    X = [
        shapes[k] + 0.5 * rng.standard_normal((12, 24)).astype(np.float32)
        for k in range(n_speakers)
        for _ in range(per)
    ]
    spk = np.repeat([f"s{k}" for k in range(n_speakers)], per)
    return X, spk


def _tiny_cnn(**kw):
    from skvoice.neural_network import CNNClassifier

    return CNNClassifier(
        module__n_filters=4,
        module__n_blocks=1,
        module__embedding_dim=8,
        crop_frames=8,
        max_epochs=3,
        random_state=0,
        **kw,
    )


def test_cnn_string_labels_enrol_the_pos_label(tmp_path):
    X, spk = _tiny_specs()
    y01 = np.isin(spk, ["s0", "s1"]).astype(int)
    names = np.where(y01 == 1, "allowed", "refused")
    # Cosine scoring enrols a class: it must be named.
    with pytest.raises(ValueError, match="cannot tell which"):
        _tiny_cnn().fit(X, names, groups=spk)
    ref = _tiny_cnn().fit(X, y01, groups=spk)
    net = _tiny_cnn(pos_label="allowed").fit(X, names, groups=spk)
    assert net.backend_ == "cosine"
    assert sorted(net.verifier_.enrolled_) == ["s0", "s1"] == sorted(ref.verifier_.enrolled_)
    np.testing.assert_allclose(net.predict_proba(X)[:, 0], ref.predict_proba(X)[:, 1])
    np.testing.assert_array_equal(net.predict(X) == "allowed", ref.predict(X) == 1)
    # Regression: the posterior scoring took classes_[1] ("refused") as allowed,
    # and `skvoice verify` let the refused speakers in. Nothing is guessed now:
    # a plain classifier, whose predict returns its labels.
    binary = _tiny_cnn(objective="binary").fit(X, names)
    assert binary.pos_label_ is None
    logp = binary.predict_log_proba(X)
    np.testing.assert_array_equal(binary.predict(X), binary.classes_[np.argmax(logp, axis=1)])
    np.testing.assert_allclose(binary.decision_function(X), logp[:, 1] - logp[:, 0])
    named = _tiny_cnn(objective="binary", pos_label="allowed").fit(X, names)
    assert named.pos_label_ == "allowed"
    # Deciding (a target FAR, cross-fitting) without it is an error.
    with pytest.raises(ValueError, match="cannot tell which"):
        _tiny_cnn(objective="binary", target_far=0.1).fit(X, names, groups=spk)


def test_unreachable_target_far_warns_with_the_count_it_needs():
    with pytest.warns(UnreachableFARWarning, match="needs at least 20") as record:
        far_cut(np.arange(12.0), 0.05)
    # The caller's line (mutation testing puts its trampoline between caller and library).
    assert record[0].filename == __file__ or "mutmut" in record[0].filename
    with pytest.warns(UnreachableFARWarning, match="needs at least 1000"):
        threshold_at_far([0] * 50 + [1], list(range(51)), 0.001)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        far_cut(np.arange(20.0), 0.05)  # 20 impostors reach 5 %: no warning
    # The estimators choosing a threshold say it too.
    E, spk = _embeddings(n_speakers=8, per=2, seed=3)
    y = np.isin(spk, ["s00", "s01"]).astype(int)  # 12 impostor recordings
    with pytest.warns(UnreachableFARWarning, match="12 impostor"):
        EnrollmentVerifier(target_far=0.05, cv=3).fit(E, y, groups=spk)


@pytest.mark.parametrize("wrapper", ["mc", "ensemble"])
def test_wrappers_and_their_network_share_one_pos_label(wrapper):
    from skvoice.uncertainty import DeepEnsembleClassifier, MCDropoutClassifier

    X, spk = _tiny_specs(n_speakers=6, per=4)
    y = np.isin(spk, ["s0", "s1"]).astype(int)
    refused_allowed = 1 - y  # label 0 is the allowed one

    def wrap(net, **kw):
        if wrapper == "mc":
            return MCDropoutClassifier(net, n_passes=2, random_state=0, **kw)
        return DeepEnsembleClassifier(net, n_estimators=2, bootstrap=False, random_state=0, **kw)

    def networks(w):
        return [w.estimator_] if wrapper == "mc" else w.estimators_

    # Regression: the wrapper reported pos_label_ = 1 while its network enrolled 0.
    w = wrap(_tiny_cnn(pos_label=0)).fit(X, refused_allowed, groups=spk)
    assert w.pos_label_ == 0 and all(n.pos_label_ == 0 for n in networks(w))
    # Set on the wrapper, it reaches the network.
    w = wrap(_tiny_cnn(), pos_label=0).fit(X, refused_allowed, groups=spk)
    assert w.pos_label_ == 0 and all(n.pos_label_ == 0 for n in networks(w))
    assert all(sorted(n.verifier_.enrolled_) == ["s0", "s1"] for n in networks(w))
    # Two different answers are an error.
    with pytest.raises(ValueError, match="the allowed label must be one"):
        wrap(_tiny_cnn(pos_label=1), pos_label=0).fit(X, refused_allowed, groups=spk)


def test_cnn_target_far_threshold_is_used_and_saved(tmp_path):
    from sklearn.pipeline import Pipeline

    from skvoice import load_model, save_model

    X, spk = _tiny_specs(n_speakers=8, per=5)
    y = np.isin(spk, ["s0", "s1"]).astype(int)
    net = _tiny_cnn(target_far=0.1, cv=3).fit(X, y, groups=spk)
    assert net.crossfit_scores_.shape == (len(X),) and np.all(np.isfinite(net.crossfit_scores_))
    refused = y == 0
    a, b = net.calibration_
    assert a > 0
    oof = a * net.crossfit_scores_[refused] + b
    assert np.mean(oof > net.threshold_) <= 0.1
    # The lowest threshold that does so: one impostor more would pass below it.
    assert np.mean(oof >= net.threshold_) > 0.1 or net.threshold_ == oof.min()
    d = net.decision_function(X)
    np.testing.assert_array_equal(net.predict(X), (d > net.threshold_).astype(int))
    np.testing.assert_allclose(net.predict_proba(X)[:, 1], 1 / (1 + np.exp(-d)))
    loaded = load_model(save_model(Pipeline([("cnnclassifier", net)]), tmp_path / "m.skvoice"))
    assert loaded[-1].threshold_ == net.threshold_
    assert loaded[-1].calibration_ == net.calibration_
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    with pytest.raises(ValueError, match="speaker of each recording"):
        _tiny_cnn(target_far=0.1).fit(X, y)


def test_wrappers_take_a_target_far():
    from sklearn.linear_model import LogisticRegression

    from skvoice.uncertainty import DeepEnsembleClassifier

    E, spk = _embeddings(n_speakers=20, per=8, seed=5)
    y = np.isin(spk, ["s00", "s01", "s02", "s03"]).astype(int)
    ens = DeepEnsembleClassifier(
        LogisticRegression(class_weight="balanced", max_iter=2000),
        n_estimators=2,
        target_far=0.1,
        cv=4,
        random_state=0,
    ).fit(E, y, groups=spk)
    refused = y == 0
    a, b = ens.calibration_
    assert np.mean(a * ens.crossfit_scores_[refused] + b > ens.threshold_) <= 0.1
    proba, unc = ens.predict_proba(E, return_uncertainty=True)
    z = np.log(proba[:, 1]) - np.log(proba[:, 0])
    np.testing.assert_array_equal(ens.predict(E), (z > ens.threshold_).astype(int))
    assert unc.total.shape == (len(E),)
    with pytest.raises(ValueError, match="speaker of each recording"):
        DeepEnsembleClassifier(LogisticRegression(), n_estimators=2, target_far=0.1).fit(E, y)


@pytest.mark.slow
def test_mc_dropout_takes_a_target_far():
    from skvoice.uncertainty import MCDropoutClassifier

    X, spk = _tiny_specs(n_speakers=6, per=4)
    y = np.isin(spk, ["s0", "s1"]).astype(int)
    mc = MCDropoutClassifier(
        _tiny_cnn(objective="binary"), n_passes=4, target_far=0.2, cv=2, random_state=0
    ).fit(X, y, groups=spk)
    assert mc.calibration_ is not None and np.isfinite(mc.threshold_)
    proba = mc.predict_proba(X)
    z = np.log(proba[:, 1]) - np.log(proba[:, 0])
    np.testing.assert_array_equal(mc.predict(X), (z > mc.threshold_).astype(int))


@pytest.mark.filterwarnings("ignore:The groups parameter is ignored")
def test_cv_takes_any_splitter():
    """cv accepts a splitter or (train, test) pairs, as scikit-learn's meta-estimators do."""
    from sklearn.model_selection import GroupKFold, ShuffleSplit

    from skvoice.model_selection import OpenSetGroupKFold

    rng = np.random.default_rng(0)
    speakers = np.repeat([f"s{i}" for i in range(8)], 6)
    y = np.isin(speakers, ["s0", "s1"]).astype(int)
    centres = rng.normal(size=(8, 5))
    E = centres[np.repeat(np.arange(8), 6)] + 0.3 * rng.normal(size=(48, 5))
    by_int = EnrollmentVerifier(cv=3).fit(E, y, groups=speakers)
    by_splitter = EnrollmentVerifier(cv=OpenSetGroupKFold(3)).fit(E, y, groups=speakers)
    folds = list(OpenSetGroupKFold(3).split(E, y, speakers))
    by_list = EnrollmentVerifier(cv=folds).fit(E, y, groups=speakers)
    np.testing.assert_array_equal(by_splitter.crossfit_scores_, by_list.crossfit_scores_)
    assert np.isfinite(by_int.crossfit_scores_).all()
    assert np.isfinite(by_splitter.crossfit_scores_).all()
    # GroupKFold holds every speaker out whole: allowed voices never enrolled.
    assert np.isfinite(
        EnrollmentVerifier(cv=GroupKFold(4)).fit(E, y, groups=speakers).crossfit_scores_
    ).all()
    with pytest.raises(ValueError, match="out of every test fold"):
        EnrollmentVerifier(cv=ShuffleSplit(2, test_size=0.2, random_state=0)).fit(
            E, y, groups=speakers
        )


def test_bounded_far_cut_by_hand_and_against_the_plain_cut():
    from skvoice.decisions._operating_point import bounded_far_cut
    from skvoice.metrics._verification import far_cut

    rng = np.random.default_rng(0)
    speakers = np.repeat(np.arange(40), 10)
    # Speaker effects: impostors are not independent recordings.
    scores = rng.normal(size=40)[speakers] + 0.3 * rng.normal(size=400)
    plain = far_cut(scores, 0.05)
    bounded = bounded_far_cut(scores, speakers, 0.05, 0.9, seed=0)
    assert bounded >= plain  # a bound costs acceptances, never adds them
    assert np.mean(scores > bounded) < 0.05
    # The bound holds on the resamples, by brute force at the chosen cut...
    rng = np.random.default_rng(1)
    fars = []
    for _ in range(500):
        pick = rng.choice(40, 40)
        s = np.concatenate([scores[speakers == k] for k in pick])
        fars.append(np.mean(s > bounded))
    assert np.quantile(fars, 0.9) <= 0.05 + 0.02
    # ...and one speaker alone, all above the rest: the bound cannot leave them in.
    one = np.r_[np.zeros(95), np.full(5, 10.0)]
    who = np.r_[np.repeat(np.arange(19), 5), np.full(5, 99)]
    assert bounded_far_cut(one, who, 0.05, 0.9) == 10.0
    assert far_cut(one, 0.05) == 0.0  # the plain cut lets all five in (5 %)


def test_cohort_joins_the_impostors_of_the_threshold():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(30, 8))
    spk = np.repeat(np.arange(30), 6)
    E = centres[spk] + 0.4 * rng.normal(size=(180, 8))
    y = (spk < 3).astype(int)
    train = spk < 10  # 3 allowed, 7 refused
    cohort = (E[spk >= 10], spk[spk >= 10])
    plain = EnrollmentVerifier(target_far=0.05, cv=3).fit(E[train], y[train], groups=spk[train])
    with_cohort = EnrollmentVerifier(target_far=0.05, cv=3, cohort=cohort).fit(
        E[train], y[train], groups=spk[train]
    )
    assert with_cohort.cohort_scores_.shape == (120,)
    # The threshold lets at most 5 % of all those impostors in.
    a, b = with_cohort.calibration_
    impostors = np.r_[with_cohort.crossfit_scores_[y[train] == 0], with_cohort.cohort_scores_]
    assert np.mean(a * impostors + b > with_cohort.threshold_) <= 0.05
    assert plain.threshold_ != with_cohort.threshold_
    bounded = EnrollmentVerifier(target_far=0.05, cv=3, cohort=cohort, far_confidence=0.9).fit(
        E[train], y[train], groups=spk[train]
    )
    assert bounded.threshold_ >= with_cohort.threshold_
    with pytest.raises(ValueError, match="set target_far too"):
        EnrollmentVerifier(far_confidence=0.9).fit(E[train], y[train], groups=spk[train])
    with pytest.raises(ValueError, match="recordings but"):
        EnrollmentVerifier(target_far=0.05, cohort=(E[:5], spk[:4])).fit(
            E[train], y[train], groups=spk[train]
        )


def test_as_norm_over_all_the_cohort_is_s_norm():
    import torch

    from skvoice.decisions import best_cosine

    rng = np.random.default_rng(0)
    U = torch.nn.functional.normalize(torch.as_tensor(rng.normal(size=(6, 5))), dim=1)
    C = torch.nn.functional.normalize(torch.as_tensor(rng.normal(size=(3, 5))), dim=1)
    K = torch.nn.functional.normalize(torch.as_tensor(rng.normal(size=(12, 5))), dim=1)
    s = best_cosine(U, C, K, "s-norm")
    assert torch.allclose(best_cosine(U, C, K, "as-norm", top_n=12), s)
    assert torch.allclose(best_cosine(U, C, K, "as-norm", top_n=None), s)
    # By hand, top 4: each side's statistics over its 4 closest cohort speakers.
    S = U @ C.T
    e = torch.topk(C @ K.T, 4, dim=1).values
    t = torch.topk(U @ K.T, 4, dim=1).values
    z = (S - e.mean(1)[None]) / (e.std(1, correction=0)[None] + 1e-6)
    tt = (S - t.mean(1)[:, None]) / (t.std(1, correction=0)[:, None] + 1e-6)
    expected = (0.5 * (z + tt)).max(dim=1).values
    assert torch.allclose(best_cosine(U, C, K, "as-norm", top_n=4), expected)


def test_network_scores_its_cohort_and_does_not_save_it(tmp_path):
    from skvoice import load_model, save_model

    X, spk = _tiny_specs(n_speakers=12, per=4)
    y = np.isin(spk, ["s0", "s1"]).astype(int)
    train = np.isin(spk, [f"s{k}" for k in range(6)])
    cohort = ([X[i] for i in np.flatnonzero(~train)], spk[~train])
    Xtr = [X[i] for i in np.flatnonzero(train)]
    net = _tiny_cnn(target_far=0.1, cv=2, cohort=cohort)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a tiny net may calibrate flat
        net.fit(Xtr, y[train], groups=spk[train])
    # The fitted network's own scores of the cohort.
    np.testing.assert_allclose(
        net.cohort_scores_, net._raw_allowed_score(net._check_X(cohort[0], reset=False))
    )
    a, b = net.calibration_
    impostors = np.r_[net.crossfit_scores_[y[train] == 0], net.cohort_scores_]
    assert np.mean(a * impostors + b > net.threshold_) <= 0.1
    loaded = load_model(save_model(net, tmp_path / "m.skvoice"))[-1]
    assert loaded.cohort is None and loaded.threshold_ == net.threshold_


@pytest.mark.parametrize("n_target, n_nontarget", [(200, 200), (100, 2000), (2000, 100)])
def test_llr_calibration_recovers_the_true_llr(n_target, n_nontarget):
    """Targets N(1, 1), non-targets N(-1, 1): the log-likelihood ratio is exactly 2 s.

    Whatever the share of each class, the calibration must find slope 2 and
    intercept 0 (a plain logistic regression would find log(n_t / n_n) there).
    """
    from skvoice.decisions._operating_point import llr_calibration

    rng = np.random.default_rng(0)
    # Quantiles rather than draws: the sample's own LLR is then 2 s to within 1 %.
    q_t = (np.arange(n_target) + 0.5) / n_target
    q_n = (np.arange(n_nontarget) + 0.5) / n_nontarget
    from scipy.stats import norm

    scores = np.r_[norm.ppf(q_t, 1.0), norm.ppf(q_n, -1.0)]
    is_target = np.r_[np.ones(n_target, bool), np.zeros(n_nontarget, bool)]
    order = rng.permutation(len(scores))
    a, b = llr_calibration(scores[order], is_target[order])
    assert a == pytest.approx(2.0, abs=0.1)
    assert b == pytest.approx(0.0, abs=0.1)


def test_cohort_joins_the_calibration():
    """A cohort of non-users changes the calibration but not the class balance it assumes."""
    E, spk = _embeddings(n_speakers=16, per=6, seed=3)
    y = np.isin(spk, ["s00", "s01", "s02"]).astype(int)
    cohort, cohort_spk = _embeddings(n_speakers=30, per=4, seed=4)
    cohort_spk = np.char.add("c", cohort_spk)
    plain = EnrollmentVerifier(cv=3).fit(E, y, groups=spk)
    with_cohort = EnrollmentVerifier(cv=3, cohort=(cohort, cohort_spk)).fit(E, y, groups=spk)
    from skvoice.decisions._operating_point import llr_calibration

    allowed = y == 1
    raw = with_cohort.crossfit_scores_
    expected = llr_calibration(
        np.r_[raw[allowed], raw[~allowed], with_cohort.cohort_scores_],
        np.r_[np.ones(allowed.sum()), np.zeros((~allowed).sum() + len(cohort))],
    )
    np.testing.assert_allclose(with_cohort.calibration_, expected)
    assert plain.calibration_ != with_cohort.calibration_
