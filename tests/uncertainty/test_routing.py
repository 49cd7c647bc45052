"""Metadata routing: the speakers reach the network inside the uncertainty wrappers."""

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skvoice.model_selection import OpenSetGroupKFold
from skvoice.neural_network import CNNClassifier
from skvoice.uncertainty import DeepEnsembleClassifier, MCDropoutClassifier
from tests.neural_network.test_cnn import TINY, _toy


@pytest.fixture(scope="module")
def data():
    X, y = _toy(16)
    return X, y, np.array([f"s{i % 8}" for i in range(16)])


def _inner(model):
    model = model[-1] if hasattr(model, "steps") else model
    return model.estimator_ if hasattr(model, "estimator_") else model.estimators_[0]


@pytest.mark.parametrize(
    "wrapper",
    [
        lambda: MCDropoutClassifier(CNNClassifier(**TINY), n_passes=2, random_state=0),
        lambda: DeepEnsembleClassifier(CNNClassifier(**TINY), n_estimators=2, random_state=0),
    ],
    ids=["mc", "ensemble"],
)
def test_routing_reaches_the_network_inside_wrappers(data, wrapper):
    X, y, spk = data
    with sklearn.config_context(enable_metadata_routing=True):
        direct = wrapper().fit(X, y, groups=spk)
        assert _inner(direct).objective_ == "speakers"
        pipe = make_pipeline(FunctionTransformer(), wrapper())
        search = GridSearchCV(
            pipe, {"functiontransformer__validate": [False]}, cv=OpenSetGroupKFold(2)
        )
        search.fit(X, y, groups=spk)  # to the splitter and to the network
        assert _inner(search.best_estimator_).objective_ == "speakers"
        res = cross_validate(
            wrapper(), X, y, cv=OpenSetGroupKFold(2), params={"groups": spk}, return_estimator=True
        )
        assert all(_inner(m).objective_ == "speakers" for m in res["estimator"])
    # Routing off: keyword arguments pass through as before.
    assert _inner(wrapper().fit(X, y, groups=spk)).objective_ == "speakers"


def test_groups_that_nothing_requested_are_an_error(data):
    # As everywhere in scikit-learn's routing: metadata nobody asked for is refused.
    X, y, spk = data
    with sklearn.config_context(enable_metadata_routing=True):
        net = CNNClassifier(**TINY, objective="binary").set_fit_request(groups=False)
        mc = MCDropoutClassifier(net, n_passes=2, random_state=0)
        with pytest.raises(TypeError, match="groups"):
            mc.fit(X, y, groups=spk)
        assert mc.fit(X, y).estimator_.objective_ == "binary"
