"""Hypothesis strategies shared by the tests."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays


@st.composite
def waveforms(draw, min_len=1, max_len=6000, max_count=4):
    """A batch of random finite waveforms of random lengths and amplitudes."""
    n = draw(st.integers(1, max_count))
    out = []
    for _ in range(n):
        length = draw(st.integers(min_len, max_len))
        seed = draw(st.integers(0, 2**32 - 1))
        scale = draw(st.sampled_from([0.0, 1e-4, 1e-2, 0.5, 1.0]))
        x = np.random.default_rng(seed).uniform(-1, 1, length).astype(np.float32) * scale
        out.append(x)
    return out


small_arrays = arrays(np.float32, st.integers(1, 50), elements=st.floats(-1, 1, width=32))
