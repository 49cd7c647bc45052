"""Every public function checks its parameters (scikit-learn's validate_params)."""

import inspect

import numpy as np
import pytest
import torch
from sklearn.utils._param_validation import InvalidParameterError

import skvoice
from skvoice import eda, inspection, metrics, preprocessing, uncertainty, verification

WAVES = [np.zeros(1600, dtype=np.float32)]

BAD_CALLS = [
    (metrics.equal_error_rate, dict(y_true=[0, 1], y_score=[0.1, 0.9], return_threshold="yes")),
    (metrics.far_at_frr, dict(y_true=[0, 1], y_score=[0.1, 0.9], frr=1.5)),
    (uncertainty.expected_calibration_error, dict(y_true=[0, 1], proba=[0.1, 0.9], n_bins=0)),
    (
        uncertainty.uncertainty_decomposition,
        dict(member_proba=np.ones((2, 2, 2)), positive_class=-1),
    ),
    (uncertainty.sample_with_dropout, dict(module="net", x=torch.ones(1, 1), n_passes=2)),
    (
        uncertainty.sample_with_dropout,
        dict(module=torch.nn.Identity(), x=torch.ones(1), n_passes=0),
    ),
    (preprocessing.filterbank, dict(kind="bark")),
    (preprocessing.filterbank, dict(n_bins=0)),
    (preprocessing.frame_rms_db, dict(y=np.ones(100), ref="min")),
    (preprocessing.frame_rms_db, dict(y=np.ones(100), hop_length=0)),
    (verification.make_enrollment_pipeline, dict(sr=0)),
    (verification.make_enrollment_pipeline, dict(pretrained=3)),
    (eda.recordings_per_speaker, dict(groups=3, target=[1])),
    (eda.duration_table, dict(X=WAVES, groups=["a"], sr=-1)),
    (eda.duration_table, dict(X=WAVES, groups=["a"], trimmer="trim")),
    (eda.f0_table, dict(X=WAVES, groups=["a"], fmin=-5.0)),
    (eda.mean_intensity_per_frequency, dict(X=WAVES, groups=["a"], voiced_only="yes")),
    (eda.plot_corpus, dict(X=WAVES, groups=["a"], target=[1], examples=-1)),
    (inspection.grad_cam, dict(estimator=None, X=WAVES, method="saliency")),
    (skvoice.save_model, dict(model=None, path=3)),
    (skvoice.load_model, dict(path="m.skvoice", key=3)),
    (skvoice.load_model, dict(path="m.skvoice", allow_unsigned="no")),
]


@pytest.mark.parametrize(
    "func, kwargs", BAD_CALLS, ids=[f"{f.__name__}-{sorted(k)[-1]}" for f, k in BAD_CALLS]
)
def test_bad_parameters_are_refused_by_name(func, kwargs):
    bad = [k for k in kwargs if k not in ("y_true", "y_score", "X", "speakers", "target")]
    with pytest.raises(InvalidParameterError, match="|".join(bad) or None):
        func(**kwargs)


def test_every_public_function_validates_its_parameters():
    # Except where hand checks say more (recordings and files, named by index
    # and path: io and datasets) or there is nothing to check.
    exempt = {"available_encoders", "check_spectrograms", "get_data_home", "check_waveforms"}
    modules = [metrics, uncertainty, preprocessing, verification, eda, inspection]
    missing = [
        f"{m.__name__}.{n}"
        for m in modules
        for n in m.__all__
        if inspect.isfunction(getattr(m, n))
        and n not in exempt
        and not hasattr(getattr(m, n), "__wrapped__")
    ]
    assert not missing
