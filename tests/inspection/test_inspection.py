import matplotlib
import numpy as np
import pytest
import torch
from sklearn.pipeline import make_pipeline

from skvoice.inspection import (
    FeatureMapDisplay,
    FrequencyImportanceDisplay,
    GradCAMDisplay,
    KernelDisplay,
    LayerDriftDisplay,
    ReinitializationDisplay,
    frequency_importance,
    grad_cam,
    layer_activations,
    layer_drift,
    reinitialization_robustness,
)
from skvoice.neural_network import CNNClassifier
from skvoice.uncertainty import DeepEnsembleClassifier, MCDropoutClassifier

matplotlib.use("Agg")

BAND = slice(10, 13)


def _band_data(n=40, bins=16, seed=0):
    """Class 1 recordings carry extra energy in bins 10-12 only."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for i in range(n):
        x = rng.standard_normal((bins, int(rng.integers(24, 48)))).astype(np.float32)
        if i % 2:
            x[BAND] += 3.0
        X.append(x)
        y.append(i % 2)
    return X, np.array(y)


@pytest.fixture(scope="module")
def fitted():
    X, y = _band_data()
    clf = CNNClassifier(
        module__n_filters=8,
        module__n_blocks=2,
        module__embedding_dim=16,
        crop_frames=16,
        max_epochs=12,
        lr=3e-3,
        track_layers=True,
        random_state=0,
    ).fit(X, y)
    return clf, X, y


def _state(clf):
    return {k: v.clone() for k, v in clf.net_.module_.state_dict().items()}


def _unchanged(clf, before):
    after = clf.net_.module_.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not clf.net_.module_.training


def test_activations_equal_manual_forward(fitted):
    clf, X, _ = fitted
    before = _state(clf)
    acts = layer_activations(clf, X[:3], layers=["blocks.block0", "blocks.block1.conv"])
    module = clf.net_.module_.eval()
    with torch.no_grad():
        for i in range(3):
            x = torch.from_numpy(X[i])[None, None]
            b0 = module.blocks.block0(x)
            np.testing.assert_allclose(acts["blocks.block0"][i], b0[0].numpy(), atol=1e-6)
            np.testing.assert_allclose(
                acts["blocks.block1.conv"][i], module.blocks.block1.conv(b0)[0].numpy(), atol=1e-5
            )
    _unchanged(clf, before)
    with pytest.raises(ValueError, match="Unknown layer"):
        layer_activations(clf, X[:1], layers=["nope"])


def test_grad_cam_and_occlusion_peak_in_the_band(fitted):
    clf, X, y = fitted
    before = _state(clf)
    maps = grad_cam(clf, X)
    assert all(m.shape == x.shape for m, x in zip(maps, X))
    assert all(np.all(m >= 0) for m in maps)
    for method in ("gradcam", "layercam", "occlusion"):
        r = frequency_importance(clf, [x for x, t in zip(X, y) if t == 1], method=method)
        peak = int(np.argmax(r.importance[0]))
        assert 9 <= peak <= 13, (method, r.importance[0].round(2))
    # Grad-CAM of the last (coarsest) block blurs the band: why it is not the default.
    last = np.mean([m.mean(axis=1) for m in grad_cam(clf, [x for x, t in zip(X, y) if t])], axis=0)
    assert np.argmax(last) > 12
    _unchanged(clf, before)


def test_frequency_importance_per_group_and_frequencies(fitted):
    from skvoice.preprocessing import SpectrogramExtractor

    clf, X, y = fitted
    r = frequency_importance(clf, X, groups=y, method="occlusion", band_width=2)
    assert r.importance.shape == (2, 16) and r.groups.tolist() == [0, 1]
    np.testing.assert_array_equal(r.frequencies, np.arange(16))
    # Through a pipeline, the bins' frequencies come from its spectrogram step.
    rng = np.random.default_rng(0)
    waves = [rng.standard_normal(8000) for _ in range(6)]
    pipe = make_pipeline(
        SpectrogramExtractor(n_mels=16),
        CNNClassifier(
            module__n_filters=4, module__n_blocks=1, crop_frames=8, max_epochs=1, random_state=0
        ),
    ).fit(waves, [0, 1] * 3)
    r = frequency_importance(pipe, waves)
    np.testing.assert_allclose(r.frequencies, pipe[0].frequencies_)
    with pytest.raises(ValueError, match="method"):
        frequency_importance(clf, X, method="shap")


def test_layer_drift_equals_hand_computed_norm(fitted):
    clf, _, _ = fitted
    d = layer_drift(clf)
    assert d.epochs.tolist() == list(range(13))
    j = d.layers.index("blocks.block0.conv")
    w0 = clf.layer_history_[0]["blocks.block0.conv.weight"].double()
    w5 = clf.layer_history_[5]["blocks.block0.conv.weight"].double()
    w4 = clf.layer_history_[4]["blocks.block0.conv.weight"].double()
    assert d.from_init[5, j] == pytest.approx(float((w5 - w0).norm() / w0.norm()))
    assert d.from_previous[5, j] == pytest.approx(float((w5 - w4).norm() / w4.norm()))
    assert np.all(d.from_init[0] == 0)
    final = clf.net_.module_.blocks.block0.conv.weight.detach().double()
    assert d.from_init[-1, j] == pytest.approx(float((final - w0).norm() / w0.norm()))


def test_track_layers_list_and_missing():
    X, y = _band_data(12)
    clf = CNNClassifier(
        module__n_filters=4,
        module__n_blocks=1,
        crop_frames=8,
        max_epochs=4,
        track_layers=[2, 4],
        random_state=0,
    ).fit(X, y)
    assert sorted(clf.layer_history_) == [0, 2, 4]
    plain = CNNClassifier(
        module__n_filters=4, module__n_blocks=1, crop_frames=8, max_epochs=1, random_state=0
    ).fit(X, y)
    with pytest.raises(ValueError, match="track_layers"):
        layer_drift(plain)


def test_reinitialization_robustness(fitted):
    clf, X, y = fitted
    before = _state(clf)
    r = reinitialization_robustness(clf, X, y)
    assert r.scores.shape == (len(r.layers), 13)
    # Restoring the final epoch is the fitted model: its score exactly.
    np.testing.assert_array_equal(r.scores[:, -1], r.baseline)
    assert r.baseline == clf.score(X, y)
    # Resetting the head to its initial weights hurts (log loss: accuracy saturates).
    ll = reinitialization_robustness(clf, X, y, checkpoints=[0, 12], scoring="neg_log_loss")
    assert ll.scores[ll.layers.index("head"), 0] < ll.baseline
    assert ll.scores[ll.layers.index("head"), 1] == ll.baseline
    rr = reinitialization_robustness(clf, X, y, mode="rerandomize", scoring="roc_auc")
    assert rr.scores.shape == (len(rr.layers), 1)
    # By hand: a copy whose head is a freshly initialised Linear layer (torch's own
    # initialiser, seeded as documented: random_state + the layer's index).
    import copy

    from sklearn.metrics import roc_auc_score

    i = rr.layers.index("head")
    by_hand = copy.deepcopy(clf)
    old_head = by_hand.net_.module_.head
    torch.manual_seed(0 + i)
    by_hand.net_.module_.head = torch.nn.Linear(old_head.in_features, old_head.out_features)
    expected = roc_auc_score(y, by_hand.predict_proba(X)[:, 1])
    assert rr.scores[i, 0] == pytest.approx(expected, abs=1e-12)
    assert rr.baseline == pytest.approx(roc_auc_score(y, clf.predict_proba(X)[:, 1]))
    _unchanged(clf, before)
    with pytest.raises(ValueError, match="not recorded"):
        reinitialization_robustness(clf, X, y, checkpoints=[99])


def test_accepts_uncertainty_members(fitted):
    clf, X, y = fitted
    mc = MCDropoutClassifier(clf, n_passes=2)
    mc.estimator_, mc.classes_ = clf, clf.classes_
    ens = DeepEnsembleClassifier(clf, n_estimators=1)
    ens.estimators_, ens.classes_ = [clf], clf.classes_
    # A wrapper is explained through the network it wraps: the same maps as the
    # bare network's, for Grad-CAM and for frequency importance.
    bare = grad_cam(clf, X[:2])
    for wrapper in (mc, ens):
        for got, ref in zip(grad_cam(wrapper, X[:2]), bare):
            np.testing.assert_array_equal(got, ref)
        np.testing.assert_array_equal(
            frequency_importance(wrapper, X[:6], y[:6], method="occlusion").importance,
            frequency_importance(clf, X[:6], y[:6], method="occlusion").importance,
        )


def test_displays_draw(fitted):
    import matplotlib.pyplot as plt

    clf, X, y = fitted
    FeatureMapDisplay.from_estimator(clf, X, index=1)
    KernelDisplay.from_estimator(clf)
    GradCAMDisplay.from_estimator(clf, X, index=1)
    d = FrequencyImportanceDisplay.from_estimator(clf, X, groups=y)
    assert len(d.ax_.lines) == 2
    d = LayerDriftDisplay.from_estimator(clf)
    assert len(d.ax_.lines) == len(layer_drift(clf).layers)
    ReinitializationDisplay.from_estimator(clf, X, y, checkpoints=[0, 6, 12])
    plt.close("all")


@pytest.fixture(scope="module")
def fitted_speakers():
    """A speaker-objective network scored by cosine: 8 speakers, the odd ones allowed."""
    X, y = _band_data(n=48)
    speakers = np.array([f"s{i % 8}" for i in range(len(X))])
    clf = CNNClassifier(
        module__n_filters=8,
        module__n_blocks=2,
        module__embedding_dim=16,
        crop_frames=16,
        max_epochs=12,
        lr=3e-3,
        random_state=0,
    ).fit(X, y, groups=speakers)
    assert clf.backend_ == "cosine"
    return clf, X, y


def test_inspection_scores_as_the_model_decides(fitted_speakers):
    clf, X, y = fitted_speakers
    # One window per recording: the scored whole equals the model's own decision.
    one_window = [x[:, :16] for x in X[:6]]
    clf.trunk.eval()
    with torch.no_grad():
        mine = torch.cat(
            [clf.class_log_odds(torch.from_numpy(x)[None, None], 1) for x in one_window]
        )
    np.testing.assert_allclose(mine.numpy(), clf.decision_function(one_window), atol=1e-4)


def test_grad_cam_under_cosine_ignores_the_head(fitted_speakers):
    # Regression: Grad-CAM and occlusion explained the speaker head's posterior
    # even when the model decided by cosine; the head plays no part in that.
    clf, X, y = fitted_speakers
    before = grad_cam(clf, X[:4])
    occl = frequency_importance(clf, X[:4], method="occlusion").importance
    head = clf.net_.module_.head
    saved = {k: v.clone() for k, v in head.state_dict().items()}
    try:
        with torch.no_grad():
            head.weight.normal_(generator=torch.Generator().manual_seed(1))
        after = grad_cam(clf, X[:4])
        for a, b in zip(before, after):
            np.testing.assert_allclose(a, b, atol=1e-6)
        np.testing.assert_allclose(
            frequency_importance(clf, X[:4], method="occlusion").importance, occl, atol=1e-6
        )
    finally:
        head.load_state_dict(saved)
    r = frequency_importance(clf, [x for x, t in zip(X, y) if t == 1], method="occlusion")
    assert 9 <= int(np.argmax(r.importance[0])) <= 13, r.importance[0].round(2)


def test_reinitialization_under_cosine_enrols_again(fitted_speakers):
    import copy

    from sklearn.base import clone

    clf, X, y = fitted_speakers
    spk = np.array([f"s{i % 8}" for i in range(len(X))])
    with pytest.raises(ValueError, match="enroll="):
        reinitialization_robustness(clf, X, y, mode="rerandomize")
    before = _state(clf)
    verifier, scorer = clf.verifier_, clf.scorer_
    r = reinitialization_robustness(clf, X, y, mode="rerandomize", enroll=(X, y, spk))
    assert clf.scorer_ is scorer and scorer.verifier is verifier  # given back
    _unchanged(clf, before)
    # Enrolled again from the training recordings, the untouched network is the fit.
    assert r.baseline == clf.score(X, y)
    # By hand: the first conv redrawn (seed random_state + its index), then the
    # allowed speakers enrolled again from the new embeddings.
    i = r.layers.index("blocks.block0.conv")
    by_hand = copy.deepcopy(clf)
    torch.manual_seed(0 + i)
    by_hand.net_.module_.blocks.block0.conv.reset_parameters()
    emb = by_hand.embed(X)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)  # the scorer reads unit embeddings
    by_hand.verifier_ = clone(verifier).fit(emb, y, groups=spk)
    by_hand.scorer_ = by_hand._make_scorer()
    assert r.scores[i, 0] == pytest.approx(by_hand.score(X, y), abs=1e-12)
    # The head plays no part in a cosine score: redrawing it changes nothing.
    assert r.scores[r.layers.index("head"), 0] == r.baseline
