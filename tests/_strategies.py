"""Hypothesis strategies shared by the tests."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays


@st.composite
def waveforms(draw, min_len=1, max_len=6000, max_count=4, bursts=False):
    """A batch of random finite waveforms of random lengths and amplitudes.

    With ``bursts=True`` each waveform is a run of segments of random lengths that
    alternate between bursts (noise at one of several levels) and gaps (digital
    silence or noise 60 dB below), as speech alternates with pauses.
    """
    n = draw(st.integers(1, max_count))
    out = []
    for _ in range(n):
        length = draw(st.integers(min_len, max_len))
        seed = draw(st.integers(0, 2**32 - 1))
        rng = np.random.default_rng(seed)
        if not bursts:
            scale = draw(st.sampled_from([0.0, 1e-4, 1e-2, 0.5, 1.0]))
            out.append(rng.uniform(-1, 1, length).astype(np.float32) * scale)
            continue
        cuts = sorted(draw(st.lists(st.integers(1, length - 1), max_size=6, unique=True)))
        loud_first = draw(st.booleans())
        x = np.zeros(length, np.float32)
        for k, (a, b) in enumerate(zip([0, *cuts], [*cuts, length])):
            if (k % 2 == 0) == loud_first:
                level = draw(st.sampled_from([1e-2, 0.3, 1.0]))
            else:
                level = draw(st.sampled_from([0.0, 1e-3]))
            x[a:b] = rng.uniform(-1, 1, b - a) * level
        out.append(x)
    return out


small_arrays = arrays(np.float32, st.integers(1, 50), elements=st.floats(-1, 1, width=32))
