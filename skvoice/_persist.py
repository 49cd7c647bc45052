"""A saved-model format whose loading runs no code from the file.

A model is a zip archive with ``manifest.json`` (format name and version, the
skvoice version that wrote it, each pipeline step's class and parameters, the
network's fitted attributes) and ``weights.pt`` (the network's state dict, read
with ``torch.load(weights_only=True)``). Only skvoice's own estimators can be
named in a manifest, so a file cannot make the loader build anything else.
"""

import io
import json
import os
import tempfile
import zipfile

import numpy as np
import torch
from sklearn.pipeline import Pipeline

from . import __version__

__all__ = ["save_model", "load_model", "ModelFormatError", "FORMAT_VERSION"]

FORMAT_NAME = "skvoice-model"
FORMAT_VERSION = 1


class ModelFormatError(ValueError):
    """A model file is not a readable skvoice model (tampered, truncated, other format)."""


def _registry():
    from .neural_network import CNNClassifier
    from .preprocessing import (
        ChannelUnion,
        F0Extractor,
        MFCCStatistics,
        SilenceTrimmer,
        SpectrogramExtractor,
    )

    return {
        c.__name__: c
        for c in (
            SilenceTrimmer,
            SpectrogramExtractor,
            F0Extractor,
            MFCCStatistics,
            ChannelUnion,
            CNNClassifier,
        )
    }


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def _verifier_state(ver):
    """The fitted state of an EnrollmentVerifier as JSON-ready values."""
    return {
        "params": ver.get_params(),
        "classes_": _jsonable(ver.classes_),
        "n_features_in_": int(ver.n_features_in_),
        "mean_": _jsonable(ver.mean_),
        "enrolled_": {k: _jsonable(v) for k, v in ver.enrolled_.items()},
        "cohort_": _jsonable(ver.cohort_),
        "calibration": [float(ver.calibrator_.coef_[0, 0]), float(ver.calibrator_.intercept_[0])],
    }


def _verifier_from_state(state):
    from sklearn.linear_model import LogisticRegression

    from .verification import EnrollmentVerifier

    ver = EnrollmentVerifier(**state["params"])
    ver.classes_ = np.asarray(state["classes_"])
    ver.n_features_in_ = int(state["n_features_in_"])
    ver.mean_ = np.asarray(state["mean_"], dtype=np.float64)
    ver.enrolled_ = {k: np.asarray(v, dtype=np.float64) for k, v in state["enrolled_"].items()}
    ver.cohort_ = np.asarray(state["cohort_"], dtype=np.float64).reshape(-1, ver.n_features_in_)
    a, b = state["calibration"]
    ver.calibrator_ = LogisticRegression()
    ver.calibrator_.coef_ = np.array([[a]])
    ver.calibrator_.intercept_ = np.array([b])
    ver.calibrator_.classes_ = np.array([0, 1])
    return ver


def save_model(model, path):
    """Save a fitted pipeline of skvoice steps ending in a CNNClassifier.

    The file is written to a temporary name and moved into place, so an
    interrupted save never leaves a half-written model behind.

    Parameters
    ----------
    model : Pipeline or CNNClassifier
        Fitted; every step a skvoice estimator.
    path : str or path-like
        Destination file (conventionally ``.skvoice``).

    Returns
    -------
    path : str
    """
    steps = model.steps if isinstance(model, Pipeline) else [("cnnclassifier", model)]
    registry = _registry()
    manifest_steps = []
    for name, step in steps:
        cls = type(step).__name__
        if cls not in registry or cls == "ChannelUnion":
            raise TypeError(f"Step {name!r} ({cls}) cannot be saved in the skvoice format.")
        params = {
            k: _jsonable(v) for k, v in step.get_params(deep=False).items() if k != "callbacks"
        }
        manifest_steps.append({"name": name, "class": cls, "params": params})
    net = steps[-1][1]
    if type(net).__name__ != "CNNClassifier" or not hasattr(net, "net_"):
        raise TypeError("The last step must be a fitted CNNClassifier.")
    fitted = {
        "classes_": _jsonable(net.classes_),
        "n_features_in_": int(net.n_features_in_),
        "n_channels_in_": int(net.n_channels_in_),
        "objective_": net.objective_,
        "n_outputs": int(net.net_.module_.head.out_features),
    }
    if net.objective_ == "speakers":
        fitted["speakers_"] = _jsonable(net.speakers_)
        fitted["speaker_class_"] = _jsonable(net.speaker_class_)
    fitted["backend_"] = getattr(net, "backend_", "posterior")
    if hasattr(net, "verifier_"):
        fitted["verifier_"] = _verifier_state(net.verifier_)
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "skvoice_version": __version__,
        "steps": manifest_steps,
        "network": fitted,
    }
    weights = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in net.net_.module_.state_dict().items()}, weights)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".skvoice-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("manifest.json", json.dumps(manifest, indent=1))
            zf.writestr("weights.pt", weights.getvalue())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def _read(path):
    try:
        with zipfile.ZipFile(path) as zf:
            manifest = json.loads(zf.read("manifest.json").decode("utf-8"))
            weights = zf.read("weights.pt")
    except FileNotFoundError:
        raise
    except (
        zipfile.BadZipFile,
        KeyError,
        json.JSONDecodeError,
        UnicodeDecodeError,
        OSError,
        EOFError,
    ) as exc:
        raise ModelFormatError(f"{path!r} is not a readable skvoice model: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ModelFormatError(f"{path!r} is not a skvoice model file.")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFormatError(
            f"{path!r} uses model format {version} (written by skvoice "
            f"{manifest.get('skvoice_version')}); this skvoice ({__version__}) reads format "
            f"{FORMAT_VERSION}."
        )
    return manifest, weights


def load_model(path):
    """Load a model saved by :func:`save_model`.

    Parameters
    ----------
    path : str or path-like
        Model file.

    Returns
    -------
    model : Pipeline
        Ready to ``predict_proba`` (training history is not kept).

    Raises
    ------
    FileNotFoundError
        No such file.
    ModelFormatError
        Not a skvoice model, another format version, tampered or truncated.
    """
    from .neural_network._base import resolve_device
    from .neural_network._cnn import build_net

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such model file: {path!r}")
    manifest, weights = _read(path)
    registry = _registry()
    try:
        steps = []
        for spec in manifest["steps"]:
            if spec["class"] not in registry:
                raise ModelFormatError(f"Unknown step class {spec['class']!r} in {path!r}.")
            steps.append((spec["name"], registry[spec["class"]](**spec["params"])))
        info = manifest["network"]
        state = torch.load(io.BytesIO(weights), weights_only=True, map_location="cpu")
    except ModelFormatError:
        raise
    except Exception as exc:  # bad parameters or weights: a clean message
        raise ModelFormatError(f"{path!r} holds an invalid model: {exc}") from exc
    for _, step in steps[:-1]:
        step._check_params()
        step._fit()
        step.fitted_ = True
    net = steps[-1][1]
    try:
        net.set_params(device="cpu")
        net.device_ = resolve_device("cpu")
        net.classes_ = np.asarray(info["classes_"])
        net.n_features_in_ = info["n_features_in_"]
        net.n_channels_in_ = info["n_channels_in_"]
        net.objective_ = info["objective_"]
        if net.objective_ == "speakers":
            net.speakers_ = np.asarray(info["speakers_"])
            net.speaker_class_ = np.asarray(info["speaker_class_"])
        net.backend_ = info.get("backend_", "posterior")
        if "verifier_" in info:
            net.verifier_ = _verifier_from_state(info["verifier_"])
        module = net._build_module(info["n_outputs"])
        module.load_state_dict(state)
        net.net_ = build_net(net, module, {}, (None, None), 0, info["n_outputs"])
        net.net_.initialize()
        net.net_.module_.load_state_dict(state)
    except Exception as exc:
        raise ModelFormatError(f"{path!r} holds an invalid model: {exc}") from exc
    net.history_ = net.net_.history
    return Pipeline(steps)
