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

from .._labels import known_allowed_label
from .._state import StateError, is_int, is_matrix, is_vector, jsonable, label_list, require
from ..decisions import EnrollmentVerifier

__all__ = ["declared_tensors", "network_state", "restore_network"]

_MAX_OUTPUTS = 1_000_000
_MAX_BINS = 100_000


def network_state(net):
    """``(record, tensors)`` of a fitted CNNClassifier."""
    record = {
        "classes_": jsonable(net.classes_),
        "n_features_in_": int(net.n_features_in_),
        "n_channels_in_": int(net.n_channels_in_),
        "objective_": net.objective_,
        "n_outputs": int(net.trunk.head.out_features),
        "backend_": net.backend_,
        "pos_label_": jsonable(net.pos_label_),
        "threshold_": float(net.threshold_),
        "calibration_": jsonable(net.calibration_),
    }
    if net.objective_ == "speakers":
        record["speakers_"] = jsonable(net.speakers_)
        record["speaker_class_"] = jsonable(net.speaker_class_)
    if net.backend_ == "cosine":
        record["verifier_"] = {
            "params": net.verifier_.get_params(),
            "state": net.verifier_._get_fitted_state()[0],
        }
    record["novelty"] = {
        "embedding_mean_": jsonable(net.embedding_mean_),
        "speaker_centroids_": jsonable(net.speaker_centroids_),
        "whitening_": jsonable(net.whitening_),
    }
    tensors = {k: v.detach().cpu() for k, v in net.trunk.state_dict().items()}
    return record, tensors


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


def declared_tensors(net, info):
    """``{name: (shape, dtype)}`` of the weights a record and the parameters declare.

    The architecture is built on the meta device: no memory, whatever it
    declares. The loader bounds what it reads of a file by this.
    """
    _check_record(info)
    with torch.device("meta"):
        module = net._module_class(
            n_bins=info["n_features_in_"],
            n_classes=info["n_outputs"],
            n_channels=info["n_channels_in_"],
            **net._module_params(),
        )
    return {k: (tuple(v.shape), v.dtype) for k, v in module.state_dict().items()}


def _checked_weights(net, info, tensors):
    """The state dict, checked against the shapes the parameters declare."""
    require(
        isinstance(tensors, dict)
        and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in tensors.items()),
        "the weights are not a state dict",
    )
    expected = {k: shape for k, (shape, _) in declared_tensors(net, info).items()}
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


def _restore_novelty(net, state):
    """The training statistics of ``novelty_score``, checked against the network's width."""
    dim = net._module_params()["embedding_dim"]
    require(isinstance(state, dict), "bad novelty record")
    require(is_vector(state.get("embedding_mean_"), dim), "bad embedding_mean_")
    centroids = state.get("speaker_centroids_")
    require(
        is_matrix(centroids, dim, _MAX_OUTPUTS) and len(centroids) >= 1, "bad speaker_centroids_"
    )
    whitening = state.get("whitening_")
    require(is_matrix(whitening, dim, dim) and len(whitening) == dim, "bad whitening_")
    net.embedding_mean_ = np.asarray(state["embedding_mean_"], dtype=np.float64)
    net.speaker_centroids_ = np.asarray(centroids, dtype=np.float64)
    net.whitening_ = np.asarray(whitening, dtype=np.float64)


def restore_network(net, info, tensors):
    """Set a CNNClassifier's fitted state from its record and weights."""
    from ._base import resolve_device
    from ._cnn import build_net

    _check_record(info)
    net.device_ = resolve_device("cpu")
    net.classes_ = np.asarray(info["classes_"])
    net.n_features_in_ = info["n_features_in_"]
    net.n_channels_in_ = info["n_channels_in_"]
    net.objective_ = info["objective_"]
    if net.objective_ == "speakers":
        net.speakers_ = np.asarray(info["speakers_"]).astype(str)
        net.speaker_class_ = np.asarray(info["speaker_class_"], dtype=int)
    net.backend_ = info["backend_"]
    net.pos_label_ = _allowed_label(net, info)
    net.threshold_ = float(info["threshold_"])
    cal = info["calibration_"]
    net.calibration_ = None if cal is None else (float(cal[0]), float(cal[1]))
    state = _checked_weights(net, info, tensors)
    if net.backend_ == "cosine":
        record = info["verifier_"]
        require(isinstance(record, dict), "bad verifier record")
        params = record.get("params")
        require(isinstance(params, dict), "bad verifier parameters")
        require(set(params) <= set(EnrollmentVerifier().get_params()), "bad verifier parameters")
        net.verifier_ = EnrollmentVerifier(**params)
        net.verifier_._set_fitted_state(record.get("state"), {})
        require(
            net.verifier_.n_features_in_ == net._module_params()["embedding_dim"],
            "verifier width differs from the network",
        )
    _restore_novelty(net, info.get("novelty"))
    module = net._build_module(info["n_outputs"])
    net.net_ = build_net(net, module, {}, (None, None), 0, info["n_outputs"])
    net.net_.initialize()  # keeps the module given (skorch re-creates it only with kwargs)
    net.net_.module_.load_state_dict(state)
    net.net_.module_.eval()
    net.history_ = net.net_.history
    net.scorer_ = net._make_scorer()
