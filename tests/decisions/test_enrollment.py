import time

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skvoice.metrics import equal_error_rate
from skvoice.neural_network import CNNClassifier, SpeakerEmbedder
from skvoice.uncertainty import DeepEnsembleClassifier
from skvoice.verification import EnrollmentVerifier
from tests.neural_network.test_cnn import TINY


def _embeddings(n_spk=6, n_rec=6, dim=8, noise=0.15, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_spk, dim))
    E = np.repeat(centres, n_rec, axis=0) + noise * rng.standard_normal((n_spk * n_rec, dim))
    spk = np.repeat([f"s{i}" for i in range(n_spk)], n_rec)
    return E, spk, centres


def test_scores_are_cosine_to_centroids_without_norm():
    E, spk, _ = _embeddings()
    y = np.isin(spk, ["s0", "s1"]).astype(int)
    ver = EnrollmentVerifier(score_norm=None, center=False).fit(E, y, groups=spk)
    unit = E / np.linalg.norm(E, axis=1, keepdims=True)
    cents = []
    for s in ("s0", "s1"):
        c = unit[spk == s].mean(0)
        cents.append(c / np.linalg.norm(c))
    expected = np.max(unit @ np.array(cents).T, axis=1)
    np.testing.assert_allclose(ver.score_samples(E), expected)


def test_snorm_hand_computed():
    E, spk, _ = _embeddings()
    y = np.isin(spk, ["s0"]).astype(int)
    ver = EnrollmentVerifier(score_norm="s-norm", center=False).fit(E, y, groups=spk)
    raw = EnrollmentVerifier(score_norm=None, center=False).fit(E, y, groups=spk)
    c = ver.enrolled_["s0"]
    e = E[7] / np.linalg.norm(E[7])
    s = raw.score_samples(E[7:8])[0]
    ce, te = ver.cohort_ @ c, ver.cohort_ @ e
    expected = 0.5 * ((s - ce.mean()) / (ce.std() + 1e-6) + (s - te.mean()) / (te.std() + 1e-6))
    assert ver.score_samples(E[7:8])[0] == pytest.approx(expected)
    # decision_function is a monotone (calibrated) map of the scores.
    d, sc = ver.decision_function(E), ver.score_samples(E)
    assert np.all(np.diff(d[np.argsort(sc)]) >= -1e-12)


def test_separates_and_calibrates():
    E, spk, _ = _embeddings()
    y = np.isin(spk, ["s0", "s1"]).astype(int)
    ver = EnrollmentVerifier().fit(E, y, groups=spk)
    assert np.mean(ver.predict(E) == y) > 0.95
    np.testing.assert_allclose(ver.predict_proba(E).sum(1), 1)


def test_probabilities_are_calibrated_on_new_recordings():
    from skvoice.uncertainty import expected_calibration_error

    # Overlapping speakers: new recordings of the same voices, drawn apart from
    # the training ones. A calibrated p is the frequency of "allowed" among the
    # recordings that get it: ECE small, and the mean p of the allowed close to
    # their share of the correctly accepted.
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((8, 6))
    spk_names = np.array([f"s{i}" for i in range(8)])

    def draw(n_rec):
        E = np.repeat(centres, n_rec, axis=0) + 0.9 * rng.standard_normal((8 * n_rec, 6))
        spk = np.repeat(spk_names, n_rec)
        return E, spk, np.isin(spk, ["s0", "s1", "s2"]).astype(int)

    E, spk, y = draw(40)
    ver = EnrollmentVerifier().fit(E, y, groups=spk)
    E_new, _, y_new = draw(200)
    p = ver.predict_proba(E_new)[:, 1]
    assert 0.05 < np.mean((p > 0.5) != y_new) < 0.4  # the task is not trivial
    assert expected_calibration_error(y_new, p) < 0.05
    # An overconfident map of the same scores (Platt slope x4) is worse calibrated.
    sharp = 1 / (1 + np.exp(-4 * ver.decision_function(E_new)))
    assert expected_calibration_error(y_new, sharp) > 2 * expected_calibration_error(y_new, p)


def test_enroll_and_unenroll_new_speaker_fast():
    E, spk, centres = _embeddings(n_spk=7)
    train = spk != "s6"
    y = np.isin(spk, ["s0", "s1"]).astype(int)
    ver = EnrollmentVerifier().fit(E[train], y[train], groups=spk[train])
    new = E[spk == "s6"]
    assert not ver.predict(new).any()
    t = time.perf_counter()
    ver.enroll(new[:5], speaker="s6")
    assert time.perf_counter() - t < 1.0
    assert ver.predict(new).all()
    ver.unenroll("s6")
    assert not ver.predict(new).any()
    with pytest.raises(KeyError, match="s6"):
        ver.unenroll("s6")
    with pytest.raises(ValueError, match="features"):
        ver.enroll(np.zeros((2, 3)), "x")


def test_nobody_enrolled_refuses_everyone():
    E, spk, _ = _embeddings()
    y = np.isin(spk, ["s0"]).astype(int)
    ver = EnrollmentVerifier().fit(E, y, groups=spk).unenroll("s0")
    assert np.all(ver.score_samples(E) == -np.inf)
    assert not ver.predict(E).any()


def test_errors():
    E, spk, _ = _embeddings()
    with pytest.raises(ValueError, match="one class"):
        EnrollmentVerifier().fit(E, np.zeros(len(E), int))
    with pytest.raises(ValueError, match="score_norm"):
        EnrollmentVerifier(score_norm="z").fit(E, spk == "s0")


@pytest.fixture(scope="module")
def specs():
    rng = np.random.default_rng(0)
    X, spk = [], []
    for s in range(5):
        for _ in range(6):
            x = rng.standard_normal((12, 40)).astype(np.float32)
            x[2 * s : 2 * s + 3] += 2.0  # each speaker's own band
            X.append(x)
            spk.append(f"s{s}")
    return X, np.array(spk)


def test_embedder_unit_norm_and_mean_of_windows(specs):
    import torch

    X, spk = specs
    emb = SpeakerEmbedder(CNNClassifier(**TINY)).fit(X, groups=spk)
    E = emb.transform(X)
    assert E.shape == (30, 16)
    np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1, atol=1e-6)
    module = emb.network_.net_.module_.eval()
    from skvoice.neural_network._data import sliding_windows

    w, _ = sliding_windows([torch.from_numpy(X[0])[None]], 16, 8)
    with torch.no_grad():
        m = module.embed(w).mean(0)
    np.testing.assert_allclose(E[0], (m / m.norm()).numpy(), atol=1e-5)
    assert emb.network_.classes_.tolist() == [f"s{i}" for i in range(5)]


def test_embedder_reuses_fitted_network(specs):
    X, spk = specs
    y = np.isin(spk, ["s0", "s1"]).astype(int)
    clf = CNNClassifier(**TINY).fit(X, y, groups=spk)
    emb = SpeakerEmbedder(clf, reuse_fitted=True).fit(X)
    assert emb.network_ is clf
    assert emb.transform(X).shape == (30, 16)
    with pytest.raises(ValueError, match="fitted"):
        SpeakerEmbedder(CNNClassifier(), reuse_fitted=True).fit(X)


def test_pipeline_grid_search_and_ensemble(specs):
    import sklearn

    X, spk = specs
    y = np.isin(spk, ["s0", "s1"]).astype(int)
    pipe = make_pipeline(SpeakerEmbedder(CNNClassifier(**TINY)), EnrollmentVerifier())
    pipe.fit(X, y, speakerembedder__groups=spk, enrollmentverifier__groups=spk)
    assert pipe.predict_proba(X).shape == (30, 2)
    with sklearn.config_context(enable_metadata_routing=True):
        from skvoice.model_selection import OpenSetGroupKFold

        search = GridSearchCV(
            pipe,
            {"enrollmentverifier__score_norm": [None, "s-norm"]},
            cv=OpenSetGroupKFold(3),
            scoring="roc_auc",
        )
        search.fit(X, y, groups=spk)  # one name reaches the splitter and the verifier
    # Each candidate's fold scores are those of the pipeline fitted by hand.
    from sklearn.base import clone
    from sklearn.metrics import roc_auc_score

    for c, params in enumerate(search.cv_results_["params"]):
        folds = OpenSetGroupKFold(3).split(X, y, spk)
        for k, (train, test) in enumerate(folds):
            model = clone(pipe).set_params(**params)
            model.fit(
                [X[i] for i in train],
                y[train],
                speakerembedder__groups=spk[train],
                enrollmentverifier__groups=spk[train],
            )
            auc = roc_auc_score(y[test], model.decision_function([X[i] for i in test]))
            assert search.cv_results_[f"split{k}_test_score"][c] == pytest.approx(auc)
    ens = DeepEnsembleClassifier(pipe, n_estimators=2, random_state=0)
    ens.fit(X, y, speakerembedder__groups=spk, enrollmentverifier__groups=spk)
    proba, u = ens.predict_proba(X, return_uncertainty=True)
    members = np.stack([m.predict_proba(X) for m in ens.estimators_])
    np.testing.assert_allclose(proba, members.mean(axis=0))
    # Two networks from two seeds disagree somewhere: epistemic uncertainty > 0.
    assert u.epistemic.shape == (30,) and u.epistemic.max() > 0


def test_without_speakers_calibration_leaves_each_recording_out():
    """Regression: without speakers every allowed recording was scored against its
    own template (cosine 1.0) by the leave-one-out calibration, so new recordings
    of allowed users got P(allowed) ~ 0.02 and nearly all were refused, silently."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(10, 16))
    spk = np.repeat(np.arange(10), 8)
    E = centres[spk] + 0.5 * rng.normal(size=(80, 16))
    y = (spk < 3).astype(int)
    train = np.tile(np.arange(8) < 5, 10)
    ver = EnrollmentVerifier().fit(E[train], y[train])
    new_allowed = ~train & (y == 1)
    p = ver.predict_proba(E[new_allowed])[:, 1]
    # As with speakers: most new recordings of allowed users are accepted.
    with_speakers = EnrollmentVerifier().fit(E[train], y[train], groups=spk[train])
    assert np.mean(p > 0.5) > 0.7
    assert np.mean(with_speakers.predict_proba(E[new_allowed])[:, 1] > 0.5) > 0.7
    with pytest.raises(ValueError, match="at least two allowed recordings"):
        EnrollmentVerifier().fit(E[[0, 30, 40]], [1, 0, 0])


def _channel_voices(rng, n_speakers=12, per=6, dim=16, channel=8.0):
    """Speakers apart on every axis but 0, where each recording's channel varies widely."""
    centres = rng.standard_normal((n_speakers, dim))
    centres[:, 0] = 0.0
    spk = np.repeat(np.arange(n_speakers), per)
    E = centres[spk] + 0.3 * rng.standard_normal((len(spk), dim))
    E[:, 0] += channel * rng.standard_normal(len(spk))
    return E, spk.astype(str)


def test_whitening_divides_out_the_within_speaker_covariance_by_hand():
    from skvoice.decisions._enrollment import backend_projection

    rng = np.random.default_rng(0)
    E, spk = _channel_voices(rng)
    E0 = E - E.mean(0)
    P = backend_projection(E0, spk, "whiten", 0.0)
    # The within-speaker covariance, computed here by a loop over speakers.
    dev = np.vstack([E0[spk == s] - E0[spk == s].mean(0) for s in np.unique(spk)])
    within = dev.T @ dev / (len(E0) - len(np.unique(spk)))
    np.testing.assert_allclose(P.T @ within @ P, np.eye(E.shape[1]), atol=1e-8)
    lda = backend_projection(E0, spk, "lda", 0.5)
    assert lda.shape == (E.shape[1], 11)  # at most one fewer than the 12 speakers
    with pytest.raises(ValueError, match="two recordings"):
        backend_projection(E0[:5], np.arange(5).astype(str), "whiten", 0.5)


@pytest.mark.parametrize("backend", ["whiten", "lda"])
def test_backend_removes_a_channel_that_varies_within_speakers(backend):
    rng = np.random.default_rng(1)
    E, spk = _channel_voices(rng)
    y = np.isin(spk, ["0", "1", "2"]).astype(int)
    train = np.tile(np.arange(6) < 3, 12)
    test = ~train
    eers = {}
    for b in (None, backend):
        ver = EnrollmentVerifier(backend=b).fit(E[train], y[train], groups=spk[train])
        eers[b] = equal_error_rate(y[test], ver.decision_function(E[test]))
        # Enrolling later goes through the same projection.
        ver.enroll(E[test][spk[test] == "5"], speaker="5")
        assert "5" in ver.enrolled_
    assert eers[backend] < eers[None] - 0.1, eers


def test_backend_survives_save_and_load(tmp_path):
    from skvoice import load_model, save_model

    rng = np.random.default_rng(2)
    E, spk = _channel_voices(rng)
    y = np.isin(spk, ["0", "1"]).astype(int)
    ver = EnrollmentVerifier(backend="lda").fit(E, y, groups=spk)
    path = save_model(ver, tmp_path / "v.skvoice")
    again = load_model(path)
    np.testing.assert_allclose(again[-1].projection_, ver.projection_)
    np.testing.assert_allclose(again.decision_function(E), ver.decision_function(E))


def test_views_with_negative_strides_are_read():
    # Regression: E[:, ::-1] reached torch.from_numpy, which refuses negative strides.
    from skvoice.verification import EnrollmentVerifier

    rng = np.random.default_rng(0)
    E = rng.standard_normal((40, 6))
    y = np.repeat([1, 0, 0, 0], 10)
    spk = np.repeat(["a", "b", "c", "d"], 10)
    view = E[:, ::-1]
    ver = EnrollmentVerifier().fit(view, y, groups=spk)
    ref = EnrollmentVerifier().fit(view.copy(), y, groups=spk)
    np.testing.assert_array_equal(ver.score_samples(view), ref.score_samples(view.copy()))


def test_return_uncertainty_names_what_gives_one():
    # The Python path met a TypeError where `skvoice verify` prints nulls.
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skvoice.verification import EnrollmentVerifier

    rng = np.random.default_rng(1)
    E = rng.standard_normal((30, 4))
    y = np.repeat([1, 0, 0], 10)
    spk = np.repeat(["a", "b", "c"], 10)
    pipe = make_pipeline(StandardScaler(), EnrollmentVerifier())
    pipe.fit(E, y, enrollmentverifier__groups=spk)
    with pytest.raises(ValueError, match="MCDropoutClassifier or DeepEnsembleClassifier"):
        pipe.predict_proba(E, return_uncertainty=True)
    np.testing.assert_array_equal(
        pipe.predict_proba(E, return_uncertainty=False), pipe.predict_proba(E)
    )
