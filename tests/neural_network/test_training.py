"""Interruption, resumable checkpoints, mixed precision and device plumbing."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from skvoice.neural_network import CNNClassifier

from .test_cnn import TINY, _toy


class InterruptAt(Callback):
    """Raise KeyboardInterrupt (as Ctrl-C would) at the end of an epoch."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


class EpochCounter(Callback):
    def __init__(self):
        self.epochs = 0

    def on_epoch_end(self, net, **kwargs):
        self.epochs += 1


def test_interrupted_fit_raises_instead_of_returning_a_half_trained_model():
    # Regression: skorch swallows KeyboardInterrupt and returns as if finished.
    X, y = _toy()
    clf = CNNClassifier(**TINY, callbacks=[("stop", InterruptAt(2))])
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert not hasattr(clf, "history_")


def test_early_stopping_is_not_mistaken_for_an_interrupt():
    X, _ = _toy(40)
    # Labels unrelated to the input: the validation loss soon stops improving.
    y = np.random.default_rng(1).permutation(np.arange(40) % 2)
    groups = np.arange(40) // 4
    clf = CNNClassifier(
        **{**TINY, "max_epochs": 40}, early_stopping=True, patience=1, objective="binary"
    )
    clf.fit(X, y, groups=groups)
    assert len(clf.history_) < 40


def test_resumed_fit_equals_uninterrupted_fit(tmp_path):
    X, y = _toy()
    full = CNNClassifier(**TINY).fit(X, y)
    with pytest.raises(KeyboardInterrupt):
        CNNClassifier(**TINY, checkpoint_dir=tmp_path, callbacks=[("s", InterruptAt(2))]).fit(X, y)
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].suffix == ".pt"  # no temporary left behind
    counter = EpochCounter()
    resumed = CNNClassifier(**TINY, checkpoint_dir=tmp_path, callbacks=[("n", counter)])
    resumed.fit(X, y)
    assert counter.epochs == TINY["max_epochs"] - 2  # trained only what was missing
    assert len(resumed.history_) == TINY["max_epochs"]
    np.testing.assert_allclose(
        [h["train_loss"] for h in resumed.history_], [h["train_loss"] for h in full.history_]
    )
    np.testing.assert_array_equal(resumed.predict_proba(X), full.predict_proba(X))


def test_finished_checkpoint_is_loaded_not_retrained(tmp_path, monkeypatch):
    from skvoice.neural_network._training import SkorchNet

    X, y = _toy()
    first = CNNClassifier(**TINY, checkpoint_dir=tmp_path).fit(X, y)

    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(SkorchNet, "fit_loop", no_training)
    again = CNNClassifier(**TINY, checkpoint_dir=tmp_path).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), first.predict_proba(X))
    # Other parameters or other data: another checkpoint file, trained afresh.
    monkeypatch.undo()
    CNNClassifier(**{**TINY, "lr": 3e-3}, checkpoint_dir=tmp_path).fit(X, y)
    CNNClassifier(**TINY, checkpoint_dir=tmp_path).fit(X[:-2], y[:-2])
    assert len(list(tmp_path.glob("*.pt"))) == 3


def test_truncated_checkpoint_starts_afresh(tmp_path):
    X, y = _toy()
    full = CNNClassifier(**TINY).fit(X, y)
    CNNClassifier(**TINY, checkpoint_dir=tmp_path).fit(X, y)
    (path,) = tmp_path.glob("*.pt")
    path.write_bytes(path.read_bytes()[:100])
    with pytest.warns(UserWarning, match="unreadable"):
        again = CNNClassifier(**TINY, checkpoint_dir=tmp_path).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), full.predict_proba(X))


def test_mixed_precision_runs_in_bfloat16_and_stays_close():
    X, y = _toy()
    ref = CNNClassifier(**TINY).fit(X, y)
    amp = CNNClassifier(**TINY, amp=True).fit(X, y)
    seen = []
    conv = amp.net_.module_.blocks[0].conv if hasattr(amp.net_.module_, "blocks") else None
    module = conv or next(m for m in amp.net_.module_.modules() if isinstance(m, torch.nn.Conv2d))
    handle = module.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    proba = amp.predict_proba(X)
    handle.remove()
    assert seen and all(d == torch.bfloat16 for d in seen)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # bfloat16 has 8 bits of mantissa: close to float32 training, not equal.
    assert np.abs(proba - ref.predict_proba(X)).max() < 0.05


def test_cuda_asked_without_cuda_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    X, y = _toy()
    with pytest.raises(ValueError, match="CUDA is not available"):
        CNNClassifier(**TINY, device="cuda").fit(X, y)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("amp", [False, True])
def test_cuda_training_keeps_data_and_weights_on_the_device(amp):
    X, y = _toy()
    cpu = CNNClassifier(**TINY).fit(X, y)
    gpu = CNNClassifier(**TINY, device="cuda", amp=amp)
    seen = []
    gpu.fit(X, y)
    module = gpu.net_.module_
    assert all(p.device.type == "cuda" for p in module.parameters())
    first_conv = next(m for m in module.modules() if isinstance(m, torch.nn.Conv2d))
    handle = first_conv.register_forward_pre_hook(lambda m, i: seen.append(i[0].device.type))
    proba = gpu.predict_proba(X)
    handle.remove()
    assert set(seen) == {"cuda"}
    # Same seeds, other kernels: close to the CPU fit, not bit-equal.
    assert np.abs(proba - cpu.predict_proba(X)).max() < (0.1 if amp else 0.02)


def test_verbose_log_has_no_colour_codes_outside_a_terminal(capsys):
    # Regression: skorch coloured the best scores with ANSI codes in log files.
    import numpy as np

    from skvoice.neural_network import CNNClassifier

    rng = np.random.default_rng(0)
    X = [rng.standard_normal((8, 16)).astype(np.float32) + k for k in (0, 1) * 4]
    CNNClassifier(
        module__n_filters=4,
        module__n_blocks=1,
        crop_frames=8,
        max_epochs=3,
        objective="binary",
        verbose=1,
    ).fit(X, [0, 1] * 4)
    out = capsys.readouterr().out
    assert "train_loss" in out and "\x1b[" not in out
    # Regression: skorch writes to a sink other than print whatever the verbosity,
    # so the plain sink made every quiet fit print its epoch table.
    CNNClassifier(
        module__n_filters=4,
        module__n_blocks=1,
        crop_frames=8,
        max_epochs=2,
        objective="binary",
        verbose=0,
    ).fit(X, [0, 1] * 4)
    assert capsys.readouterr().out == ""


def test_progress_bars_only_when_asked_and_on_a_terminal(capsys, monkeypatch):
    import sys

    import numpy as np

    from skvoice._progress import show_progress
    from skvoice.preprocessing import SpectrogramExtractor

    X = [np.random.default_rng(0).standard_normal(4000)] * 3
    SpectrogramExtractor().fit_transform(X)
    assert "SpectrogramExtractor" not in capsys.readouterr().err
    # Asked, but standard error is a log or a pipe: no bar, no escape codes.
    with show_progress():
        SpectrogramExtractor().fit_transform(X)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with show_progress():
        SpectrogramExtractor().fit_transform(X)
    assert "SpectrogramExtractor" in capsys.readouterr().err


def _same_layer_history(a, b):
    assert sorted(a) == sorted(b)
    for epoch in a:
        assert sorted(a[epoch]) == sorted(b[epoch])
        for name in a[epoch]:
            torch.testing.assert_close(a[epoch][name], b[epoch][name], rtol=0, atol=0)


def test_resumed_fit_keeps_layer_history_and_early_stopping_state(tmp_path):
    # Regression: a resumed fit lost the layer history recorded before the
    # interruption, and early stopping restarted its patience count and forgot
    # its best weights, so it could stop later than the uninterrupted fit.
    from .test_cnn import _speakers_toy

    X, y, spk = _speakers_toy()
    params = dict(**{**TINY, "max_epochs": 12}, track_layers=True, early_stopping=True, patience=2)
    full = CNNClassifier(**params).fit(X, y, groups=spk)
    stopped = len(full.history_)
    for at in sorted({2, max(2, stopped - 1)}):
        ckpt = tmp_path / f"at{at}"
        with pytest.raises(KeyboardInterrupt):
            CNNClassifier(**params, checkpoint_dir=ckpt, callbacks=[("s", InterruptAt(at))]).fit(
                X, y, groups=spk
            )
        resumed = CNNClassifier(**params, checkpoint_dir=ckpt).fit(X, y, groups=spk)
        assert len(resumed.history_) == stopped
        np.testing.assert_allclose(
            [h["valid_eer"] for h in resumed.history_], [h["valid_eer"] for h in full.history_]
        )
        _same_layer_history(resumed.layer_history_, full.layer_history_)
        np.testing.assert_array_equal(resumed.predict_proba(X), full.predict_proba(X))


def test_finished_checkpoint_keeps_layer_history(tmp_path):
    X, y = _toy()
    first = CNNClassifier(**TINY, track_layers=True, checkpoint_dir=tmp_path).fit(X, y)
    again = CNNClassifier(**TINY, track_layers=True, checkpoint_dir=tmp_path).fit(X, y)
    assert sorted(again.layer_history_) == list(range(TINY["max_epochs"] + 1))
    _same_layer_history(again.layer_history_, first.layer_history_)


def test_early_stopping_state_round_trips():
    from skvoice.neural_network._training import ResumableEarlyStopping

    stop = ResumableEarlyStopping(patience=3)
    stop.misses_, stop.dynamic_threshold_, stop.best_epoch_ = 2, 0.25, 4
    stop.best_model_weights_ = {"w": torch.ones(2)}
    other = ResumableEarlyStopping(patience=3)
    other.load_state_dict(stop.state_dict())
    other.on_train_begin(net=None)  # the resumed fit: nothing reset
    assert (other.misses_, other.dynamic_threshold_, other.best_epoch_) == (2, 0.25, 4)
    other.on_train_begin(net=None)  # a later fit starts afresh (skorch's reset)
    assert other.misses_ == 0 and other.best_model_weights_ is None


def test_resolve_objective_by_hand():
    """The objective from the speakers: one class each -> speakers, else binary."""
    from skvoice.neural_network._objective import resolve_objective

    y = np.array([0, 0, 1, 1, 0, 1])
    spk = np.array(["b", "b", "a", "a", "c", "a"])
    objective, targets, (names, cls) = resolve_objective("auto", y, spk)
    assert objective == "speakers"
    assert names.tolist() == ["a", "b", "c"] and cls.tolist() == [1, 0, 0]
    assert targets.tolist() == [1, 1, 0, 0, 2, 0]
    mixed = np.array(["b", "a", "a", "a", "c", "a"])  # "a" speaks as both classes
    assert resolve_objective("auto", y, mixed) == ("binary", y, None)
    with pytest.raises(ValueError, match=r"\['a'\] have recordings of several classes"):
        resolve_objective("speakers", y, mixed)
    with pytest.raises(ValueError, match="needs groups"):
        resolve_objective("speakers", y, None)
    assert resolve_objective("binary", y, spk)[0] == "binary"


def test_epoch_bar_says_which_fit_it_is(capsys):
    # The CLI's bar restarted for the fit and each cross-fit with no "fit k of N".
    from skvoice.neural_network._epoch_bar import EpochProgressBar, FitCounter
    from tests.decisions.test_operating_point import _tiny_cnn, _tiny_specs

    X, spk = _tiny_specs(n_speakers=6, per=4)
    y = np.isin(spk, ["s0", "s1"]).astype(int)
    fits = FitCounter(3)
    net = _tiny_cnn(target_far=0.2, cv=2)
    net.set_params(max_epochs=1, callbacks=[("progress", EpochProgressBar(fits=fits))])
    net.fit(X, y, groups=spk)
    err = capsys.readouterr().err  # not a terminal: one line per epoch
    assert [f"fit {k} of 3" in err for k in (1, 2, 3)] == [True] * 3
    assert fits.begun == 3
