"""TargetFARClassifierCV: the operating point as a meta-estimator over any scorer."""

import pickle

import numpy as np
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.ensemble import StackingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC

from skvoice.decisions import ScoreFusionClassifier, TargetFARClassifierCV, crossfit_folds
from skvoice.metrics import equal_error_rate
from skvoice.uncertainty import DeepEnsembleClassifier
from skvoice.verification import EnrollmentVerifier

from .test_operating_point import _embeddings, _tiny_cnn, _tiny_specs


def _task(n_speakers=20, per=10, n_allowed=3, seed=0, **kw):
    E, spk = _embeddings(n_speakers=n_speakers, per=per, seed=seed, **kw)
    y = np.isin(spk, [f"s{i:02d}" for i in range(n_allowed)]).astype(int)
    return E, y, spk


def _same_operating_point(old, new, X):
    assert new.threshold_ == old.threshold_
    assert new.calibration_ == old.calibration_
    assert new.expected_rates_ == old.expected_rates_
    np.testing.assert_array_equal(new.crossfit_scores_, old.crossfit_scores_)
    np.testing.assert_array_equal(new.decision_function(X), old.decision_function(X))
    # Thresholds, scores and decisions bit for bit; the network turns log-odds into
    # probabilities in torch, the meta-estimator in numpy: the last bit may differ.
    np.testing.assert_allclose(new.predict_proba(X), old.predict_proba(X), rtol=1e-14, atol=0)
    np.testing.assert_array_equal(new.predict(X), old.predict(X))


@pytest.mark.parametrize(
    "params",
    [
        {"target_far": 0.05},
        {"target_far": 0.05, "far_confidence": 0.9},
        {"target_far": 0.1, "cv": 3},
        {"target_far": None, "cv": 4},
    ],
)
def test_same_decisions_as_the_verifier_to_the_digit(params):
    E, y, spk = _task()
    old = EnrollmentVerifier(**params).fit(E, y, groups=spk)
    new = TargetFARClassifierCV(EnrollmentVerifier(), **params).fit(E, y, groups=spk)
    if params["target_far"] is None:
        assert new.expected_rates_ is None and not hasattr(old, "expected_rates_")
        old.expected_rates_ = None
    _same_operating_point(old, new, E)


def test_same_decisions_with_a_cohort():
    E, y, spk = _task()
    C, cspk = _embeddings(n_speakers=15, per=4, seed=9, prefix="c")
    old = EnrollmentVerifier(target_far=0.05, cohort=(C, cspk)).fit(E, y, groups=spk)
    new = TargetFARClassifierCV(EnrollmentVerifier(), target_far=0.05, cohort=(C, cspk))
    new.fit(E, y, groups=spk)
    _same_operating_point(old, new, E)
    np.testing.assert_array_equal(new.cohort_scores_, old.cohort_scores_)
    assert new.expected_rates_["cohort_speakers"] == 15


def test_same_decisions_as_the_network_to_the_digit():
    X, spk = _tiny_specs(n_speakers=8, per=5)
    y = np.isin(spk, ["s0", "s1"]).astype(int)
    old = _tiny_cnn(target_far=0.1, cv=3).fit(X, y, groups=spk)
    new = TargetFARClassifierCV(_tiny_cnn(), target_far=0.1, cv=3).fit(X, y, groups=spk)
    _same_operating_point(old, new, X)


def test_threshold_from_hand_computed_held_out_scores():
    # An independent path: the folds, the fold models and the cut, by hand.
    E, y, spk = _task(seed=3)
    svc = SVC(random_state=0)
    meta = TargetFARClassifierCV(svc, target_far=0.1, calibration=None, random_state=7)
    meta.fit(E, y, groups=spk)
    assert meta.response_method_ == "decision_function"
    from skvoice._random import seed_from

    raw = np.empty(len(y))
    for train, test in crossfit_folds(y == 1, spk, 5, seed_from(7)):
        raw[test] = clone(svc).fit(E[train], y[train]).decision_function(E[test])
    np.testing.assert_allclose(meta.crossfit_scores_, raw)
    impostors = np.sort(raw[y == 0])[::-1]
    k = int(np.floor(0.1 * len(impostors)))
    assert meta.threshold_ == impostors[k]
    assert np.mean(impostors > meta.threshold_) <= 0.1
    # calibration=None: the estimator's own probabilities, the cut on its scores.
    np.testing.assert_array_equal(
        meta.predict(E), (meta.estimator_.decision_function(E) > meta.threshold_).astype(int)
    )
    assert meta.calibration_ is None


def test_wraps_a_pipeline_it_never_saw():
    # A scaler and a classifier skvoice never wrote, read from predict_proba.
    E, y, spk = _task(seed=1)
    pipe = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced"))
    meta = TargetFARClassifierCV(pipe, target_far=0.1, response_method="predict_proba")
    meta.fit(E, y, groups=spk)
    a, b = meta.calibration_
    oof = a * meta.crossfit_scores_[y == 0] + b
    assert np.mean(oof > meta.threshold_) <= 0.1
    assert meta.expected_rates_["far"] <= 0.1
    assert meta.expected_rates_["impostor_speakers"] == 17
    p = meta.predict_proba(E)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.log(p[:, 1] / p[:, 0]), meta.decision_function(E), atol=1e-9)


@pytest.mark.parametrize("pos_label, labels", [("yes", ("yes", "no")), (0, (0, 1))])
def test_pos_label_reaches_the_verifier_and_the_decision(pos_label, labels):
    E, y01, spk = _task()
    y = np.where(y01 == 1, labels[0], labels[1])
    meta = TargetFARClassifierCV(EnrollmentVerifier(), pos_label=pos_label, target_far=0.05)
    meta.fit(E, y, groups=spk)
    assert meta.pos_label_ == pos_label
    assert sorted(meta.estimator_.enrolled_) == ["s00", "s01", "s02"]
    ref = TargetFARClassifierCV(EnrollmentVerifier(), target_far=0.05).fit(E, y01, groups=spk)
    np.testing.assert_array_equal(meta.predict(E) == pos_label, ref.predict(E) == 1)
    sign = 1 if list(meta.classes_).index(pos_label) == 1 else -1
    np.testing.assert_allclose(sign * meta.decision_function(E), ref.decision_function(E))


def test_clear_errors():
    E, y, spk = _task()
    meta = TargetFARClassifierCV(EnrollmentVerifier())
    with pytest.raises(ValueError, match="fit needs the speaker of each recording"):
        meta.fit(E, y)
    with pytest.raises(ValueError, match="does not take sample_weight"):
        meta.fit(E, y, groups=spk, sample_weight=np.ones(len(y)))
    with pytest.raises(ValueError, match="Only binary classification"):
        meta.fit(E, np.arange(len(y)) % 3, groups=spk)
    with pytest.raises(ValueError, match="groups has 3 speakers"):
        meta.fit(E, y, groups=spk[:3])
    with pytest.raises(ValueError, match="has no score_samples"):
        TargetFARClassifierCV(SVC(), response_method="score_samples").fit(E, y, groups=spk)
    with pytest.raises(ValueError, match="cohort must be a pair"):
        TargetFARClassifierCV(EnrollmentVerifier(), cohort=(E,)).fit(E, y, groups=spk)
    # What gives no uncertainty says so: a plain classifier, or an enrolment.
    with pytest.raises(TypeError, match="gives no uncertainty"):
        TargetFARClassifierCV(LogisticRegression()).fit(E, y, groups=spk).predict_proba(
            E, return_uncertainty=True
        )
    with pytest.raises(ValueError, match="An enrolment gives no uncertainty"):
        TargetFARClassifierCV(EnrollmentVerifier()).fit(E, y, groups=spk).predict_proba(
            E, return_uncertainty=True
        )


def test_uncertainty_passes_through():
    E, y, spk = _task(seed=2)
    ens = DeepEnsembleClassifier(LogisticRegression(max_iter=2000), n_estimators=3)
    meta = TargetFARClassifierCV(ens, target_far=0.1).fit(E, y, groups=spk)
    proba, unc = meta.predict_proba(E, return_uncertainty=True)
    np.testing.assert_array_equal(proba, meta.predict_proba(E))
    assert unc.total.shape == unc.epistemic.shape == (len(E),)


def test_clone_pickle_and_grid_search_with_two_jobs():
    E, y, spk = _task()
    meta = TargetFARClassifierCV(EnrollmentVerifier(), target_far=0.05).fit(E, y, groups=spk)
    again = pickle.loads(pickle.dumps(meta))
    np.testing.assert_array_equal(again.predict(E), meta.predict(E))
    assert clone(meta).get_params()["target_far"] == 0.05
    # The speakers reach the grid's splitter and the meta-estimator's folds at once
    # with metadata routing (without it, scikit-learn gives groups to the splitter
    # only).
    with sklearn.config_context(enable_metadata_routing=True):
        grid = GridSearchCV(
            TargetFARClassifierCV(EnrollmentVerifier().set_fit_request(groups=True)),
            {"estimator__score_norm": [None, "s-norm"]},
            cv=GroupKFold(3),
            scoring="roc_auc",
            n_jobs=2,
        ).fit(E, y, groups=spk)
    assert set(grid.cv_results_["param_estimator__score_norm"]) == {None, "s-norm"}


def test_metadata_routing_gives_the_speakers_to_splitter_and_verifier():
    E, y, spk = _task()
    with sklearn.config_context(enable_metadata_routing=True):
        verifier = EnrollmentVerifier().set_fit_request(groups=True)
        meta = TargetFARClassifierCV(verifier, target_far=0.05)
        grid = GridSearchCV(meta, {"target_far": [0.05, 0.1]}, cv=GroupKFold(3))
        grid.fit(E, y, groups=spk)
        fitted = grid.best_estimator_
    assert sorted(fitted.estimator_.enrolled_) == ["s00", "s01", "s02"]
    with sklearn.config_context(enable_metadata_routing=False):
        ref = TargetFARClassifierCV(EnrollmentVerifier(), target_far=fitted.target_far)
        ref.fit(E, y, groups=spk)
    np.testing.assert_array_equal(fitted.predict(E), ref.predict(E))


def _halves():
    return [FunctionTransformer(lambda X, s=s: X[:, s]) for s in (slice(0, 8), slice(8, 16))]


def test_fusion_beats_each_member_on_speakers_it_never_heard():
    # Two systems that each see half of what tells the speakers apart.
    # (On 8 seeds of this task the fusion won 8 times.)
    E, y, spk = _task(n_speakers=30, per=16, n_allowed=6, seed=0, dim=16, noise=0.6)
    test = np.isin(spk, [f"s{i:02d}" for i in range(15, 30)]) | (
        (y == 1) & (np.arange(len(y)) % 16 >= 8)
    )
    train = ~test
    members = [
        (f"sys{i}", make_pipeline(h, EnrollmentVerifier())) for i, h in enumerate(_halves())
    ]
    fusion = ScoreFusionClassifier(members)
    fused = TargetFARClassifierCV(fusion, target_far=0.1).fit(
        E[train], y[train], groups=spk[train]
    )
    # The speakers reached every member's verifier (its last step).
    for member in fused.estimator_.named_members_.values():
        assert sorted(member[-1].enrolled_) == [f"s{i:02d}" for i in range(6)]
    eers = [
        equal_error_rate(
            y[test],
            TargetFARClassifierCV(m, target_far=0.1)
            .fit(E[train], y[train], groups=spk[train])
            .decision_function(E[test]),
        )
        for _, m in members
    ]
    fused_eer = equal_error_rate(y[test], fused.decision_function(E[test]))
    assert fused_eer < min(eers)
    # The fusion learnt from held-out scores: one column per member.
    assert fused.estimator_.final_estimator_.coef_.shape == (1, 2)
    assert np.all(fused.estimator_.final_estimator_.coef_ > 0)


def test_fusion_passes_named_parameters_and_refuses_others():
    E, y, spk = _task()
    members = [
        (f"sys{i}", make_pipeline(h, EnrollmentVerifier())) for i, h in enumerate(_halves())
    ]
    fusion = ScoreFusionClassifier(members)
    with pytest.raises(ValueError, match="name a member"):
        fusion.fit(E, y, groups=spk, verbose=True)
    with pytest.raises(ValueError, match="distinct names"):
        ScoreFusionClassifier(members[:1] * 2).fit(E, y, groups=spk)
    assert fusion.fit(E, y, groups=spk).transform(E).shape == (len(E), 2)


def test_wraps_a_scikit_learn_stacking_classifier():
    # Any classifier: scikit-learn's stacking too (its own folds do not keep
    # speakers apart; ScoreFusionClassifier's do).
    E, y, spk = _task()
    stack = StackingClassifier(
        [("lr", LogisticRegression()), ("svc", SVC())], LogisticRegression(), cv=3
    )
    meta = TargetFARClassifierCV(stack, target_far=0.1).fit(E, y, groups=spk)
    assert meta.response_method_ == "decision_function"
    assert meta.expected_rates_["far"] <= 0.1


@settings(max_examples=10, deadline=None)
@given(target=st.sampled_from([0.05, 0.1, 0.2, 0.3]), seed=st.integers(0, 50))
def test_held_out_far_never_exceeds_the_target(target, seed):
    E, y, spk = _task(n_speakers=16, per=6, seed=seed)
    meta = TargetFARClassifierCV(EnrollmentVerifier(), target_far=target).fit(E, y, groups=spk)
    a, b = meta.calibration_
    oof = a * meta.crossfit_scores_[y == 0] + b
    assert np.mean(oof > meta.threshold_) <= target + 1e-12
    assert meta.expected_rates_["far"] == np.mean(oof > meta.threshold_)


def test_ensemble_decides_on_the_scale_the_threshold_was_set_on():
    E, y, spk = _task(seed=6)
    meta = TargetFARClassifierCV(EnrollmentVerifier(), target_far=0.1, ensemble=True)
    meta.fit(E, y, groups=spk)
    assert not hasattr(meta, "estimator_") and len(meta.estimators_) == 5
    mean_raw = np.mean([m.score_samples(E) for m in meta.estimators_], axis=0)
    a, b = meta.calibration_
    np.testing.assert_allclose(meta.decision_function(E), a * mean_raw + b)
    np.testing.assert_array_equal(meta.predict(E), (a * mean_raw + b > meta.threshold_) * 1)
    # The held-out scores and the threshold are those of ensemble=False.
    plain = TargetFARClassifierCV(EnrollmentVerifier(), target_far=0.1).fit(E, y, groups=spk)
    np.testing.assert_array_equal(meta.crossfit_scores_, plain.crossfit_scores_)
    assert meta.threshold_ == plain.threshold_
    with pytest.raises(ValueError, match="ensemble=False"):
        meta.predict_proba(E, return_uncertainty=True)


def test_expected_rates_carry_intervals_over_speakers():
    E, y, spk = _task(seed=8)
    meta = TargetFARClassifierCV(EnrollmentVerifier(), target_far=0.1).fit(E, y, groups=spk)
    rates = meta.expected_rates_
    assert rates["interval_level"] == 0.9
    for name in ("far", "frr"):
        low, high = rates[f"{name}_interval"]
        assert 0.0 <= low <= rates[name] <= high <= 1.0
    # Few refused speakers: a wide FAR interval.
    assert rates["far_interval"][1] - rates["far_interval"][0] > 0.02


def test_impostor_augmentation_adds_new_voices_scored_by_models_that_never_heard_them():
    E, y, spk = _task(seed=10)
    shift = FunctionTransformer(lambda X: X[:, ::-1])  # another "voice" of each recording
    meta = TargetFARClassifierCV(
        EnrollmentVerifier(), target_far=0.1, impostor_augmentation=[shift], random_state=3
    ).fit(E, y, groups=spk)
    from skvoice._random import seed_from

    expected = []
    for train, test in crossfit_folds(y == 1, spk, 5, seed_from(3)):
        model = EnrollmentVerifier().fit(E[train], y[train], groups=spk[train])
        refused = test[y[test] == 0]
        expected.append(model.score_samples(E[refused][:, ::-1]))
    np.testing.assert_allclose(meta.pseudo_impostor_scores_, np.concatenate(expected))
    n_refused = len(np.unique(spk[y == 0]))
    assert meta.expected_rates_["impostor_speakers"] == 2 * n_refused
    assert meta.expected_rates_["impostor_recordings"] == 2 * int((y == 0).sum())
    plain = TargetFARClassifierCV(EnrollmentVerifier(), target_far=0.1, random_state=3)
    assert len(plain.fit(E, y, groups=spk).pseudo_impostor_scores_) == 0
