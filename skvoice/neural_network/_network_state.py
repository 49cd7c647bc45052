"""CNNClassifier's persisted state: its record in a model file, and its restoration.

See ``skvoice._state`` for the contract. The record holds what ``fit`` learnt
besides the weights (classes, speakers, scoring, operating point, the cosine
enrolment, novelty statistics); the weights travel as tensors and are checked
against the architecture the parameters declare before anything is built.
"""

import math
from numbers import Real

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from .._labels import known_allowed_label
from .._state import StateError, is_int, is_matrix, is_vector, jsonable, label_list, require
from ..decisions import EnrollmentVerifier
from ._base import resolve_device
from ._training import build_net

__all__ = ["NetworkStateMixin"]

_MAX_OUTPUTS = 1_000_000
_MAX_BINS = 100_000


def _check_record(info):
    """Types, ranges and mutual consistency of a network record."""
    require(isinstance(info, dict), "no network record")
    classes = info.get("classes_")
    require(label_list(classes), "classes_ must list two or more distinct labels")
    require(is_int(info.get("n_features_in_"), 1, _MAX_BINS), "bad n_features_in_")
    require(is_int(info.get("n_channels_in_"), 1, 64), "bad n_channels_in_")
    require(info.get("objective_") in ("speakers", "binary"), "bad objective_")
    n_out = info.get("n_outputs")
    require(is_int(n_out, 2, _MAX_OUTPUTS), "bad n_outputs")
    if info["objective_"] == "speakers":
        speakers, spk_class = info.get("speakers_"), info.get("speaker_class_")
        require(
            isinstance(speakers, list) and len(speakers) == n_out,
            "speakers_ must name every network output",
        )
        require(
            isinstance(spk_class, list)
            and len(spk_class) == n_out
            and all(is_int(c, 0, len(classes) - 1) for c in spk_class),
            "speaker_class_ must give a class index per speaker",
        )
    else:
        require(n_out == len(classes), "n_outputs must equal the number of classes")
    require(info.get("backend_") in ("posterior", "cosine"), "bad backend_")
    if info["backend_"] == "cosine":
        require(
            len(classes) == 2 and info["objective_"] == "speakers" and "verifier_" in info,
            "cosine scoring needs two classes, the speaker objective and a verifier",
        )
    pos = info.get("pos_label_")
    require(pos is None or pos in classes, "pos_label_ is not one of classes_")
    require(len(classes) == 2 or pos is None, "pos_label_ with more than two classes")
    thr = info.get("threshold_")
    require(isinstance(thr, Real) and not math.isnan(thr) and thr != math.inf, "bad threshold_")
    cal = info.get("calibration_")
    require(cal is None or (is_vector(cal, 2) and cal[0] > 0), "bad calibration_")


def _checked_weights(net, info, tensors):
    """The state dict, checked against the shapes the parameters declare."""
    require(
        isinstance(tensors, dict)
        and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in tensors.items()),
        "the weights are not a state dict",
    )
    expected = {k: shape for k, (shape, _) in net._declared_tensors(info).items()}
    got = {k: tuple(v.shape) for k, v in tensors.items()}
    if expected != got:
        diff = sorted(k for k in set(expected) | set(got) if expected.get(k) != got.get(k))
        raise StateError(f"the weights do not fit the declared network ({diff[:3]})")
    bad = [k for k, v in tensors.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    require(not bad, f"non-finite weights in {bad[:3]}")
    return tensors


def _allowed_label(net, info):
    """``pos_label_`` as ``fit`` decides it: the parameter, else what the labels say.

    The record's value must agree. A record naming an allowed label that
    neither the parameter nor the labels give (a file written when a plain
    classifier took ``classes_[1]``) keeps none: nothing decides access with it.
    """
    classes, pos = info["classes_"], info["pos_label_"]
    if len(classes) != 2:
        return None
    if net.pos_label is None:
        known = known_allowed_label(net.classes_)
        if known is None:
            require(info["backend_"] == "posterior", "cosine scoring without an allowed label")
            return None
        require(pos is None or pos == known, "pos_label_ is not the allowed label 1")
        return known
    require(pos == net.pos_label, "pos_label_ differs from the pos_label parameter")
    return net.classes_[classes.index(pos)]


class NetworkStateMixin:
    """What a fitted :class:`CNNClassifier` writes to a model file, and reads back.

    The estimator restores its own fitted attributes (see ``skvoice._state`` for
    the contract): the record's values are checked for type, range and
    consistency, and the weights against the architecture the parameters
    declare, before anything is built.
    """

    def _get_fitted_state(self):
        """``(record, tensors)`` of the fitted network, for a model file."""
        check_is_fitted(self)
        record = {
            "classes_": jsonable(self.classes_),
            "n_features_in_": int(self.n_features_in_),
            "n_channels_in_": int(self.n_channels_in_),
            "objective_": self.objective_,
            "n_outputs": int(self.trunk.head.out_features),
            "backend_": self.backend_,
            "pos_label_": jsonable(self.pos_label_),
            "threshold_": float(self.threshold_),
            "calibration_": jsonable(self.calibration_),
        }
        if self.objective_ == "speakers":
            record["speakers_"] = jsonable(self.speakers_)
            record["speaker_class_"] = jsonable(self.speaker_class_)
        if self.backend_ == "cosine":
            record["verifier_"] = {
                "params": self.verifier_.get_params(),
                "state": self.verifier_._get_fitted_state()[0],
            }
        record["novelty"] = {
            "embedding_mean_": jsonable(self.embedding_mean_),
            "speaker_centroids_": jsonable(self.speaker_centroids_),
            "whitening_": jsonable(self.whitening_),
            "novelty_threshold_": self.novelty_threshold_,
        }
        tensors = {k: v.detach().cpu() for k, v in self.trunk.state_dict().items()}
        return record, tensors

    def _declared_tensors(self, info):
        """``{name: (shape, dtype)}`` of the weights a record and the parameters declare.

        The architecture is built on the meta device: no memory, whatever it
        declares. The loader bounds what it reads of a file by this.
        """
        _check_record(info)
        with torch.device("meta"):
            module = self._module_class(
                n_bins=info["n_features_in_"],
                n_classes=info["n_outputs"],
                n_channels=info["n_channels_in_"],
                **self._module_params(),
            )
        return {k: (tuple(v.shape), v.dtype) for k, v in module.state_dict().items()}

    def _set_novelty_state(self, state):
        """The training statistics of ``novelty_score``, checked against the network's width."""
        dim = self._module_params()["embedding_dim"]
        require(isinstance(state, dict), "bad novelty record")
        require(is_vector(state.get("embedding_mean_"), dim), "bad embedding_mean_")
        centroids = state.get("speaker_centroids_")
        require(
            is_matrix(centroids, dim, _MAX_OUTPUTS) and len(centroids) >= 1,
            "bad speaker_centroids_",
        )
        whitening = state.get("whitening_")
        require(is_matrix(whitening, dim, dim) and len(whitening) == dim, "bad whitening_")
        self.embedding_mean_ = np.asarray(state["embedding_mean_"], dtype=np.float64)
        self.speaker_centroids_ = np.asarray(centroids, dtype=np.float64)
        self.whitening_ = np.asarray(whitening, dtype=np.float64)
        threshold = state.get("novelty_threshold_")
        require(threshold is None or is_vector([threshold], 1), "bad novelty_threshold_")
        self.novelty_threshold_ = None if threshold is None else float(threshold)

    def _set_fitted_state(self, info, tensors):
        """Set the fitted state from a record and weights that :meth:`_get_fitted_state` wrote."""
        _check_record(info)
        self.device_ = resolve_device("cpu")
        self.classes_ = np.asarray(info["classes_"])
        self.n_features_in_ = info["n_features_in_"]
        self.n_channels_in_ = info["n_channels_in_"]
        self.objective_ = info["objective_"]
        if self.objective_ == "speakers":
            self.speakers_ = np.asarray(info["speakers_"]).astype(str)
            self.speaker_class_ = np.asarray(info["speaker_class_"], dtype=int)
        self.backend_ = info["backend_"]
        self.pos_label_ = _allowed_label(self, info)
        self.threshold_ = float(info["threshold_"])
        cal = info["calibration_"]
        self.calibration_ = None if cal is None else (float(cal[0]), float(cal[1]))
        state = _checked_weights(self, info, tensors)
        if self.backend_ == "cosine":
            record = info["verifier_"]
            require(isinstance(record, dict), "bad verifier record")
            params = record.get("params")
            require(isinstance(params, dict), "bad verifier parameters")
            require(
                set(params) <= set(EnrollmentVerifier().get_params()), "bad verifier parameters"
            )
            self.verifier_ = EnrollmentVerifier(**params)
            self.verifier_._set_fitted_state(record.get("state"), {})
            require(
                self.verifier_.n_features_in_ == self._module_params()["embedding_dim"],
                "verifier width differs from the network",
            )
        self._set_novelty_state(info.get("novelty"))
        module = self._build_module(info["n_outputs"])
        self.net_ = build_net(self, module, {}, (None, None), 0, info["n_outputs"])
        self.net_.initialize()  # keeps the module given (skorch re-creates it only with kwargs)
        self.net_.module_.load_state_dict(state)
        self.net_.module_.eval()
        self.history_ = self.net_.history
        self.scorer_ = self._make_scorer()
