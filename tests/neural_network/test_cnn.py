import contextlib
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skvoice.neural_network import CNNClassifier, check_spectrograms
from skvoice.neural_network._data import sliding_windows

TINY = dict(
    module__n_filters=4,
    module__n_blocks=2,
    module__embedding_dim=16,
    crop_frames=16,
    max_epochs=4,
    batch_size=8,
    random_state=0,
)


def _toy(n=24, bins=12, seed=0, channels=None):
    """Class 1 has more energy in the upper half of the bins; random lengths."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for i in range(n):
        t = int(rng.integers(10, 60))
        shape = (bins, t) if channels is None else (channels, bins, t)
        x = rng.standard_normal(shape).astype(np.float32)
        label = i % 2
        x[..., bins // 2 :, :] += 1.5 * label
        X.append(x)
        y.append(label)
    return X, np.array(y)


def test_learns_and_probabilities_sum_to_one():
    X, y = _toy(40)
    clf = CNNClassifier(**{**TINY, "max_epochs": 15}).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert np.mean(clf.predict(X) == y) > 0.9
    assert clf.classes_.tolist() == [0, 1]
    assert clf.n_features_in_ == 12 and clf.n_channels_in_ == 1
    assert {"train_loss", "train_acc"} <= set(clf.history_[-1])
    assert len(clf.history_) == 15


def test_deterministic_with_random_state():
    X, y = _toy()
    a = CNNClassifier(**TINY).fit(X, y).predict_proba(X)
    b = CNNClassifier(**TINY).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(a, b, atol=1e-6)
    c = CNNClassifier(**{**TINY, "random_state": 1}).fit(X, y).predict_proba(X)
    assert not np.allclose(a, c, atol=1e-6)


def test_prediction_averages_window_log_probabilities():
    X, y = _toy()
    clf = CNNClassifier(**TINY).fit(X, y)
    module = clf.net_.module_.eval()
    k = next(i for i, x in enumerate(X) if x.shape[1] >= 30 and (x.shape[1] - 16) % 8)
    spec = torch.from_numpy(X[k])[None]
    windows, _ = sliding_windows([spec], 16, 8)
    # Independent: windows cut by hand at 0, 8, 16, ... plus the tail window.
    t = X[k].shape[1]
    starts = list(range(0, t - 16 + 1, 8))
    if starts[-1] != t - 16:
        starts.append(t - 16)
    manual = torch.stack([spec[..., s : s + 16] for s in starts])
    torch.testing.assert_close(windows, manual)
    with torch.no_grad():
        logp = torch.log_softmax(module(manual), dim=1).mean(dim=0)
    expected = torch.softmax(logp.double(), dim=0).numpy()
    np.testing.assert_allclose(clf.predict_proba([X[k]])[0], expected, atol=1e-6)


def test_short_recording_is_looped():
    X, y = _toy()
    clf = CNNClassifier(**TINY).fit(X, y)
    short = X[0][:, :5]
    looped = np.tile(short, (1, 4))[:, :16]
    np.testing.assert_allclose(clf.predict_proba([short]), clf.predict_proba([looped]), atol=1e-6)


def test_pickle_clone_set_params():
    X, y = _toy()
    clf = CNNClassifier(**TINY).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clf.predict_proba(X), again.predict_proba(X))
    fresh = clone(clf).set_params(lr=0.01)
    assert fresh.lr == 0.01 and not hasattr(fresh, "net_")


def test_multichannel_and_dense_input():
    X, y = _toy(channels=2)
    clf = CNNClassifier(**TINY).fit(X, y)
    assert clf.n_channels_in_ == 2
    dense = np.stack([x[..., :10] for x in X])  # (n, C, bins, T)
    assert clf.predict_proba(dense).shape == (len(X), 2)
    with pytest.raises(ValueError, match="Recording 1: 1 channel"):
        clf.predict_proba([X[0], X[1][0]])


def test_multiclass():
    # Three classes, each with extra energy in its own third of the bins.
    rng = np.random.default_rng(0)
    y = np.arange(36) % 3
    X = []
    for label in y:
        x = rng.standard_normal((12, int(rng.integers(20, 40)))).astype(np.float32)
        x[4 * label : 4 * label + 4] += 2.0
        X.append(x)
    clf = CNNClassifier(**{**TINY, "max_epochs": 15}).fit(X[:24], y[:24])
    proba = clf.predict_proba(X[24:])
    assert proba.shape == (12, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    assert np.mean(clf.predict(X[24:]) == y[24:]) >= 0.9  # held-out recordings
    scores = clf.decision_function(X[24:])
    np.testing.assert_allclose(scores, np.log(proba), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "X,y,match",
    [
        ([np.zeros((4, 10)), np.zeros(10)], [0, 1], "Recording 1: expected a"),
        ([np.zeros((4, 10)), np.zeros((2, 4, 10))], [0, 1], "Recording 1: 2 channel"),
        ([np.zeros((4, 10)), np.full((4, 10), np.nan)], [0, 1], "Recording 1: .*NaN"),
        ([np.zeros((4, 10)), np.zeros((4, 0))], [0, 1], "Recording 1: empty"),
        ([np.zeros((4, 10)), np.zeros((5, 10))], [0, 1], "Recording 1: 5 frequency bins"),
        ([np.zeros((4, 10)), np.zeros((4, 10))], [1, 1], "only one class"),
        ([np.zeros((4, 10))], [0, 1], "1 recordings but y has 2"),
    ],
)
def test_bad_input_fails_before_training(X, y, match, monkeypatch):
    import skorch

    def boom(*a, **k):
        raise AssertionError("training started")

    monkeypatch.setattr(skorch.NeuralNet, "fit", boom)
    with pytest.raises(ValueError, match=match):
        CNNClassifier(**TINY).fit(X, y)


def test_wrong_number_of_bins_at_predict():
    X, y = _toy()
    clf = CNNClassifier(**TINY).fit(X, y)
    with pytest.raises(ValueError, match="expecting 12 features"):
        clf.predict([np.zeros((7, 20))])


def test_class_weight_balanced_reaches_the_loss():
    X, y = _toy(24)
    X, y = X[:16], np.r_[np.zeros(12, int), np.ones(4, int)]
    clf = CNNClassifier(**{**TINY, "max_epochs": 1}).fit(X, y)
    w = clf.net_.criterion_.weight.numpy()
    np.testing.assert_allclose(w, [16 / (2 * 12), 16 / (2 * 4)])
    clf = CNNClassifier(**{**TINY, "max_epochs": 1, "class_weight": None}).fit(X, y)
    assert clf.net_.criterion_.weight is None


def test_early_stopping_keeps_speakers_apart():
    # The binary objective: validation loss on whole held-out speakers.
    X, y = _toy(40)
    groups = np.repeat(np.arange(10), 4)
    clf = CNNClassifier(
        **{**TINY, "max_epochs": 30, "patience": 2, "early_stopping": True, "objective": "binary"}
    )
    clf.fit(X, y, groups=groups)
    assert "valid_loss" in clf.history_[-1]
    tr, va = clf._validation_split(y, groups, seed=0)
    assert set(groups[tr]).isdisjoint(groups[va]) and len(va) > 0


def test_speaker_early_stopping_validates_on_unheard_speakers_by_eer():
    from skvoice.metrics import equal_error_rate
    from skvoice.neural_network._speaker_validation import verification_eer

    # The default path: speakers passed, early stopping on.
    X, y = _toy(48)
    groups = np.array([f"s{i % 12}" for i in range(48)])
    clf = CNNClassifier(**{**TINY, "max_epochs": 40, "patience": 3, "early_stopping": True})
    clf.fit(X, y, groups=groups)
    held = set(clf.validation_speakers_)
    # Held out: whole refused speakers (class 0 has 6 of the 12), never network outputs.
    assert len(held) == 2 and held.isdisjoint(clf.speakers_)
    assert set(clf.speakers_) | held == set(groups)
    assert all(y[groups == s][0] == 0 for s in held)
    assert clf.net_.module_.head.out_features == 10
    # Stopped on the verification EER, and kept the best epoch's weights.
    eers = clf.history_[:, "valid_eer"]
    rows = np.flatnonzero(np.isin(groups, list(held)))
    specs = [torch.as_tensor(X[i])[None] for i in rows]
    emb = clf._mean_over_windows(specs, lambda m, w: m.embed(w))
    assert verification_eer(emb, groups[rows]) == pytest.approx(min(eers))
    # The EER of the trials, by hand: all pairs, same speaker or not, by cosine.
    e = torch.nn.functional.normalize(emb - emb.mean(0), dim=1).numpy()
    i, j = np.triu_indices(len(rows), k=1)
    same = (groups[rows][i] == groups[rows][j]).astype(int)
    assert verification_eer(emb, groups[rows]) == equal_error_rate(same, (e[i] * e[j]).sum(1))


def test_speaker_early_stopping_needs_enough_speakers():
    X, y = _toy(12)
    groups = np.array([f"s{i % 4}" for i in range(12)])  # 2 speakers per class
    with pytest.raises(ValueError, match="needs at least 3"):
        CNNClassifier(**{**TINY, "early_stopping": True}).fit(X, y, groups=groups)


def test_early_stopping_without_groups_warns():
    X, y = _toy(20)
    with pytest.warns(UserWarning, match="groups"):
        CNNClassifier(**{**TINY, "max_epochs": 2, "early_stopping": True}).fit(X, y)


def test_augment_changes_training_but_stays_deterministic():
    X, y = _toy()
    a = CNNClassifier(**{**TINY, "augment": True}).fit(X, y).predict_proba(X)
    b = CNNClassifier(**{**TINY, "augment": True}).fit(X, y).predict_proba(X)
    c = CNNClassifier(**TINY).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert not np.allclose(a, c)


def test_unavailable_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    X, y = _toy()
    with pytest.raises(ValueError, match="CUDA is not available"):
        CNNClassifier(**{**TINY, "device": "cuda"}).fit(X, y)


def test_check_spectrograms_never_modifies_input():
    x = np.ones((3, 5), dtype=np.float32)
    out = check_spectrograms([x])
    out[0][:] = 0
    assert np.all(x == 1)


def test_threads_limited_in_workers(monkeypatch):
    from skvoice.neural_network._base import torch_threads

    before = torch.get_num_threads()
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    with torch_threads():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_speaker_objective_sums_speaker_posteriors():
    X, y = _toy(30)
    groups = np.array([f"spk{i % 6}" for i in range(30)])  # spk0, 2, 4 are class 0
    clf = CNNClassifier(**TINY, backend="posterior").fit(X, y, groups=groups)
    assert clf.objective_ == "speakers"
    assert clf.speakers_.tolist() == [f"spk{i}" for i in range(6)]
    assert clf.speaker_class_.tolist() == [0, 1, 0, 1, 0, 1]
    assert clf.net_.module_.head.out_features == 6
    module = clf.net_.module_.eval()
    windows, _ = sliding_windows([torch.from_numpy(X[0])[None]], 16, 8)
    with torch.no_grad():
        logp = torch.log_softmax(module(windows), dim=1).mean(dim=0).double()
    post = torch.softmax(logp, dim=0).numpy()
    expected = [post[[0, 2, 4]].sum(), post[[1, 3, 5]].sum()]
    np.testing.assert_allclose(clf.predict_proba([X[0]])[0], expected, atol=1e-6)


def test_objective_choices():
    X, y = _toy(20)
    with pytest.raises(ValueError, match="needs groups"):
        CNNClassifier(**{**TINY, "objective": "speakers"}).fit(X, y)
    groups = np.repeat(np.arange(5), 4)  # speakers with both classes
    assert CNNClassifier(**TINY).fit(X, y, groups=groups).objective_ == "binary"
    with pytest.raises(ValueError, match="several classes"):
        CNNClassifier(**{**TINY, "objective": "speakers"}).fit(X, y, groups=groups)
    spk = np.arange(20) % 4
    clf = CNNClassifier(**{**TINY, "objective": "binary"}).fit(X, y, groups=spk)
    assert clf.objective_ == "binary" and not hasattr(clf, "speakers_")


def _speakers_toy(n_speakers=6, per=5, bins=12, seed=0):
    """Each speaker has its own spectral profile; speakers 0 and 1 are allowed."""
    rng = np.random.default_rng(seed)
    profiles = rng.normal(0, 1.5, size=(n_speakers, bins, 1)).astype(np.float32)
    X, y, spk = [], [], []
    for s in range(n_speakers):
        for _ in range(per):
            t = int(rng.integers(20, 50))
            X.append(profiles[s] + rng.standard_normal((bins, t)).astype(np.float32))
            y.append(int(s < 2))
            spk.append(f"s{s}")
    return X, np.array(y), np.array(spk)


def test_cosine_backend_scores_embeddings_against_allowed_centroids():
    from skvoice.verification import EnrollmentVerifier

    X, y, spk = _speakers_toy()
    clf = CNNClassifier(**TINY, backend="cosine").fit(X, y, groups=spk)
    assert sorted(clf.verifier_.enrolled_) == ["s0", "s1"]
    # Reference: embed each recording by hand (mean over its sliding windows).
    module = clf.net_.module_.eval()
    with torch.no_grad():
        emb = []
        for x in X:
            w, _ = sliding_windows([torch.as_tensor(x)[None]], TINY["crop_frames"], 8)
            emb.append(module.embed(w).mean(0).double().numpy())
    emb = np.array(emb)
    np.testing.assert_allclose(clf.embed(X), emb, rtol=1e-5, atol=1e-6)
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    ref = EnrollmentVerifier(score_norm=None, center=True).fit(unit, y, groups=spk)
    np.testing.assert_allclose(clf.decision_function(X), ref.decision_function(unit), atol=1e-4)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(
        np.log(proba[:, 1] / proba[:, 0]), clf.decision_function(X), rtol=1e-6, atol=1e-6
    )
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), proba)


def test_cosine_backend_is_the_embedder_and_verifier_path():
    """One cosine path: the network's own scoring equals SpeakerEmbedder + EnrollmentVerifier."""
    from sklearn.pipeline import make_pipeline

    from skvoice.neural_network import SpeakerEmbedder
    from skvoice.verification import EnrollmentVerifier

    X, y, spk = _speakers_toy()
    clf = CNNClassifier(**TINY, backend="cosine").fit(X, y, groups=spk)
    pipe = make_pipeline(SpeakerEmbedder(clf, reuse_fitted=True), EnrollmentVerifier())
    pipe.fit(X, y, speakerembedder__groups=spk, enrollmentverifier__groups=spk)
    np.testing.assert_allclose(pipe.decision_function(X), clf.decision_function(X), atol=1e-9)
    np.testing.assert_allclose(pipe.predict_proba(X), clf.predict_proba(X), atol=1e-12)
    # The same scorer object type serves both.
    assert type(clf.scorer_) is type(pipe[-1].scorer_)


def test_public_network_interface_matches_predictions():
    """embed / window_log_proba / trunk are what the scorer reads."""
    X, y, spk = _speakers_toy()
    clf = CNNClassifier(**TINY, backend="posterior").fit(X, y, groups=spk)
    logp = clf.window_log_proba(X)
    assert logp.shape == (len(X), len(clf.speakers_))
    np.testing.assert_allclose(np.exp(logp).sum(axis=1), 1.0)
    # Summing the speakers' posteriors per class gives predict_proba.
    allowed = clf.speaker_class_ == 1
    by_hand = np.exp(logp[:, allowed]).sum(axis=1)
    np.testing.assert_allclose(clf.predict_proba(X)[:, 1], by_hand, rtol=1e-6)
    assert clf.embed(X).shape == (len(X), TINY["module__embedding_dim"])
    assert clf.trunk is clf.net_.module_
    with pytest.raises(NotFittedError):
        CNNClassifier().embed(X)


def test_cosine_backend_needs_speakers_and_mc_dropout_follows_it():
    from skvoice.uncertainty import MCDropoutClassifier

    X, y, spk = _speakers_toy()
    with pytest.raises(ValueError, match="speaker objective"):
        CNNClassifier(**TINY, backend="cosine").fit(X, y)
    # MC dropout samples the embedding the cosine is computed on: without dropout
    # trained in the trunk, its channel dropout is switched on for the passes
    # (never the head's dropout, which the embedding does not go through).
    mc = MCDropoutClassifier(CNNClassifier(**TINY, backend="cosine"), n_passes=3)
    mc.fit(X, y, groups=spk)
    assert mc.sampled_dropout_ and all(k.startswith("blocks.") for k in mc.sampled_dropout_)
    with _keep_all_masks():  # then every pass is the network's own cosine decision
        # (to float32 rounding: after the first block the passes run as one batch)
        proba = mc.predict_proba(X)
        np.testing.assert_allclose(proba, mc.estimator_.predict_proba(X), atol=1e-6)


@contextlib.contextmanager
def _keep_all_masks():
    """MC dropout's sampled layers keep every unit: each pass is the plain network."""
    from skvoice.uncertainty import _mc

    sampled = _mc._SampledDropout.__init__
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_mc._SampledDropout, "__init__", lambda self, p, *a: sampled(self, 0.0, *a))
        yield


def test_auto_backend_is_cosine_with_speakers_and_posterior_otherwise():
    from skvoice.uncertainty import MCDropoutClassifier

    X, y, spk = _speakers_toy()
    with_speakers = CNNClassifier(**TINY).fit(X, y, groups=spk)
    assert with_speakers.backend_ == "cosine" and hasattr(with_speakers, "verifier_")
    without = CNNClassifier(**TINY).fit(X, y)
    assert without.backend_ == "posterior" and not hasattr(without, "verifier_")
    posterior = CNNClassifier(**TINY, backend="posterior").fit(X, y, groups=spk)
    # Same network, other scoring.
    for a, b in zip(with_speakers.net_.module_.parameters(), posterior.net_.module_.parameters()):
        torch.testing.assert_close(a, b)
    # MC dropout scores as the network does: by cosine under "auto" (regression:
    # it used to switch to the posterior), by posterior when asked.
    mc_auto = MCDropoutClassifier(CNNClassifier(**TINY), n_passes=4, random_state=0)
    mc_post = MCDropoutClassifier(
        CNNClassifier(**TINY, backend="posterior"), n_passes=4, random_state=0
    )
    mc_auto.fit(X, y, groups=spk)
    mc_post.fit(X, y, groups=spk)
    with _keep_all_masks():
        cosine_p = mc_auto.predict_proba(X)
        np.testing.assert_allclose(cosine_p, mc_auto.estimator_.predict_proba(X), atol=1e-6)
        assert not np.allclose(cosine_p, mc_post.predict_proba(X))


def test_fitted_network_is_left_in_evaluation_mode():
    # Regression: skorch leaves the module in training mode after fit, so code that
    # saves and restores the mode (inspection) restored training mode.
    X, y = _toy()
    clf = CNNClassifier(**TINY).fit(X, y)
    assert not clf.net_.module_.training


def test_warns_when_fit_without_speakers():
    import warnings

    import sklearn
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from skvoice.model_selection import OpenSetGroupKFold
    from skvoice.neural_network import SpeakersNotPassedWarning

    X, y = _toy(16)
    groups = np.array([f"s{i % 8}" for i in range(16)])
    with pytest.warns(SpeakersNotPassedWarning, match="groups=speakers") as record:
        CNNClassifier(**TINY).fit(X, y)
    assert record[0].filename == __file__  # points at the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpeakersNotPassedWarning)
        assert CNNClassifier(**TINY).fit(X, y, groups=groups).objective_ == "speakers"
        CNNClassifier(**TINY, objective="binary").fit(X, y)
        # The documented way: metadata routing takes the speakers to the network.
        with sklearn.config_context(enable_metadata_routing=True):
            pipe = make_pipeline(FunctionTransformer(), CNNClassifier(**TINY))
            cv = OpenSetGroupKFold(2)
            search = GridSearchCV(pipe, {"cnnclassifier__lr": [1e-2]}, cv=cv)
            search.fit(X, y, groups=groups)
    assert search.best_estimator_[-1].objective_ == "speakers"


def test_architecture_is_one_module_parameter_group():
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, y = _toy()
    clf = CNNClassifier(**{**TINY, "module__n_filters": 6})
    assert clf.get_params()["module__n_filters"] == 6
    assert "module__n_filters=6" in repr(clf)
    assert clone(clf).get_params() == clf.get_params()
    clf.fit(X, y)
    assert clf.trunk.blocks.block0.conv.out_channels == 6
    # Arguments not given keep the module's defaults (no mirror in the estimator).
    assert clf.trunk.blocks.block0.conv.kernel_size == (3, 3)
    clf.set_params(module__n_filters=2)
    assert clf.fit(X, y).trunk.blocks.block0.conv.out_channels == 2
    # A search reaches the group through a pipeline.
    pipe = make_pipeline(FunctionTransformer(), CNNClassifier(**TINY))
    search = GridSearchCV(pipe, {"cnnclassifier__module__n_filters": [2, 3]}, cv=2).fit(X, y)
    assert search.best_estimator_[-1].trunk.blocks.block0.conv.out_channels in (2, 3)


def test_unknown_or_renamed_architecture_parameters():
    X, y = _toy()
    with pytest.raises(ValueError, match="module__n_filterz.*n_filters"):
        CNNClassifier(**TINY, module__n_filterz=3).fit(X, y)
    with pytest.raises(ValueError, match="unknown parameter 'colour'"):
        CNNClassifier(**TINY, colour=3).fit(X, y)
    # Regression: the flat names fit (with a FutureWarning) into a model that
    # save_model wrote and load_model refused. Nothing is released: they are gone.
    flat = {k.replace("module__", ""): v for k, v in TINY.items()}
    with pytest.raises(TypeError, match="set as module__n_filters="):
        CNNClassifier(**flat).fit(X, y)
    with pytest.raises(TypeError, match="set as module__embedding_dim="):
        CNNClassifier(**TINY).set_params(embedding_dim=8).fit(X, y)
