"""The skorch net the estimators train with: mixed precision, honest interrupts,
resumable checkpoints."""

import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.utils.class_weight import compute_class_weight
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback, EarlyStopping, EpochScoring
from skorch.helper import predefined_split
from skorch.history import History

from .._io_atomic import atomic_write
from ._base import autocast, torch_threads
from ._pretrained import FreezeTrunk
from ._speaker_validation import SpeakerVerificationScoring
from ._tracking import LayerRecorder

__all__ = [
    "OPTIMIZERS",
    "class_weights",
    "feature_callbacks",
    "train_net",
    "SkorchNet",
    "build_net",
    "ResumableCheckpoint",
    "ResumableEarlyStopping",
    "fit_fingerprint",
]

#: 2: the callbacks' states (layer history, early stopping) are kept too.
CHECKPOINT_VERSION = 2


class SkorchNet(NeuralNetClassifier):
    """skorch's ``NeuralNetClassifier`` with two changes.

    - ``amp=True`` runs every forward pass under bfloat16 autocast.
    - A KeyboardInterrupt that is not skorch's own early stopping is remembered in
      ``interrupted_`` (skorch swallows it and ends training as if complete); the
      estimator re-raises it, so an interrupted fit never passes for a finished one.
    """

    def __init__(self, *args, amp=False, **kwargs):
        self.amp = amp
        super().__init__(*args, **kwargs)

    def infer(self, x, **fit_params):
        with autocast(self.device, self.amp):
            return super().infer(x, **fit_params).float()

    def _stopped_early(self):
        return any(
            isinstance(cb, EarlyStopping) and getattr(cb, "misses_", 0) >= cb.patience
            for _, cb in self.callbacks_
        )

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        self.interrupted_ = False
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt:
            self.interrupted_ = not self._stopped_early()
            raise


class ResumableEarlyStopping(EarlyStopping):
    """skorch's ``EarlyStopping`` whose state survives a checkpoint.

    skorch resets the patience count and the best weights at the start of
    every ``fit`` or ``partial_fit``; restored from a checkpoint, this one
    carries on from the epoch it reached, so a resumed fit stops where the
    uninterrupted one would have.
    """

    _STATE = ("misses_", "dynamic_threshold_", "best_epoch_", "best_model_weights_")

    def state_dict(self):
        return {k: getattr(self, k, None) for k in self._STATE}

    def load_state_dict(self, state):
        for k in self._STATE:
            setattr(self, k, state[k])
        self._resumed = True

    def on_train_begin(self, net, **kwargs):
        if getattr(self, "_resumed", False):
            self._resumed = False  # a later fit starts afresh
            return
        super().on_train_begin(net, **kwargs)


def fit_fingerprint(estimator, specs, targets, groups):
    """A hash of what determines a fit: parameters and data (shapes, labels, sums)."""
    import joblib

    params = {
        k: v
        for k, v in estimator.get_params(deep=False).items()
        if k not in {"verbose", "callbacks", "checkpoint_dir", "device"}
    }
    data = (
        [tuple(s.shape) for s in specs],
        np.asarray([float(s.double().sum()) for s in specs]),
        np.asarray(targets),
        None if groups is None else np.asarray(groups).astype(str),
    )
    return joblib.hash((type(estimator).__name__, params, data))


def _plain(obj):
    """Numpy scalars to Python ones, so that ``weights_only`` loading accepts them."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _generators(net, extra):
    """The generators a checkpoint holds: ``extra`` and the net's shuffling one."""
    gens = dict(extra or {})
    shuffle = getattr(net, "iterator_train__generator", None)
    if shuffle is not None:
        gens["shuffle"] = shuffle
    return gens


def _rng_state(device):
    state = {"torch": torch.get_rng_state()}
    if str(device).startswith("cuda"):
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


class ResumableCheckpoint(Callback):
    """Save everything needed to resume training after every epoch, atomically.

    The file holds the module and optimiser states, the history, the random
    generators (weights, crops, shuffling) and the state of every callback that
    has one (``state_dict``: the layer history, early stopping's patience count
    and best weights), so a fit resumed from epoch ``k`` continues exactly as
    the uninterrupted fit would have. Written to a temporary
    file then renamed: a kill mid-write leaves the previous checkpoint intact.

    Parameters
    ----------
    path : str or Path
        Checkpoint file.
    generators : dict of str -> torch.Generator
        Extra generators saved and restored with the net's (e.g. the crops').
    """

    def __init__(self, path, generators=None):
        self.path = path
        self.generators = generators

    def _save(self, net, complete):
        path = Path(self.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        gens = _generators(net, self.generators)
        state = {
            "version": CHECKPOINT_VERSION,
            "epoch": len(net.history),
            "complete": complete,
            "module": net.module_.state_dict(),
            "optimizer": net.optimizer_.state_dict(),
            "history": _plain(net.history.to_list()),
            "rng": _rng_state(net.device),
            "generators": {k: g.get_state() for k, g in gens.items()},
            "callbacks": {
                name: _plain(cb.state_dict())
                for name, cb in net.callbacks_
                if hasattr(cb, "state_dict")
            },
        }
        with atomic_write(path) as fh:
            torch.save(state, fh)

    def on_epoch_end(self, net, **kwargs):
        self._save(net, complete=False)

    def on_train_end(self, net, **kwargs):
        if not getattr(net, "interrupted_", False):
            self._save(net, complete=True)


def load_checkpoint(path):
    """The saved state at ``path``, or None if there is none or it is unreadable."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated or foreign file: start afresh
        warnings.warn(f"Checkpoint {path} is unreadable ({exc}); training from the start.")
        return None
    if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION:
        warnings.warn(f"Checkpoint {path} has another format; training from the start.")
        return None
    return state


def restore(net, state, generators=None):
    """Load ``state`` into an initialised ``net`` and the given generators."""
    net.module_.load_state_dict(state["module"])
    net.optimizer_.load_state_dict(state["optimizer"])
    net.history = History(state["history"])
    torch.set_rng_state(state["rng"]["torch"])
    if "cuda" in state["rng"] and str(net.device).startswith("cuda"):
        torch.cuda.set_rng_state(state["rng"]["cuda"], net.device)
    for name, gen in _generators(net, generators).items():
        if name in state["generators"]:
            gen.set_state(state["generators"][name])
    for name, cb in net.callbacks_:
        if name in state["callbacks"] and hasattr(cb, "load_state_dict"):
            cb.load_state_dict(state["callbacks"][name])


_ANSI = __import__("re").compile(r"\x1b\[[0-9;]*m")


def plain_print(text, file=None):
    """``print`` without ANSI colour codes when the output is not a terminal.

    skorch's epoch log colours the best scores; in a log file or a pipe those
    codes are noise, so they are stripped there.
    """
    import sys

    out = sys.stdout if file is None else file
    isatty = getattr(out, "isatty", None)
    print(text if (isatty is not None and isatty()) else _ANSI.sub("", text), file=out)


OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}


def build_net(estimator, module, criterion_kwargs, train_valid, seed, n_outputs, extra=()):
    """The skorch ``NeuralNet`` that trains ``module`` (shared by the estimators).

    ``extra`` callbacks run after the built-in ones and before the user's, so a
    checkpoint is written before a user callback can stop the epoch.
    """
    train, valid = train_valid
    callbacks = [
        (
            "train_acc",
            EpochScoring("accuracy", on_train=True, name="train_acc", lower_is_better=False),
        )
    ]
    if isinstance(valid, SpeakerVerificationScoring):
        # Held-out speakers: stop on their verification EER, not on a loss.
        callbacks.append(("valid_eer", valid))
        stop = ResumableEarlyStopping(
            monitor="valid_eer",
            lower_is_better=True,
            patience=estimator.patience,
            load_best=True,
        )
        callbacks.append(("early_stopping", stop))
        valid = None
    elif valid is not None:
        callbacks.append(
            ("early_stopping", ResumableEarlyStopping(patience=estimator.patience, load_best=True))
        )
    callbacks += list(extra) + list(estimator.callbacks or [])
    optimizer = OPTIMIZERS[estimator.optimizer]
    kwargs = {}
    if estimator.verbose:
        # skorch's epoch log, without colour codes when the output is not a
        # terminal. (skorch calls a sink other than print whatever the verbosity,
        # so it is set only when the log is wanted.)
        kwargs["callbacks__print_log__sink"] = plain_print
    if estimator.optimizer == "sgd":
        kwargs["optimizer__momentum"] = 0.9
    return SkorchNet(
        module,
        amp=getattr(estimator, "amp", False),
        criterion=getattr(estimator, "_criterion", torch.nn.CrossEntropyLoss),
        optimizer=optimizer,
        lr=estimator.lr,
        optimizer__weight_decay=estimator.weight_decay,
        max_epochs=estimator.max_epochs,
        batch_size=estimator.batch_size,
        train_split=None if valid is None else predefined_split(valid),
        callbacks=callbacks,
        classes=list(range(n_outputs)),
        device=estimator.device_,
        verbose=estimator.verbose,
        iterator_train__shuffle=True,
        iterator_train__generator=torch.Generator().manual_seed(seed),
        **{f"criterion__{k}": v for k, v in criterion_kwargs.items()},
        **kwargs,
    )


def feature_callbacks(estimator, specs, targets, groups, train_valid):
    """The skorch callbacks of the training features the estimator's parameters ask for.

    Layer recording (``track_layers``), the frozen trunk (``freeze_epochs``) and
    checkpointing (``checkpoint_dir``); early stopping is added with the
    validation data by :func:`build_net`. Returns the callbacks, the extra
    generators a checkpoint keeps, and the checkpoint to resume from (None).
    """
    extra, gens, state = [], None, None
    if estimator.track_layers is not False:
        extra.append(("layer_recorder", LayerRecorder(estimator.track_layers)))
    if estimator.freeze_epochs:
        extra.append(("freeze_trunk", FreezeTrunk(estimator.freeze_epochs)))
    if estimator.checkpoint_dir is not None:
        name = f"cnn-{fit_fingerprint(estimator, specs, targets, groups)}.pt"
        path = Path(estimator.checkpoint_dir) / name
        gens = {"crops": train_valid[0].generator}
        extra.append(("resumable_checkpoint", ResumableCheckpoint(path, gens)))
        state = load_checkpoint(path)
    return extra, gens, state


def class_weights(class_weight, classes, y, targets_fit, by_speaker):
    """The loss's class weights, as skorch criterion arguments (``class_weight``).

    With the speaker objective (``by_speaker``) every speaker counts the same,
    whatever their number of recordings.
    """
    if class_weight is None:
        return {}
    if by_speaker:
        w = compute_class_weight("balanced", classes=np.unique(targets_fit), y=targets_fit)
    else:
        w = compute_class_weight(class_weight, classes=classes, y=y)
    return {"weight": torch.as_tensor(w, dtype=torch.float32)}


def train_net(estimator, module_fn, trunk, criterion_kwargs, data, seed, n_outputs, on_built):
    """Build the module, train it with skorch and return the fitted net.

    Parameters
    ----------
    estimator : CNNClassifier
        Its parameters say how to train (read only).
    module_fn : callable
        ``module_fn(n_outputs)`` builds the torch module.
    trunk : dict or None
        Pretrained weights of all but the head.
    criterion_kwargs : dict
        Arguments of the loss (:func:`class_weights`).
    data : tuple
        ``(specs, targets, groups, train_valid)``: the validated spectrograms,
        their targets and speakers (for the checkpoint's name) and the training
        and validation data.
    seed : int
        Seed of the weights and of the shuffling.
    n_outputs : int
        Outputs of the head.
    on_built : callable
        ``on_built(net)`` before training starts: the estimator keeps the net
        (its callbacks, such as early stopping's verification scoring, embed
        through the estimator while it trains).

    Returns
    -------
    net : SkorchNet
        Trained, in evaluation mode. A checkpoint that matches resumes; an
        interrupted training is re-raised (skorch would end it quietly, and a
        half-trained model must not be scored or saved as if finished).
    """
    specs, targets, groups, train_valid = data
    extra, gens, state = feature_callbacks(estimator, specs, targets, groups, train_valid)
    with torch_threads(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = module_fn(n_outputs)
        if trunk is not None:
            module.load_state_dict(trunk, strict=False)  # all but the head
        net = build_net(estimator, module, criterion_kwargs, train_valid, seed, n_outputs, extra)
        on_built(net)
        if state is None:
            net.fit(train_valid[0], y=None)
        else:
            net.initialize()
            restore(net, state, gens)  # callbacks' states too
            remaining = estimator.max_epochs - state["epoch"]
            if not state["complete"] and remaining > 0:
                net.partial_fit(train_valid[0], y=None, epochs=remaining)
    if getattr(net, "interrupted_", False):
        raise KeyboardInterrupt(f"{type(estimator).__name__}.fit was interrupted.")
    net.module_.eval()  # a fitted network predicts; training mode ends with fit
    return net
