"""Seeds: one place that turns a scikit-learn ``random_state`` into torch seeds."""

from sklearn.utils import check_random_state

__all__ = ["seed_from", "seed_everything"]


def seed_from(random_state):
    """An int seed for torch from a sklearn ``random_state``.

    An int gives the same seed every time; a ``RandomState`` instance advances;
    ``None`` draws from numpy's global generator.
    """
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


def seed_everything(estimator, seed):
    """Set every ``random_state`` of ``estimator`` (and of its nested steps) to ``seed``.

    The way a meta-estimator passes its own seed down to what it builds (as
    scikit-learn's bagging does); returns ``estimator``.
    """
    params = {
        k: seed
        for k in estimator.get_params(deep=True)
        if k == "random_state" or k.endswith("__random_state")
    }
    return estimator.set_params(**params)
