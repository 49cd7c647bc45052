import time

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

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
    ver = EnrollmentVerifier(score_norm=None, center=False).fit(E, y, speakers=spk)
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
    ver = EnrollmentVerifier(center=False).fit(E, y, speakers=spk)
    raw = EnrollmentVerifier(score_norm=None, center=False).fit(E, y, speakers=spk)
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
    ver = EnrollmentVerifier().fit(E, y, speakers=spk)
    assert np.mean(ver.predict(E) == y) > 0.95
    proba = ver.predict_proba(E)
    np.testing.assert_allclose(proba.sum(1), 1)
    assert proba[y == 1, 1].mean() > 0.8 and proba[y == 0, 1].mean() < 0.2


def test_enroll_and_unenroll_new_speaker_fast():
    E, spk, centres = _embeddings(n_spk=7)
    train = spk != "s6"
    y = np.isin(spk, ["s0", "s1"]).astype(int)
    ver = EnrollmentVerifier().fit(E[train], y[train], speakers=spk[train])
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
    ver = EnrollmentVerifier().fit(E, y, speakers=spk).unenroll("s0")
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
    emb = SpeakerEmbedder(CNNClassifier(**TINY)).fit(X, speakers=spk)
    E = emb.transform(X)
    assert E.shape == (30, 16)
    np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1, atol=1e-6)
    module = emb.network_.net_.module_.eval()
    from skvoice.neural_network import sliding_windows

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
    pipe.fit(X, y, speakerembedder__speakers=spk, enrollmentverifier__speakers=spk)
    assert pipe.predict_proba(X).shape == (30, 2)
    with sklearn.config_context(enable_metadata_routing=True):
        from skvoice.model_selection import OpenSetGroupKFold

        search = GridSearchCV(
            pipe,
            {"enrollmentverifier__score_norm": [None, "s-norm"]},
            cv=OpenSetGroupKFold(3),
            scoring="roc_auc",
        )
        search.fit(X, y, groups=spk, speakers=spk)
    ens = DeepEnsembleClassifier(pipe, n_estimators=2, random_state=0)
    ens.fit(X, y, speakerembedder__speakers=spk, enrollmentverifier__speakers=spk)
    proba, u = ens.predict_proba(X, return_uncertainty=True)
    assert u.epistemic.shape == (30,)
