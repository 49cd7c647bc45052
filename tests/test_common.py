"""scikit-learn's estimator checks over every public skvoice estimator.

Estimators are discovered from the public modules, not listed by hand; tiny
settings for the checks come from ``INIT_PARAMS``. The checks feed 2-D float
arrays, which our estimators read as a batch of equal-length waveforms.
"""

import importlib
import inspect
import pkgutil

import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.utils.estimator_checks import parametrize_with_checks

import skvoice
import skvoice._base
import skvoice.augment

# Checks that assume that columns are features. For us a row is a waveform and its
# columns are samples: any number of samples is valid input, so these can't hold.
# They are not marked as failing whole: each must run every step before the one
# named here, and fail there only, with this error (see _run_check).
COLUMNS_ARE_FEATURES = "a row is a waveform; its length (the number of columns) is free"
_NO_N_FEATURES = (AssertionError, "", 'assert hasattr(estimator, "n_features_in_")')
_TRANSFORM_OTHER_WIDTH = (
    AssertionError,
    "does not raise an error when the number of features in transform is different",
    None,
)
EXPECTED_FAILED_TRANSFORMERS = {
    "check_n_features_in": _NO_N_FEATURES,
    "check_n_features_in_after_fitting": (
        AssertionError,
        "does not set the `n_features_in_` attribute",
        'assert hasattr(estimator, "n_features_in_"), err_msg',
    ),
    # The last step of the transformer check: transform on a narrower array.
    "check_transformer_general": _TRANSFORM_OTHER_WIDTH,
    "check_transformer_general(readonly_memmap=True)": _TRANSFORM_OTHER_WIDTH,
}

# Estimator classes of the package that are not public estimators, with why.
NOT_PUBLIC = {
    # skorch's NeuralNet (a BaseEstimator) that CNNClassifier builds in fit as net_;
    # the public estimator wraps it (CONVENTIONS: a skorch net fails most checks).
    "skvoice.neural_network._training.SkorchNet",
}


def _all_estimator_classes():
    """Every BaseEstimator subclass defined in skvoice, found by walking the package."""
    found = {}
    for info in pkgutil.walk_packages(skvoice.__path__, "skvoice."):
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                and obj.__module__.startswith("skvoice")
                and not inspect.isabstract(obj)
            ):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def _public_estimators():
    classes = _all_estimator_classes()
    return [classes[k] for k in sorted(classes) if k not in NOT_PUBLIC]


def _instance(cls):
    from skvoice.preprocessing import F0Extractor, SpectrogramExtractor

    if cls is skvoice.preprocessing.ChannelUnion:
        # Two aligned images; 8 frames of 64 samples fit the checks' short rows.
        return cls(
            [
                ("spec", SpectrogramExtractor(n_fft=64, hop_length=1, n_mels=8, duration=None)),
                (
                    "f0",
                    F0Extractor(
                        sr=16000,
                        fmin=400.0,
                        fmax=2000.0,
                        frame_length=64,
                        hop_length=1,
                        output="harmonics",
                        n_fft=64,
                        n_mels=8,
                    ),
                ),
            ]
        )
    # The inner networks get no seed of their own: the wrapper's random_state
    # (set by the checks) must reach them for fits to be idempotent.
    unseeded = {k: v for k, v in INIT_PARAMS["CNNClassifier"].items() if k != "random_state"}
    if cls is skvoice.neural_network.SpeakerEmbedder:
        return cls(skvoice.neural_network.CNNClassifier(**unseeded), random_state=0)
    if cls is skvoice.uncertainty.MCDropoutClassifier:
        inner = skvoice.neural_network.CNNClassifier(**unseeded)
        return cls(inner, **INIT_PARAMS[cls.__name__])
    if cls is skvoice.uncertainty.DeepEnsembleClassifier:
        # The ensemble takes any classifier; a fast one keeps its checks short (the
        # CNN passes the same checks on its own, above).
        from sklearn.linear_model import LogisticRegression

        return cls(LogisticRegression(), **INIT_PARAMS[cls.__name__])
    if cls is skvoice.decisions.TargetFARClassifierCV:
        # Any classifier: a fast one. The checks pass no speakers, so the folds come
        # from a splitter that needs none (each recording then counts as a speaker).
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold

        return cls(LogisticRegression(), target_far=None, cv=StratifiedKFold(3))
    if cls is skvoice.decisions.ScoreFusionClassifier:
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold
        from sklearn.naive_bayes import GaussianNB

        return cls([("lr", LogisticRegression()), ("nb", GaussianNB())], cv=StratifiedKFold(3))
    return cls(**INIT_PARAMS.get(cls.__name__, {}))


INIT_PARAMS = {
    "MCDropoutClassifier": {"n_passes": 3, "random_state": 0},
    "DeepEnsembleClassifier": {"n_estimators": 2, "random_state": 0},
    "CNNClassifier": {
        "module__n_filters": 4,
        "module__n_blocks": 1,
        "module__embedding_dim": 16,
        "crop_frames": 1,
        "max_epochs": 20,
        "lr": 0.01,
        "random_state": 0,
    },
    # Hops of one sample: the checks' recordings are 1-20 samples long, and a
    # recording shorter than one hop is refused (too short to decide on).
    "SilenceTrimmer": {"frame_length": 8, "hop_length": 1},
    "SpectrogramExtractor": {"n_fft": 16, "hop_length": 1, "n_mels": 4},
    # Upsampling: a 1-sample row still gives samples.
    "Resampler": {"sr": 16000, "target_sr": 32000},
    "MFCCStatistics": {"n_fft": 16, "hop_length": 1, "n_mels": 8, "n_mfcc": 4},
    "F0Extractor": {"fmin": 400.0, "fmax": 2000.0, "frame_length": 64, "hop_length": 1},
    "Reverberate": {"n_rooms": 2, "random_state": 0},
    "AddNoise": {"random_state": 0},
}

# SpeakerEmbedder is checked trained on the checks' data (above). With
# pretrained="speechocean762" its input width is fixed: the encoder reads 64 mel
# bands, and the checks' arrays have 1 to 10 columns, which fit refuses (as it
# must: tests/neural_network/test_pretrained.py). Every check would fail for that
# one reason, so that configuration is not run through them.
ESTIMATORS = [_instance(cls) for cls in _public_estimators()]
# Estimators that train a CNN inside at every check: their network, CNNClassifier, is
# checked in the fast suite; these run with the slow tests (in CI).
_SLOW = ("MCDropoutClassifier", "SpeakerEmbedder")
FAST = [e for e in ESTIMATORS if type(e).__name__ not in _SLOW]
SLOW = [e for e in ESTIMATORS if type(e).__name__ in _SLOW] + [
    # The ensemble around the network it is made for, not only around a fast model.
    skvoice.uncertainty.DeepEnsembleClassifier(
        skvoice.neural_network.CNNClassifier(
            **{k: v for k, v in INIT_PARAMS["CNNClassifier"].items() if k != "random_state"}
        ),
        n_estimators=2,
        random_state=0,
    )
]


# The verifier enrols the allowed class, so it refuses to guess which label that
# is: labels other than 0/1, False/True or -1/1 need pos_label (the access-control
# decision must not follow the labels' sort order). These checks fit on labels 1/2
# or on strings without one: each must fail there, with that error, and pass
# whole with pos_label given (test_verifier_checks_pass_with_pos_label).
NEEDS_POS_LABEL = (ValueError, r"cannot tell which of the labels \[1, 2\] is the allowed", None)
EXPECTED_FAILED_VERIFIER = {
    "check_estimators_dtypes": NEEDS_POS_LABEL,
    "check_classifier_data_not_an_array": NEEDS_POS_LABEL,
    "check_fit2d_1feature": (AssertionError, r"Got \w+ cannot tell which", None),
    # Labels -1/1 and 0/1 pass first; the string labels are the step that fails.
    "check_classifiers_classes": (
        ValueError,
        r"cannot tell which of the labels \['one', 'two'\] is the allowed",
        None,
    ),
}
VERIFIER_CHECKS_WITH_POS_LABEL_2 = (
    "check_estimators_dtypes",
    "check_classifier_data_not_an_array",
    "check_fit2d_1feature",
)


def _expected_failed(estimator):
    # Only the waveform transformers read columns as samples. Networks read a 2-D
    # array as (n_recordings, n_bins) and the verifier as embeddings: for them
    # columns are features and every check applies.
    if isinstance(estimator, skvoice._base.WaveformTransformerMixin) or isinstance(
        estimator, skvoice.preprocessing.ChannelUnion
    ):
        return EXPECTED_FAILED_TRANSFORMERS
    if isinstance(
        estimator,
        (
            skvoice.verification.EnrollmentVerifier,
            skvoice.decisions.TargetFARClassifierCV,
            skvoice.decisions.ScoreFusionClassifier,
        ),
    ):
        return EXPECTED_FAILED_VERIFIER
    return {}


def _failing_line(excinfo):
    """The source line of scikit-learn's check at which the exception was raised."""
    import linecache
    import traceback

    frames = [
        f for f in traceback.extract_tb(excinfo.tb) if f.filename.endswith("estimator_checks.py")
    ]
    return linecache.getline(frames[-1].filename, frames[-1].lineno).strip() if frames else ""


def _run_check(estimator, check):
    """Run a check; an expected failure must happen at its step, with its error."""
    import re

    from sklearn.utils.estimator_checks import _get_check_estimator_ids

    expected = _expected_failed(estimator).get(_get_check_estimator_ids(check))
    if expected is None:
        check(estimator)
        return
    error, message, line = expected
    with pytest.raises(error) as excinfo:
        check(estimator)
    assert re.search(message, str(excinfo.value)), str(excinfo.value)
    if line is not None:
        assert _failing_line(excinfo) == line


@parametrize_with_checks(FAST)
def test_sklearn_compatible(estimator, check):
    _run_check(estimator, check)


@pytest.mark.slow
@parametrize_with_checks(SLOW)
def test_sklearn_compatible_slow(estimator, check):
    _run_check(estimator, check)


@pytest.mark.parametrize("name", VERIFIER_CHECKS_WITH_POS_LABEL_2)
def test_verifier_checks_pass_with_pos_label(name):
    # The checks that fail above only for want of pos_label pass whole with it.
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, name)(
        "EnrollmentVerifier", skvoice.verification.EnrollmentVerifier(pos_label=2)
    )
    meta = _instance(skvoice.decisions.TargetFARClassifierCV).set_params(pos_label=2)
    getattr(estimator_checks, name)("TargetFARClassifierCV", meta)


def test_every_estimator_of_the_package_is_checked():
    # A new estimator anywhere in the package joins the checks above, or is named
    # in NOT_PUBLIC with a reason.
    classes = _all_estimator_classes()
    checked = {f"{type(e).__module__}.{type(e).__qualname__}" for e in ESTIMATORS}
    assert set(classes) - checked == NOT_PUBLIC
    # Every checked estimator is reachable from a public package.
    exported = {
        getattr(module, name)
        for module in (
            skvoice,
            skvoice.augment,
            skvoice.decisions,
            skvoice.preprocessing,
            skvoice.neural_network,
            skvoice.uncertainty,
            skvoice.verification,
        )
        for name in module.__all__
        if inspect.isclass(getattr(module, name))
    }
    assert {type(e) for e in ESTIMATORS} <= exported


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_estimator_is_documented(estimator):
    from numpydoc.validate import validate

    cls = type(estimator)
    report = validate(f"{cls.__module__}.{cls.__qualname__}")
    important = {"PR01", "PR02", "GL08", "SA04"}  # params documented, exists, docs
    errors = [(code, msg) for code, msg in report["errors"] if code in important]
    assert not errors, errors


def test_same_seed_same_model_bit_for_bit():
    # Two fits with the same seed give the same predictions, bit for bit on CPU,
    # for every estimator that draws random numbers; the wrappers' own seed reaches
    # the network inside (its own random_state is left unset here).
    import numpy as np

    from skvoice.neural_network import CNNClassifier, SpeakerEmbedder
    from skvoice.uncertainty import DeepEnsembleClassifier, MCDropoutClassifier

    rng = np.random.default_rng(0)
    X = [rng.standard_normal((8, int(rng.integers(12, 30)))).astype(np.float32) for _ in range(16)]
    y = np.arange(16) % 2
    spk = np.array([f"s{i % 4}" for i in range(16)])
    for k in range(16):
        X[k][4:] += y[k]
    net = {**INIT_PARAMS["CNNClassifier"], "crop_frames": 8, "max_epochs": 3}
    del net["random_state"]
    cases = [
        (CNNClassifier(**net, random_state=0), "predict_proba", {"groups": spk}),
        (
            MCDropoutClassifier(CNNClassifier(**net), n_passes=4, random_state=0),
            "predict_proba",
            {},
        ),
        (
            DeepEnsembleClassifier(CNNClassifier(**net), n_estimators=2, random_state=0),
            "predict_proba",
            {},
        ),
        (SpeakerEmbedder(CNNClassifier(**net), random_state=0), "transform", {"groups": spk}),
    ]
    for est, method, fit_params in cases:
        a = getattr(clone(est).fit(X, y, **fit_params), method)(X)
        b = getattr(clone(est).fit(X, y, **fit_params), method)(X)
        np.testing.assert_array_equal(a, b, err_msg=type(est).__name__)
        other = clone(est).set_params(random_state=1).fit(X, y, **fit_params)
        assert not np.array_equal(getattr(other, method)(X), a), type(est).__name__
