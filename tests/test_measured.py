"""Warnings outside what was measured: one place for Python and the command line."""

import numpy as np
import pytest

from skvoice import _measured
from skvoice.verification import OutsideMeasuredWarning, make_enrollment_pipeline


def test_python_path_warns_on_narrow_band_input():
    with pytest.warns(OutsideMeasuredWarning, match="8000 Hz"):
        make_enrollment_pipeline(sr=8000)


def test_meta_estimator_warns_on_few_refused_speakers():
    from skvoice.decisions import EnrollmentVerifier, TargetFARClassifierCV

    rng = np.random.default_rng(0)
    E = rng.standard_normal((50, 4))
    spk = np.repeat(list("abcde"), 10)
    y = (spk == "a").astype(int)
    with pytest.warns(OutsideMeasuredWarning, match="4 refused speakers"):
        TargetFARClassifierCV(EnrollmentVerifier(), target_far=0.1).fit(E, y, groups=spk)


def test_missing_ge2e_is_said_on_short_or_narrow_audio(monkeypatch):
    monkeypatch.setattr(_measured, "_ge2e", lambda: False)
    spk, y = ["a"] * 3 + [f"r{i}" for i in range(14)], [1] * 3 + [0] * 14
    short = _measured.outside_measured(
        spk, y, durations=[1.0] * 17, encoder="speechocean762-distilled"
    )
    assert any("skvoice[ge2e]" in p for p in short)
    wide = _measured.outside_measured(
        spk, y, durations=[3.0] * 17, lowest_rate=16000, encoder="speechocean762-distilled"
    )
    assert wide == []
    monkeypatch.setattr(_measured, "_ge2e", lambda: True)
    assert not any("ge2e" in p for p in _measured.outside_measured(spk, y, durations=[1.0]))
