import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, max_examples=15)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def voices():
    """A small synthetic corpus shared by the tests (read-only)."""
    from skvoice.datasets import make_voices

    return make_voices(n_speakers=4, n_recordings=3, duration=1.5, random_state=0)


SPEECHOCEAN762_MINI = os.path.join(os.path.dirname(__file__), "data", "speechocean762")


def _ge2e_installed():
    from skvoice.neural_network._ge2e import ge2e_available

    return ge2e_available()


#: Tests of the GE2E encoder and of what is built on it (CI installs the extra).
needs_ge2e = pytest.mark.skipif(
    not _ge2e_installed(), reason='needs the ge2e extra: pip install "skvoice[ge2e]"'
)


@pytest.fixture(scope="session")
def real_speech():
    """48 real utterances: 12 adult speakers of speechocean762 x 4 (CC BY 4.0, read-only)."""
    from skvoice.datasets import load_speechocean762

    return load_speechocean762(SPEECHOCEAN762_MINI, subset="test")


@pytest.fixture
def rng():
    return np.random.default_rng(0)
