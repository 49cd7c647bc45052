"""A saved-model format whose loading runs no code from the file and trusts none of it.

A model is a zip archive of three members:

- ``manifest.json``: format name and version, the skvoice version that wrote
  it, the kind of model, each pipeline step's class and parameters, and the
  fitted state: the network's attributes (``kind="network"``, a pipeline ending
  in a CNNClassifier), or the pretrained encoder's name and SHA-256 and the
  verifier's enrolment (``kind="enrolment"``, a pipeline ending in
  SpeakerEmbedder(pretrained=...) and EnrollmentVerifier);
- ``weights.pt``: the network's state dict, read with
  ``torch.load(weights_only=True)`` (empty for an enrolment: the encoder's
  weights ship with skvoice, so the file stays a few kB);
- ``integrity.json``: the SHA-256 of the two others (corruption), and with a
  key an HMAC-SHA256 over them (tampering).

Loading checks, before anything is built: member names (no duplicates, no
extras), member sizes (capped before reading), the digests, the signature, the
manifest's schema, and every declared shape against the weights. Only skvoice's
own estimators can be named in a manifest, ``n_jobs`` and paths never come from
the file, and every failure is a :class:`ModelFormatError`.
"""

import hashlib
import hmac
import io
import json
import math
import os
import warnings
import zipfile
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.pipeline import Pipeline

from . import __version__

__all__ = [
    "save_model",
    "load_model",
    "ModelFormatError",
    "UnsignedModelWarning",
    "FORMAT_VERSION",
]

FORMAT_NAME = "skvoice-model"
#: Version of the layout; it rises with every change. Version 1 files (no
#: integrity member, no operating point) load through :func:`_migrate_v1`;
#: version 2 files (no ``kind``: always a network) load as networks.
FORMAT_VERSION = 3
MEMBERS = ("manifest.json", "weights.pt", "integrity.json")
#: Largest member sizes read, in bytes: a model of the default network is a few
#: MB; these leave room for large networks and many speakers, and bound the
#: memory a hostile file can make the loader take.
MAX_MEMBER_BYTES = {
    "manifest.json": 16 * 2**20,
    "weights.pt": 512 * 2**20,
    "integrity.json": 64 * 2**10,
}
_MAX_OUTPUTS = 1_000_000
_MAX_BINS = 100_000
_KEY_ENV = "SKVOICE_KEY_FILE"


class ModelFormatError(ValueError):
    """A model file is not a readable skvoice model (tampered, truncated, other format)."""


class UnsignedModelWarning(UserWarning):
    """An unsigned model was loaded although a signing key was given."""


def _registry():
    from .neural_network import CNNClassifier, SpeakerEmbedder
    from .preprocessing import (
        ChannelUnion,
        F0Extractor,
        MFCCStatistics,
        Resampler,
        SilenceTrimmer,
        SpectrogramExtractor,
    )
    from .verification import EnrollmentVerifier

    return {
        c.__name__: c
        for c in (
            Resampler,
            SilenceTrimmer,
            SpectrogramExtractor,
            F0Extractor,
            MFCCStatistics,
            ChannelUnion,
            CNNClassifier,
            SpeakerEmbedder,
            EnrollmentVerifier,
        )
    }


def _shipped():
    from .neural_network._pretrained import SHIPPED

    return SHIPPED


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
        "cohort_speakers_": _jsonable(getattr(ver, "cohort_speakers_", [])),
        "calibration": [float(ver.calibrator_.coef_[0, 0]), float(ver.calibrator_.intercept_[0])],
        "pos_label_": _jsonable(ver.pos_label_),
        "threshold_": float(ver.threshold_),
        "calibration_": _jsonable(ver.calibration_),
    }


def _network_state(net):
    fitted = {
        "classes_": _jsonable(net.classes_),
        "n_features_in_": int(net.n_features_in_),
        "n_channels_in_": int(net.n_channels_in_),
        "objective_": net.objective_,
        "n_outputs": int(net.net_.module_.head.out_features),
        "backend_": getattr(net, "backend_", "posterior"),
        "pos_label_": _jsonable(getattr(net, "pos_label_", None)),
        "threshold_": float(getattr(net, "threshold_", 0.0)),
        "calibration_": _jsonable(getattr(net, "calibration_", None)),
    }
    if net.objective_ == "speakers":
        fitted["speakers_"] = _jsonable(net.speakers_)
        fitted["speaker_class_"] = _jsonable(net.speaker_class_)
    if hasattr(net, "verifier_"):
        fitted["verifier_"] = _verifier_state(net.verifier_)
        fitted["unit_input"] = bool(net.scorer_.unit_input)
    if hasattr(net, "whitening_"):
        fitted["novelty"] = {
            "embedding_mean_": _jsonable(net.embedding_mean_),
            "speaker_centroids_": _jsonable(net.speaker_centroids_),
            "whitening_": _jsonable(net.whitening_),
        }
    return fitted


def _digests(members):
    return {name: hashlib.sha256(data).hexdigest() for name, data in sorted(members.items())}


def _signature(key, digests):
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, (bytes, bytearray)) or not key:
        raise TypeError("key must be non-empty bytes or str.")
    message = json.dumps(digests, sort_keys=True).encode("ascii")
    return hmac.new(bytes(key), message, hashlib.sha256).hexdigest()


def save_model(model, path, *, key=None):
    """Save a fitted pipeline of skvoice steps ending in a CNNClassifier.

    The file is written to a temporary name and moved into place, so an
    interrupted save never leaves a half-written model behind. It records the
    SHA-256 of its content, so corruption is detected on loading; with ``key``
    it is also signed (HMAC-SHA256), so that :func:`load_model` given the same
    key refuses a file altered by anyone without the key.

    Parameters
    ----------
    model : Pipeline or CNNClassifier
        Fitted; every step a skvoice estimator.
    path : str or path-like
        Destination file (conventionally ``.skvoice``).
    key : bytes or str, default=None
        Secret signing key (keep it apart from the model files).

    Returns
    -------
    path : str

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skvoice import save_model, load_model
    >>> from skvoice.neural_network import CNNClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = [rng.standard_normal((8, 16)).astype(np.float32) + k for k in (0, 1) * 4]
    >>> net = CNNClassifier(n_filters=4, n_blocks=1, crop_frames=8, max_epochs=1,
    ...                     random_state=0).fit(X, [0, 1] * 4)
    >>> path = save_model(net, os.path.join(tempfile.mkdtemp(), "m.skvoice"), key=b"secret")
    >>> load_model(path, key=b"secret")[-1].classes_.tolist()
    [0, 1]
    """
    from ._io_atomic import atomic_write

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
        if cls == "SpeakerEmbedder":
            params = {"pretrained": params["pretrained"]}  # the network is the encoder
        manifest_steps.append({"name": name, "class": cls, "params": params})
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "skvoice_version": __version__,
        "steps": manifest_steps,
    }
    last = steps[-1][1]
    if type(last).__name__ == "CNNClassifier" and hasattr(last, "net_"):
        manifest["kind"] = "network"
        manifest["network"] = _network_state(last)
        state = {k: v.detach().cpu() for k, v in last.net_.module_.state_dict().items()}
    elif type(last).__name__ == "EnrollmentVerifier" and hasattr(last, "enrolled_"):
        manifest["kind"] = "enrolment"
        manifest["encoder"] = _encoder_record(steps)
        manifest["verifier"] = _verifier_state(last)
        state = {}  # the encoder ships with skvoice
    else:
        raise TypeError(
            "The last step must be a fitted CNNClassifier, or a fitted EnrollmentVerifier "
            "after SpeakerEmbedder(pretrained=...)."
        )
    weights = io.BytesIO()
    torch.save(state, weights)
    members = {
        "manifest.json": json.dumps(manifest, indent=1).encode("utf-8"),
        "weights.pt": weights.getvalue(),
    }
    digests = _digests(members)
    integrity = {
        "sha256": digests,
        "hmac_sha256": None if key is None else _signature(key, digests),
    }
    members["integrity.json"] = json.dumps(integrity, indent=1).encode("ascii")
    path = os.fspath(path)
    with atomic_write(path) as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in MEMBERS:
            zf.writestr(name, members[name])
    return path


def _encoder_record(steps):
    """Name and SHA-256 of the shipped encoder an enrolment pipeline embeds with."""
    embedder = steps[-2][1] if len(steps) >= 2 else None
    if type(embedder).__name__ != "SpeakerEmbedder" or embedder.pretrained is None:
        raise TypeError(
            "An EnrollmentVerifier is saved after SpeakerEmbedder(pretrained=...) only; a "
            "trained embedder's network is saved as a CNNClassifier pipeline."
        )
    name = embedder.pretrained
    if not isinstance(name, str) or name not in _shipped():
        raise TypeError(
            f"Only the encoders that ship with skvoice ({sorted(_shipped())}) can be saved "
            f"by name, not {name!r}: a model file must not point to a file on this machine."
        )
    return {"name": name, "sha256": _shipped()[name]}


def _invalid(path, why):
    return ModelFormatError(f"{path!r} holds an invalid model: {why}")


def _read_members(path):
    """The archive's members as bytes, each size capped before it is read."""
    limit = sum(MAX_MEMBER_BYTES.values()) + 2**20
    if os.path.getsize(path) > limit:
        raise ModelFormatError(f"{path!r} is larger than any skvoice model ({limit} bytes).")
    members = {}
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        names = [info.filename for info in infos]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ModelFormatError(f"{path!r} holds duplicate members {duplicated}.")
        unknown = sorted(set(names) - set(MEMBERS))
        if unknown:
            raise ModelFormatError(f"{path!r} holds unexpected members {unknown}.")
        for info in infos:
            cap = MAX_MEMBER_BYTES[info.filename]
            if info.file_size > cap:
                raise ModelFormatError(
                    f"{path!r}: member {info.filename} declares {info.file_size} bytes, more "
                    f"than the {cap} allowed."
                )
            with zf.open(info) as fh:
                data = fh.read(cap + 1)  # never more than the cap, whatever was declared
            if len(data) > cap:
                raise ModelFormatError(f"{path!r}: member {info.filename} exceeds {cap} bytes.")
            members[info.filename] = data
    for name in ("manifest.json", "weights.pt"):
        if name not in members:
            raise ModelFormatError(f"{path!r} is not a skvoice model: no {name}.")
    return members


def _check_integrity(path, members, version, key, allow_unsigned):
    signed = False
    if version >= 2:
        if "integrity.json" not in members:
            raise ModelFormatError(f"{path!r} has no integrity record.")
        record = json.loads(members["integrity.json"].decode("ascii"))
        if not isinstance(record, dict) or not isinstance(record.get("sha256"), dict):
            raise ModelFormatError(f"{path!r} has a malformed integrity record.")
        digests = _digests({k: members[k] for k in ("manifest.json", "weights.pt")})
        recorded = record["sha256"]
        if not all(
            isinstance(recorded.get(k), str) and hmac.compare_digest(recorded[k], v)
            for k, v in digests.items()
        ):
            raise ModelFormatError(
                f"{path!r} is corrupted: its content does not match its SHA-256."
            )
        signature = record.get("hmac_sha256")
        signed = signature is not None
        if signed and key is not None:
            if not isinstance(signature, str) or not hmac.compare_digest(
                signature, _signature(key, digests)
            ):
                raise ModelFormatError(
                    f"{path!r}: the signature does not match the key; the file was altered "
                    "or signed with another key."
                )
    if key is not None and not signed:
        if not allow_unsigned:
            raise ModelFormatError(
                f"{path!r} is not signed, and a key was given; pass allow_unsigned=True "
                "(--allow-unsigned) to load it anyway."
            )
        warnings.warn(
            f"{path!r} is not signed: its integrity cannot be checked against the key.",
            UnsignedModelWarning,
            stacklevel=3,
        )


def _require(cond, path, why):
    if not cond:
        raise _invalid(path, why)


def _is_int(v, lo, hi):
    return isinstance(v, Integral) and not isinstance(v, bool) and lo <= v <= hi


def _is_vector(v, n):
    return (
        isinstance(v, list)
        and len(v) == n
        and all(isinstance(x, Real) and not isinstance(x, bool) and math.isfinite(x) for x in v)
    )


def _label_list(v):
    return (
        isinstance(v, list)
        and len(v) >= 2
        and all(isinstance(x, (str, Real)) for x in v)
        and len({json.dumps(x) for x in v}) == len(v)
    )


def _check_network(path, info, n_classes_hint=None):
    """The manifest's fitted network: types, ranges and mutual consistency."""
    _require(isinstance(info, dict), path, "no network record")
    classes = info.get("classes_")
    _require(_label_list(classes), path, "classes_ must list two or more distinct labels")
    _require(_is_int(info.get("n_features_in_"), 1, _MAX_BINS), path, "bad n_features_in_")
    _require(_is_int(info.get("n_channels_in_"), 1, 64), path, "bad n_channels_in_")
    _require(info.get("objective_") in ("speakers", "binary"), path, "bad objective_")
    n_out = info.get("n_outputs")
    _require(_is_int(n_out, 2, _MAX_OUTPUTS), path, "bad n_outputs")
    if info["objective_"] == "speakers":
        speakers, spk_class = info.get("speakers_"), info.get("speaker_class_")
        _require(
            isinstance(speakers, list) and len(speakers) == n_out,
            path,
            "speakers_ must name every network output",
        )
        _require(
            isinstance(spk_class, list)
            and len(spk_class) == n_out
            and all(_is_int(c, 0, len(classes) - 1) for c in spk_class),
            path,
            "speaker_class_ must give a class index per speaker",
        )
    else:
        _require(n_out == len(classes), path, "n_outputs must equal the number of classes")
    _require(info.get("backend_") in ("posterior", "cosine"), path, "bad backend_")
    if info["backend_"] == "cosine":
        _require(
            len(classes) == 2 and info["objective_"] == "speakers" and "verifier_" in info,
            path,
            "cosine scoring needs two classes, the speaker objective and a verifier",
        )
    pos = info.get("pos_label_")
    _require(pos is None or pos in classes, path, "pos_label_ is not one of classes_")
    _require(len(classes) > 2 or pos is not None, path, "no pos_label_ for two classes")
    thr = info.get("threshold_")
    _require(
        isinstance(thr, Real) and not math.isnan(thr) and thr != math.inf, path, "bad threshold_"
    )
    cal = info.get("calibration_")
    _require(cal is None or (_is_vector(cal, 2) and cal[0] > 0), path, "bad calibration_")


def _verifier_from_state(path, state, dim):
    from sklearn.linear_model import LogisticRegression

    from .verification import EnrollmentVerifier

    _require(isinstance(state, dict), path, "bad verifier record")
    params = state.get("params")
    _require(isinstance(params, dict), path, "bad verifier parameters")
    ver = EnrollmentVerifier(**params)
    ver._validate_params()
    _require(_label_list(state.get("classes_")), path, "bad verifier classes_")
    _require(len(state["classes_"]) == 2, path, "verifier classes_ must be two labels")
    _require(state.get("n_features_in_") == dim, path, "verifier width differs from the network")
    _require(_is_vector(state.get("mean_"), dim), path, "bad verifier mean_")
    enrolled = state.get("enrolled_")
    _require(
        isinstance(enrolled, dict) and all(_is_vector(v, dim) for v in enrolled.values()),
        path,
        "bad enrolled_",
    )
    cohort = state.get("cohort_")
    _require(
        isinstance(cohort, list) and all(_is_vector(v, dim) for v in cohort), path, "bad cohort_"
    )
    _require(_is_vector(state.get("calibration"), 2), path, "bad verifier calibration")
    ver.classes_ = np.asarray(state["classes_"])
    pos = state.get("pos_label_", state["classes_"][1])
    _require(pos in state["classes_"], path, "verifier pos_label_ is not one of its classes")
    ver.pos_label_ = ver.classes_[state["classes_"].index(pos)]
    thr = state.get("threshold_", 0.0)
    _require(isinstance(thr, Real) and not math.isnan(thr), path, "bad verifier threshold_")
    ver.threshold_ = float(thr)
    cal = state.get("calibration_")
    _require(cal is None or _is_vector(cal, 2), path, "bad verifier calibration_")
    ver.calibration_ = None if cal is None else (float(cal[0]), float(cal[1]))
    ver.n_features_in_ = dim
    ver.mean_ = np.asarray(state["mean_"], dtype=np.float64)
    ver.enrolled_ = {str(k): np.asarray(v, dtype=np.float64) for k, v in enrolled.items()}
    ver.cohort_ = np.asarray(cohort, dtype=np.float64).reshape(-1, dim)
    names = state.get("cohort_speakers_", [str(i) for i in range(len(cohort))])
    _require(
        isinstance(names, list)
        and len(names) == len(cohort)
        and all(isinstance(n, str) for n in names),
        path,
        "bad cohort_speakers_",
    )
    ver.cohort_speakers_ = np.asarray(names, dtype=str)
    a, b = state["calibration"]
    ver.calibrator_ = LogisticRegression()
    ver.calibrator_.coef_ = np.array([[a]])
    ver.calibrator_.intercept_ = np.array([b])
    ver.calibrator_.classes_ = np.array([0, 1])
    return ver


def _novelty_from_state(path, net, state):
    """The training statistics of ``novelty_score``, checked against the network's width."""
    dim = net.embedding_dim
    _require(isinstance(state, dict), path, "bad novelty record")
    centroids, whitening = state.get("speaker_centroids_"), state.get("whitening_")
    _require(_is_vector(state.get("embedding_mean_"), dim), path, "bad embedding_mean_")
    _require(
        isinstance(centroids, list)
        and 1 <= len(centroids) <= _MAX_OUTPUTS
        and all(_is_vector(c, dim) for c in centroids),
        path,
        "bad speaker_centroids_",
    )
    _require(
        isinstance(whitening, list)
        and len(whitening) == dim
        and all(_is_vector(r, dim) for r in whitening),
        path,
        "bad whitening_",
    )
    net.embedding_mean_ = np.asarray(state["embedding_mean_"], dtype=np.float64)
    net.speaker_centroids_ = np.asarray(centroids, dtype=np.float64)
    net.whitening_ = np.asarray(whitening, dtype=np.float64)


# Parameters that never come from a file: resources and places on this machine.
_LOCAL_PARAMS = {"n_jobs": None, "checkpoint_dir": None, "device": "cpu", "verbose": 0}


def _build_steps(path, manifest, kind):
    registry = _registry()
    specs = manifest.get("steps")
    _require(isinstance(specs, list) and 1 <= len(specs) <= 32, path, "steps must be a list")
    steps, names = [], set()
    for spec in specs:
        _require(isinstance(spec, dict), path, "a step must be a record")
        name, cls_name, params = spec.get("name"), spec.get("class"), spec.get("params")
        _require(isinstance(name, str) and name and name not in names, path, "bad step name")
        names.add(name)
        if cls_name not in registry or cls_name == "ChannelUnion":
            raise ModelFormatError(f"Unknown step class {cls_name!r} in {path!r}.")
        _require(isinstance(params, dict), path, f"parameters of {name!r} must be a record")
        cls = registry[cls_name]
        allowed = set(cls().get_params(deep=False))
        unknown = sorted(set(params) - allowed)
        _require(not unknown, path, f"unknown parameters {unknown} of {cls_name}")
        params = {**params, **{k: v for k, v in _LOCAL_PARAMS.items() if k in allowed}}
        if params.get("pretrained") not in (None, *_shipped()):
            if cls_name == "SpeakerEmbedder":
                raise _invalid(path, f"{params['pretrained']!r} is not a shipped encoder")
            params["pretrained"] = None  # a path on the writer's machine: used in fit only
        step = cls(**params)
        step._validate_params()
        steps.append((name, step))
    last = "CNNClassifier" if kind == "network" else "EnrollmentVerifier"
    _require(type(steps[-1][1]).__name__ == last, path, f"the last step must be a {last}")
    if kind == "enrolment":
        _require(
            len(steps) >= 2 and type(steps[-2][1]).__name__ == "SpeakerEmbedder",
            path,
            "an enrolment's verifier must follow a SpeakerEmbedder",
        )
    return steps


def _load_weights(path, data, net, n_outputs):
    """The state dict, checked against the shapes the manifest declares."""
    state = torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
    _require(
        isinstance(state, dict)
        and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()),
        path,
        "the weights are not a state dict",
    )
    # The declared architecture, built without memory, before anything real.
    with torch.device("meta"):
        declared = net._build_module(n_outputs).state_dict()
    expected = {k: tuple(v.shape) for k, v in declared.items()}
    got = {k: tuple(v.shape) for k, v in state.items()}
    if expected != got:
        diff = sorted(k for k in set(expected) | set(got) if expected.get(k) != got.get(k))
        raise _invalid(path, f"the weights do not fit the declared network ({diff[:3]})")
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    _require(not bad, path, f"non-finite weights in {bad[:3]}")
    return state


def _migrate_v1(manifest):
    """Format 1 (skvoice 0.x before the operating point): the defaults it implied."""
    info = manifest.get("network")
    if isinstance(info, dict):
        classes = info.get("classes_")
        two = isinstance(classes, list) and len(classes) == 2
        info.setdefault("pos_label_", classes[1] if two else None)
        info.setdefault("threshold_", 0.0)
        info.setdefault("calibration_", None)
        info.setdefault("backend_", "posterior")
    return manifest


def load_model(path, *, key=None, allow_unsigned=False):
    """Load a model saved by :func:`save_model`, trusting nothing in the file.

    Member sizes are capped before they are read, duplicate or unknown members
    are refused, the content is checked against its SHA-256 (and, with
    ``key``, its HMAC signature), and the manifest's values and declared shapes
    are checked against the weights before any network is built. ``n_jobs``,
    paths and the device never come from the file.

    Parameters
    ----------
    path : str or path-like
        Model file.
    key : bytes or str, default=None
        The signing key given to :func:`save_model`. With a key, a file whose
        signature does not match is refused, and so is an unsigned file
        unless ``allow_unsigned``.
    allow_unsigned : bool, default=False
        With ``key``, load an unsigned file anyway, with an
        :class:`UnsignedModelWarning`.

    Returns
    -------
    model : Pipeline
        Ready to ``predict_proba`` (training history is not kept).

    Raises
    ------
    FileNotFoundError
        No such file.
    ModelFormatError
        Any other problem: not a skvoice model, another format version,
        corrupted, tampered, truncated, oversized or inconsistent.

    Examples
    --------
    See :func:`save_model`.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such model file: {path!r}")
    try:
        members = _read_members(path)
        manifest = json.loads(members["manifest.json"].decode("utf-8"))
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
            raise ModelFormatError(f"{path!r} is not a skvoice model file.")
        version = manifest.get("format_version")
        if not _is_int(version, 1, FORMAT_VERSION):
            raise ModelFormatError(
                f"{path!r} uses model format {version!r} (written by skvoice "
                f"{manifest.get('skvoice_version')!r}); this skvoice ({__version__}) reads "
                f"formats 1 to {FORMAT_VERSION}."
            )
        _check_integrity(path, members, version, key, allow_unsigned)
        if version == 1:
            manifest = _migrate_v1(manifest)
        kind = manifest.get("kind", "network") if version >= 3 else "network"
        _require(kind in ("network", "enrolment"), path, f"unknown kind {kind!r}")
        if kind == "network":
            _check_network(path, manifest.get("network"))
        steps = _build_steps(path, manifest, kind)
        for _, step in steps[:-1]:
            if type(step).__name__ == "SpeakerEmbedder":
                continue  # restored with the enrolment
            if hasattr(step, "_check_params"):
                step._check_params()
            if hasattr(step, "_fit"):
                step._fit()
            step.fitted_ = True
        if kind == "network":
            _restore_network(path, manifest["network"], members["weights.pt"], steps[-1][1])
        else:
            _restore_enrolment(path, manifest, members["weights.pt"], steps)
    except (ModelFormatError, MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:  # anything else the file provoked: one clean error
        raise ModelFormatError(
            f"{path!r} is not a readable skvoice model: {type(exc).__name__}: {exc}"
        ) from exc
    return Pipeline(steps)


def _restore_network(path, info, weights, net):
    """Set a CNNClassifier's fitted state from the manifest and the weights."""
    from .neural_network._base import resolve_device
    from .neural_network._cnn import build_net

    net.device_ = resolve_device("cpu")
    net.classes_ = np.asarray(info["classes_"])
    net.n_features_in_ = info["n_features_in_"]
    net.n_channels_in_ = info["n_channels_in_"]
    net.objective_ = info["objective_"]
    if net.objective_ == "speakers":
        net.speakers_ = np.asarray(info["speakers_"]).astype(str)
        net.speaker_class_ = np.asarray(info["speaker_class_"], dtype=int)
    net.backend_ = info["backend_"]
    net.pos_label_ = (
        None
        if info["pos_label_"] is None
        else net.classes_[info["classes_"].index(info["pos_label_"])]
    )
    net.threshold_ = float(info["threshold_"])
    cal = info["calibration_"]
    net.calibration_ = None if cal is None else (float(cal[0]), float(cal[1]))
    state = _load_weights(path, weights, net, info["n_outputs"])
    if "verifier_" in info:
        net.verifier_ = _verifier_from_state(path, info["verifier_"], net.embedding_dim)
    if "novelty" in info:
        _novelty_from_state(path, net, info["novelty"])
    module = net._build_module(info["n_outputs"])
    net.net_ = build_net(net, module, {}, (None, None), 0, info["n_outputs"])
    net.net_.initialize()  # keeps the module given (skorch re-creates it only with kwargs)
    net.net_.module_.load_state_dict(state)
    net.net_.module_.eval()
    net.history_ = net.net_.history
    # Before format 4 the cosine scorer read the embeddings as they came.
    net.scorer_ = net._make_scorer(unit_input=bool(info.get("unit_input", False)))


def _restore_enrolment(path, manifest, weights, steps):
    """Load the shipped encoder the file names, and the verifier's enrolment."""
    from .neural_network._pretrained import PretrainedEncoder

    record = manifest.get("encoder")
    _require(isinstance(record, dict), path, "no encoder record")
    embedder, ver = steps[-2][1], steps[-1][1]
    name, sha = record.get("name"), record.get("sha256")
    _require(name == embedder.pretrained, path, "the encoder record names another encoder")
    if _shipped().get(name) != sha:
        raise ModelFormatError(
            f"{path!r} was enrolled with the encoder {name!r} of SHA-256 {str(sha)[:12]}...; "
            f"this skvoice ({__version__}) ships {str(_shipped().get(name))[:12]}...: the "
            "embeddings would not be comparable. Enrol the users again."
        )
    state = torch.load(io.BytesIO(weights), weights_only=True, map_location="cpu")
    _require(state == {}, path, "an enrolment holds no weights")
    embedder.network_ = PretrainedEncoder(name)
    embedder.n_features_in_ = embedder.network_.n_features_in_
    dim = int(embedder.network_.card_["architecture"]["embedding_dim"])
    restored = _verifier_from_state(path, manifest.get("verifier"), dim)
    ver.__dict__.update({k: v for k, v in vars(restored).items() if k.endswith("_")})
