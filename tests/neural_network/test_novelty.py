"""novelty_score: distance to the training voices, against hand references."""

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist, mahalanobis
from sklearn.covariance import LedoitWolf
from sklearn.metrics import roc_auc_score

from skvoice.neural_network import CNNClassifier
from skvoice.neural_network._novelty import embedding_novelty, fit_novelty


def _voices(n_speakers, per, seed, shift=0):
    """Spectrogram-like recordings: a spectral shape per speaker, plus noise."""
    rng = np.random.default_rng(seed)
    shapes = 2 * rng.standard_normal((n_speakers, 16, 1)).astype(np.float32) + shift
    X = [
        shapes[k] + 0.5 * rng.standard_normal((16, 32)).astype(np.float32)
        for k in range(n_speakers)
        for _ in range(per)
    ]
    return X, np.repeat([f"v{seed}-{k}" for k in range(n_speakers)], per)


def test_fit_novelty_and_distances_match_references():
    rng = np.random.default_rng(0)
    E = rng.standard_normal((60, 5)) @ rng.standard_normal((5, 5)) + 3
    groups = np.repeat(["a", "b", "c"], 20)
    mean, centroids, W = fit_novelty(E, groups)
    Z = E - E.mean(0)
    mu = np.array([Z[groups == g].mean(0) for g in "abc"])
    np.testing.assert_allclose(mean, E.mean(0))
    np.testing.assert_allclose(centroids, mu)
    residuals = Z - mu[np.searchsorted(["a", "b", "c"], groups)]
    cov = LedoitWolf(assume_centered=True).fit(residuals).covariance_
    np.testing.assert_allclose(W @ W.T, np.linalg.inv(cov), rtol=1e-6)
    new = rng.standard_normal((7, 5)) * 4
    VI = np.linalg.inv(cov)
    expected = [min(mahalanobis(x - mean, m, VI) for m in mu) for x in new]
    np.testing.assert_allclose(
        embedding_novelty(new, mean, centroids, W, "mahalanobis"), expected, rtol=1e-8
    )
    expected = 1 - (1 - cdist(new - mean, mu, "cosine")).max(axis=1)
    np.testing.assert_allclose(embedding_novelty(new, mean, centroids, W, "cosine"), expected)
    with pytest.raises(ValueError, match="method"):
        embedding_novelty(new, mean, centroids, W, "knn")


def test_one_recording_per_group_falls_back_to_euclidean():
    E = np.eye(4)
    mean, centroids, W = fit_novelty(E, ["a", "b", "c", "d"])
    np.testing.assert_allclose(W, np.eye(4))


@pytest.fixture(scope="module")
def fitted():
    X, spk = _voices(6, 6, seed=0)
    y = np.isin(spk, ["v0-0", "v0-1"]).astype(int)
    net = CNNClassifier(
        module__n_filters=8,
        module__n_blocks=2,
        module__embedding_dim=16,
        crop_frames=32,
        max_epochs=15,
        random_state=0,
    ).fit(X, y, groups=spk)
    return net, X, spk


def test_voices_never_heard_are_more_novel(fitted):
    net, _, _ = fitted
    heard, _ = _voices(6, 6, seed=0)  # the same voices, new noise
    rng = np.random.default_rng(9)
    heard = [x + 0.5 * rng.standard_normal(x.shape).astype(np.float32) for x in heard]
    never, _ = _voices(6, 6, seed=1)
    y = np.r_[np.zeros(len(heard)), np.ones(len(never))]
    for method in ("mahalanobis", "cosine"):
        s = net.novelty_score(heard + never, method=method)
        assert roc_auc_score(y, s) > 0.8, method


def test_energy_is_minus_logsumexp_of_the_logits(fitted):
    net, X, _ = fitted
    # crop_frames equals the recordings' length: one window per recording.
    with torch.inference_mode():
        logits = net.net_.module_(torch.as_tensor(np.stack(X[:4]))[:, None])
    expected = -torch.logsumexp(logits.double(), dim=-1).numpy()
    np.testing.assert_allclose(net.novelty_score(X[:4], method="energy"), expected, rtol=1e-5)


def test_wrappers_report_the_networks_novelty(fitted):
    from skvoice.uncertainty import DeepEnsembleClassifier, MCDropoutClassifier

    net, X, spk = fitted
    y = np.isin(spk, ["v0-0", "v0-1"]).astype(int)
    mc = MCDropoutClassifier(net, n_passes=3, random_state=0)
    mc.estimator_, mc.classes_, mc.pos_label_ = net, net.classes_, 1
    _, u = mc.predict_proba(X[:5], return_uncertainty=True)
    np.testing.assert_allclose(u.novelty, net.novelty_score(X[:5]))
    small = CNNClassifier(
        module__n_filters=4,
        module__n_blocks=1,
        module__embedding_dim=8,
        crop_frames=16,
        max_epochs=2,
    )
    ens = DeepEnsembleClassifier(small, n_estimators=2, random_state=0).fit(X, y, groups=spk)
    _, u = ens.predict_proba(X[:5], return_uncertainty=True)
    mean = np.mean([m.novelty_score(X[:5]) for m in ens.estimators_], axis=0)
    np.testing.assert_allclose(u.novelty, mean)


def test_novelty_survives_saving(fitted, tmp_path):
    import json
    import zipfile

    from sklearn.pipeline import Pipeline

    from skvoice import ModelFormatError, load_model, save_model

    from ..test_persist import rewrite

    net, X, _ = fitted
    path = save_model(Pipeline([("cnnclassifier", net)]), tmp_path / "m.skvoice")
    loaded = load_model(path)[-1]
    np.testing.assert_allclose(loaded.novelty_score(X[:5]), net.novelty_score(X[:5]))
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        weights = zf.read("weights.pt")
    manifest["steps"][-1]["state"]["novelty"]["whitening_"] = [[1.0, 2.0]]
    with pytest.raises(ModelFormatError, match="whitening_"):
        load_model(rewrite(tmp_path / "bad.skvoice", manifest, weights))


def test_unfamiliar_flags_above_the_held_out_quantile(tmp_path, monkeypatch):
    """The flag's threshold is the 99th percentile of the fold models' novelty of new
    recordings of known voices (the allowed speakers' held-out recordings)."""
    from sklearn.pipeline import make_pipeline

    from skvoice import load_model, save_model

    X, spk = _voices(8, 6, seed=0)
    y = np.isin(spk, np.unique(spk)[:3]).astype(int)
    kw = dict(module__n_filters=4, module__n_blocks=2, crop_frames=16, max_epochs=3)
    # Record every fold's novelty as the network sees it, to recompute the quantile.
    seen = {}
    original = CNNClassifier._on_crossfit_fold

    def spy(self, model, specs, test):
        original(self, model, specs, test)
        seen.update(zip(test.tolist(), model.novelty_score(specs).tolist()))

    monkeypatch.setattr(CNNClassifier, "_on_crossfit_fold", spy)
    clf = CNNClassifier(cv=3, random_state=0, **kw).fit(X, y, groups=spk)
    held_allowed = [seen[i] for i in np.flatnonzero(y == 1)]
    assert clf.novelty_threshold_ == pytest.approx(np.quantile(held_allowed, 0.99))
    np.testing.assert_array_equal(clf.unfamiliar(X), clf.novelty_score(X) > clf.novelty_threshold_)
    # Voices never heard, far from every training voice, are flagged.
    far, _ = _voices(3, 2, seed=9, shift=6)
    assert clf.unfamiliar(far).all()
    # Saved and read back with the model.
    path = save_model(make_pipeline(clf), tmp_path / "m.skvoice")
    assert load_model(path)[-1].novelty_threshold_ == clf.novelty_threshold_
    # Without cross-fitting there is no held-out novelty to set it from.
    plain = CNNClassifier(random_state=0, **kw).fit(X, y, groups=spk)
    assert plain.novelty_threshold_ is None
    with pytest.raises(ValueError, match="fit with target_far or cv"):
        plain.unfamiliar(X)
