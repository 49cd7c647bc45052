"""A saved-model format whose loading runs no code from the file and trusts none of it.

A model is a zip archive of three members:

- ``manifest.json``: format name and version, the skvoice version that wrote
  it, and each pipeline step's class, parameters (a nested estimator, such as
  a ChannelUnion's transformers, as its class and parameters) and fitted state.
  Each estimator writes and reads its own state (``_get_fitted_state`` /
  ``_set_fitted_state``, see ``skvoice._state``): the loader copies no
  private attribute;
- ``weights.pt``: the steps' tensors by step name (a network's state dict),
  read with ``torch.load(weights_only=True)``; an enrolment with the shipped
  encoder holds none (its weights ship with skvoice, and the file names them
  by SHA-256), so it stays a few kB;
- ``integrity.json``: the SHA-256 of the two others (corruption), and with a
  key an HMAC-SHA256 over them (tampering).

Loading checks, before anything is built: that the path is a regular file
(never a FIFO or a device), the zip directory's size (from its end record,
before it is parsed), member names (no duplicates, no extras, in linear time),
member sizes (capped by what is read), the manifest's digest and the
signature, then the weights, read only up to the bytes of the tensors the
manifest declares, their digest, and torch's archive inside them (no more, no
larger tensors than declared) before ``torch.load``; then the manifest's
schema, and every declared shape against the weights. Only skvoice's
own estimators can be named in a manifest, ``n_jobs`` and paths never come from
the file, and every failure is a :class:`ModelFormatError`.
"""

import collections
import hashlib
import hmac
import io
import json
import math
import os
import struct
import zipfile

import torch
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import validate_params

from . import __version__
from ._state import StateError
from ._warnings import warn_caller
from .io._files import open_regular, read_capped

__all__ = [
    "save_model",
    "load_model",
    "ModelFormatError",
    "UnsignedModelWarning",
    "FORMAT_VERSION",
]

FORMAT_NAME = "skvoice-model"
#: Version of the layout. Only this one is read: files written by development
#: versions before skvoice 0.1.0 (formats 1 to 3) are refused with a clear error.
FORMAT_VERSION = 4
MEMBERS = ("manifest.json", "weights.pt", "integrity.json")
#: Largest member sizes read, in bytes: a model of the default network is a few
#: MB; these leave room for large networks and many speakers, and bound the
#: memory a hostile file can make the loader take.
MAX_MEMBER_BYTES = {
    "manifest.json": 16 * 2**20,
    "weights.pt": 512 * 2**20,
    "integrity.json": 64 * 2**10,
}
KEY_ENV = "SKVOICE_KEY_FILE"


class ModelFormatError(ValueError):
    """A model file is not a readable skvoice model (tampered, truncated, other format)."""


class UnsignedModelWarning(UserWarning):
    """An unsigned model was loaded although a signing key was given."""


def _registry():
    from .decisions import EnrollmentVerifier
    from .neural_network import CNNClassifier, SpeakerEmbedder
    from .preprocessing import (
        ChannelUnion,
        F0Extractor,
        LevelNormalizer,
        MFCCStatistics,
        Resampler,
        SilenceTrimmer,
        SpectrogramExtractor,
    )

    return {
        c.__name__: c
        for c in (
            Resampler,
            SilenceTrimmer,
            LevelNormalizer,
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
    from .neural_network._pretrained import KNOWN_ENCODERS

    return KNOWN_ENCODERS


def _digests(members):
    return {name: hashlib.sha256(data).hexdigest() for name, data in sorted(members.items())}


def _signature(key, digests):
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, (bytes, bytearray)) or not key:
        raise TypeError("key must be non-empty bytes or str.")
    message = json.dumps(digests, sort_keys=True).encode("ascii")
    return hmac.new(bytes(key), message, hashlib.sha256).hexdigest()


@validate_params(
    {"model": "no_validation", "path": [str, os.PathLike], "key": [bytes, str, None]},
    prefer_skip_nested_validation=True,
)
def save_model(model, path, *, key=None):
    """Save a fitted pipeline of skvoice steps ending in a classifier.

    The pipeline ends in a :class:`~skvoice.neural_network.CNNClassifier`, or in
    an :class:`~skvoice.verification.EnrollmentVerifier` (after
    ``SpeakerEmbedder(pretrained=...)``, whose weights the file names by
    SHA-256, or after another skvoice embedding step). Any skvoice
    preprocessing step can come before, ``ChannelUnion`` included.

    The file is written to a temporary name and moved into place, so an
    interrupted save never leaves a half-written model behind. It is readable
    and writable by its owner only (mode 0600, whatever the umask): an
    enrolment holds voice templates, biometric data; ``chmod`` it to share it. It records the
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
        Secret signing key (keep it apart from the model files); not empty.

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
    >>> net = CNNClassifier(module__n_filters=4, module__n_blocks=1, crop_frames=8,
    ...                     max_epochs=1, random_state=0).fit(X, [0, 1] * 4)
    >>> path = save_model(net, os.path.join(tempfile.mkdtemp(), "m.skvoice"), key=b"secret")
    >>> load_model(path, key=b"secret")[-1].classes_.tolist()
    [0, 1]
    """
    from sklearn.exceptions import NotFittedError

    from ._io_atomic import atomic_write

    _check_key(key)

    steps = model.steps if isinstance(model, Pipeline) else [("cnnclassifier", model)]
    last = steps[-1][1]
    if type(last).__name__ not in ("CNNClassifier", "EnrollmentVerifier"):
        raise TypeError(
            "The last step must be a fitted CNNClassifier, or a fitted EnrollmentVerifier "
            "(after SpeakerEmbedder(pretrained=...) or another embedding step)."
        )
    manifest_steps, state = [], {}
    for name, step in steps:
        spec = _describe(step, name)
        try:
            record, tensors = step._get_fitted_state()
        except NotFittedError as exc:
            raise TypeError(f"Step {name!r} is not fitted: {exc}") from None
        spec["state"] = record
        if tensors:
            state[name] = tensors
        manifest_steps.append({"name": name, **spec})
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "skvoice_version": __version__,
        "steps": manifest_steps,
    }
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


def _encode_param(value, where):
    """A parameter as JSON; a nested estimator as its class and parameters."""
    from sklearn.base import BaseEstimator

    from ._state import jsonable

    if isinstance(value, BaseEstimator):
        return {_ESTIMATOR: _describe(value, where)}
    if isinstance(value, (list, tuple)):
        return [_encode_param(v, where) for v in value]
    return jsonable(value)


def _describe(estimator, where):
    """``{"class", "params"}`` of a skvoice estimator (its fitted state aside)."""
    cls = type(estimator).__name__
    if cls not in _registry():
        raise TypeError(f"Step {where!r} ({cls}) cannot be saved in the skvoice format.")
    params = {
        k: _encode_param(None if k in _FIT_DATA_PARAMS else v, f"{where}.{k}")
        for k, v in estimator.get_params(deep=False).items()
        if k != "callbacks"
    }
    return {"class": cls, "params": params}


def _invalid(path, why):
    return ModelFormatError(f"{path!r} holds an invalid model: {why}")


#: A skvoice model's zip directory holds three entries of short names: a
#: few hundred bytes. Anything much larger is refused before it is parsed, so
#: a flood of members costs neither time nor memory.
MAX_DIRECTORY_BYTES = 64 * 2**10
#: ``weights.pt`` may exceed the tensors the manifest declares by this much
#: (torch's pickle and zip records), plus ``_BYTES_PER_TENSOR`` per tensor.
_WEIGHTS_SLACK = 64 * 2**10
_BYTES_PER_TENSOR = 1024


def _end_of_directory(path, data):
    """``(entries, directory size)`` from the zip's end record, refusing zip64."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 2**16))
    if at < 0 or len(data) - at < 22:
        raise ModelFormatError(f"{path!r} is not a skvoice model file (not a zip archive).")
    _, _, _, _, entries, size, _, _ = struct.unpack("<4s4H2LH", data[at : at + 22])
    if data[max(0, at - 20) : at].startswith(b"PK\x06\x07"):
        # A zip64 locator would make zipfile read other counts than these.
        entries = size = 2**32
    return entries, size


class _Archive:
    """The members of a model file held in memory, checked before any is read.

    The whole file is read once, capped by the bytes actually read (a device or
    FIFO is refused before that); the zip directory is bounded before
    ``zipfile`` parses it; member names are checked in linear time.
    """

    def __init__(self, path):
        limit = sum(MAX_MEMBER_BYTES.values()) + 2**20
        with open_regular(path, "model file", ModelFormatError) as fh:
            data = read_capped(fh, limit, f"{path!r}")
        self.path = path
        entries, size = _end_of_directory(path, data)
        self._check_count(entries, size)
        self._zip = zipfile.ZipFile(io.BytesIO(data))
        # zipfile reads the directory by its size, not by the end record's count,
        # which may lie: the entries it found are counted again.
        self._check_count(len(self._zip.infolist()), size)
        names = [info.filename for info in self._zip.infolist()]
        counts = collections.Counter(names)
        duplicated = sorted(n for n, c in counts.items() if c > 1)
        if duplicated:
            raise ModelFormatError(f"{path!r} holds duplicate members {_few(duplicated)}.")
        unknown = sorted(set(names) - set(MEMBERS))
        if unknown:
            raise ModelFormatError(f"{path!r} holds unexpected members {_few(unknown)}.")
        self.infos = {info.filename: info for info in self._zip.infolist()}
        for name in ("manifest.json", "weights.pt"):
            if name not in self.infos:
                raise ModelFormatError(f"{path!r} is not a skvoice model: no {name}.")

    def _check_count(self, entries, size):
        if entries > 2 * len(MEMBERS) or size > MAX_DIRECTORY_BYTES:
            raise ModelFormatError(
                f"{self.path!r} lists {entries} members in {size} bytes; a skvoice model "
                f"holds {len(MEMBERS)} ({', '.join(MEMBERS)})."
            )

    def __contains__(self, name):
        return name in self.infos

    def read(self, name, cap=None):
        """A member's bytes, never more than ``cap`` (its format's cap by default)."""
        cap = MAX_MEMBER_BYTES[name] if cap is None else min(cap, MAX_MEMBER_BYTES[name])
        info = self.infos[name]
        if info.file_size > cap:
            raise ModelFormatError(
                f"{self.path!r}: member {name} declares {info.file_size} bytes, more than "
                f"the {cap} its manifest allows."
            )
        with self._zip.open(info) as fh:
            data = fh.read(cap + 1)  # never more than the cap, whatever was declared
        if len(data) > cap:
            raise ModelFormatError(f"{self.path!r}: member {name} exceeds {cap} bytes.")
        return data


def _few(names, k=3):
    """The first ``k`` names, then how many more: an error message stays one short line."""
    shown = ", ".join(repr(n[:40]) for n in names[:k])
    return f"[{shown}{f', ... ({len(names) - k} more)' if len(names) > k else ''}]"


def _check_integrity(path, archive, manifest_bytes, key, allow_unsigned):
    """The manifest's digest and the signature, before anything else is read.

    Returns the recorded SHA-256 of ``weights.pt``: the signature covers it, so
    the weights, once read within their budget, are checked against it by
    :func:`_check_weights_digest`.
    """
    if "integrity.json" not in archive:
        raise ModelFormatError(f"{path!r} has no integrity record.")
    record = json.loads(archive.read("integrity.json").decode("ascii"))
    if not isinstance(record, dict) or not isinstance(record.get("sha256"), dict):
        raise ModelFormatError(f"{path!r} has a malformed integrity record.")
    recorded = record["sha256"].get("weights.pt")
    manifest_digest = hashlib.sha256(manifest_bytes).hexdigest()
    if not (
        isinstance(recorded, str)
        and isinstance(record["sha256"].get("manifest.json"), str)
        and hmac.compare_digest(record["sha256"]["manifest.json"], manifest_digest)
    ):
        raise ModelFormatError(f"{path!r} is corrupted: its content does not match its SHA-256.")
    signature = record.get("hmac_sha256")
    signed = signature is not None
    if signed and key is not None:
        digests = {"manifest.json": manifest_digest, "weights.pt": recorded}
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
        warn_caller(
            f"{path!r} is not signed: its integrity cannot be checked against the key.",
            UnsignedModelWarning,
        )
    return recorded


def _check_weights_digest(path, weights, recorded):
    if not hmac.compare_digest(recorded, hashlib.sha256(weights).hexdigest()):
        raise ModelFormatError(f"{path!r} is corrupted: its content does not match its SHA-256.")


def _weights_budget(path, steps, records):
    """What ``weights.pt`` may hold: ``(bytes, largest tensor's bytes, tensors)``.

    The bytes are those of the tensors the steps' records declare (nothing is
    built), plus room for torch's pickle and zip records.
    """
    total, largest, count = 0, 0, 0
    for (name, step), record in zip(steps, records):
        if not hasattr(step, "_declared_tensors"):
            continue
        try:
            declared = step._declared_tensors(record)
        except StateError as exc:
            raise _invalid(path, f"step {name!r}: {exc}") from None
        for shape, dtype in declared.values():
            nbytes = math.prod(shape) * dtype.itemsize
            total, largest, count = total + nbytes, max(largest, nbytes), count + 1
    return total + _WEIGHTS_SLACK + _BYTES_PER_TENSOR * count, largest, count


def _check_storages(path, weights, largest, n_declared):
    """torch's own archive inside ``weights.pt``: no more, no larger storages than declared.

    Checked from the archive's directory, before ``torch.load`` materialises
    any tensor.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(weights)) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile:
        raise _invalid(path, "the weights are not a torch archive") from None
    storages = [i for i in infos if i.filename.rpartition("/")[0].endswith("/data")]
    _require(
        len(infos) <= n_declared + 8 and len(storages) <= n_declared,
        path,
        f"the weights hold {len(storages)} tensors; the manifest declares {n_declared}",
    )
    big = [i.filename for i in storages if i.file_size > largest]
    _require(not big, path, f"weight records larger than any declared tensor {_few(big)}")


def _require(cond, path, why):
    if not cond:
        raise _invalid(path, why)


# Parameters that never come from a file: resources and places on this machine.
_LOCAL_PARAMS = {"n_jobs": None, "checkpoint_dir": None, "device": "cpu", "verbose": 0}
#: Parameters that hold data used in fit only (its effect is in the fitted state):
#: saved as None.
_FIT_DATA_PARAMS = {"cohort"}
#: Key marking a nested estimator among a step's parameters.
_ESTIMATOR = "skvoice_estimator"
_MAX_DEPTH = 4


def _decode_param(value, path, depth):
    """A parameter read back: nested estimators built (parameters only)."""
    if isinstance(value, dict) and set(value) == {_ESTIMATOR}:
        return _build(path, value[_ESTIMATOR], depth + 1)
    if isinstance(value, list):
        return [_decode_param(v, path, depth) for v in value]
    return value


def _build(path, spec, depth=0):
    """A skvoice estimator from ``{"class", "params"}``, its parameters validated."""
    _require(depth <= _MAX_DEPTH, path, "estimators nested too deep")
    _require(isinstance(spec, dict), path, "an estimator must be a record")
    registry = _registry()
    cls_name, params = spec.get("class"), spec.get("params")
    if cls_name not in registry:
        raise ModelFormatError(f"Unknown step class {cls_name!r} in {path!r}.")
    _require(isinstance(params, dict), path, f"parameters of {cls_name} must be a record")
    cls = registry[cls_name]
    allowed = set(cls._get_param_names())
    if hasattr(cls, "_module_defaults"):  # a network's module__ group
        allowed |= {f"module__{k}" for k in cls._module_defaults()}
    unknown = sorted(set(params) - allowed)
    _require(not unknown, path, f"unknown parameters {unknown} of {cls_name}")
    params = {k: _decode_param(v, path, depth) for k, v in params.items()}
    params.update({k: v for k, v in _LOCAL_PARAMS.items() if k in allowed})
    if params.get("pretrained") not in (None, *_shipped()):
        if cls_name == "SpeakerEmbedder":
            raise _invalid(path, f"{params['pretrained']!r} is not a shipped encoder")
        params["pretrained"] = None  # a path on the writer's machine: used in fit only
    estimator = cls(**params)
    estimator._validate_params()
    return estimator


def _build_steps(path, manifest):
    specs = manifest.get("steps")
    _require(isinstance(specs, list) and 1 <= len(specs) <= 32, path, "steps must be a list")
    steps, names = [], set()
    for spec in specs:
        _require(isinstance(spec, dict), path, "a step must be a record")
        name = spec.get("name")
        _require(isinstance(name, str) and name and name not in names, path, "bad step name")
        names.add(name)
        steps.append((name, _build(path, spec)))
    last = type(steps[-1][1]).__name__
    _require(
        last in ("CNNClassifier", "EnrollmentVerifier"),
        path,
        "the last step must be a CNNClassifier or an EnrollmentVerifier",
    )
    return steps


@validate_params(
    {"path": [str, os.PathLike], "key": [bytes, str, None], "allow_unsigned": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def load_model(path, *, key=None, allow_unsigned=False):
    """Load a model saved by :func:`save_model`, trusting nothing in the file.

    Only a regular file is read (a FIFO, a device or a socket is refused by
    name), up to a cap on the bytes read; member sizes are capped before they
    are read, a zip directory larger than a model's is refused before it is
    parsed, duplicate or unknown members are refused, the content is checked
    against its SHA-256 (and, with ``key``, its HMAC signature), the weights
    are read only up to the bytes the manifest declares, and the manifest's
    values and declared shapes are checked against the weights before any
    network is built. ``n_jobs``, paths and the device never come from the
    file.

    Parameters
    ----------
    path : str or path-like
        Model file.
    key : bytes or str, default=None
        The signing key given to :func:`save_model` (not empty). With a key, a file whose
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
    IsADirectoryError
        ``path`` is a folder.
    ValueError
        ``key`` is empty.
    ModelFormatError
        Any other problem: not a regular file (a FIFO, a device), not a
        skvoice model, another format version, corrupted, tampered,
        truncated, oversized or inconsistent.

    Examples
    --------
    See :func:`save_model`.
    """
    path = os.fspath(path)
    _check_key(key)
    try:
        archive = _Archive(path)  # no such file / a folder: raised as they are
        manifest_bytes = archive.read("manifest.json")
        manifest = json.loads(manifest_bytes.decode("utf-8"))
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
            raise ModelFormatError(f"{path!r} is not a skvoice model file.")
        version = manifest.get("format_version")
        if version != FORMAT_VERSION:
            raise ModelFormatError(
                f"{path!r} uses model format {version!r} (written by skvoice "
                f"{manifest.get('skvoice_version')!r}); this skvoice ({__version__}) reads "
                f"format {FORMAT_VERSION} only (files of development versions before 0.1.0 "
                "are not read: fit and save the model again)."
            )
        recorded = _check_integrity(path, archive, manifest_bytes, key, allow_unsigned)
        steps = _build_steps(path, manifest)  # before any tensor is read
        records = [spec.get("state") for spec in manifest["steps"]]
        # The weights are read within what the manifest declares, and torch's
        # archive inside them is checked, before any tensor exists.
        budget, largest, n_declared = _weights_budget(path, steps, records)
        weights = archive.read("weights.pt", cap=budget)
        _check_weights_digest(path, weights, recorded)
        _check_storages(path, weights, largest, n_declared)
        tensors = torch.load(io.BytesIO(weights), weights_only=True, map_location="cpu")
        tensors = _checked_tensors(path, tensors, [name for name, _ in steps])
        for (name, step), record in zip(steps, records):
            try:
                step._set_fitted_state(record, tensors.get(name, {}))
            except StateError as exc:
                raise _invalid(path, f"step {name!r}: {exc}") from None
        _check_pipeline(path, steps)
    except (
        ModelFormatError,
        FileNotFoundError,
        IsADirectoryError,
        MemoryError,
        KeyboardInterrupt,
    ):
        raise
    except Exception as exc:  # anything else the file provoked: one clean error
        raise ModelFormatError(
            f"{path!r} is not a readable skvoice model: {type(exc).__name__}: {exc}"
        ) from exc
    return Pipeline(steps)


def _check_key(key):
    if key is not None and len(key) == 0:
        raise ValueError(
            "The signing key is empty: give the secret bytes (or text) the model was "
            "signed with, or key=None."
        )


def _checked_tensors(path, state, step_names):
    """``{step name: {tensor name: tensor}}``, as ``weights.pt`` must hold."""
    _require(
        isinstance(state, dict)
        and set(state) <= set(step_names)
        and all(
            isinstance(own, dict)
            and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in own.items())
            for own in state.values()
        ),
        path,
        "the weights are not a state dict per step",
    )
    return state


def _check_pipeline(path, steps):
    """Consistency between steps: an enrolment's width is its encoder's."""
    ver = steps[-1][1]
    if type(ver).__name__ == "EnrollmentVerifier" and len(steps) >= 2:
        embedder = steps[-2][1]
        if type(embedder).__name__ == "SpeakerEmbedder":
            dim = int(embedder.network_.card_["architecture"]["embedding_dim"])
            _require(ver.n_features_in_ == dim, path, "verifier width differs from the encoder")
