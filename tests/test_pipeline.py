"""End to end: the pipeline of the README through GridSearchCV with speaker folds."""

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline

from skvoice.datasets import make_voices
from skvoice.metrics import eer_scorer, equal_error_rate
from skvoice.model_selection import OpenSetGroupKFold
from skvoice.neural_network import CNNClassifier
from skvoice.preprocessing import SilenceTrimmer, SpectrogramExtractor

TINY = dict(
    module__n_filters=4,
    module__n_blocks=2,
    module__embedding_dim=16,
    crop_frames=32,
    max_epochs=3,
    random_state=0,
)


@pytest.fixture(scope="module")
def data():
    v = make_voices(
        n_speakers=5, n_recordings=4, duration=1.0, allowed=["s00", "s01"], random_state=0
    )
    return v.data, v.target, v.speaker


def _pipe():
    return make_pipeline(SilenceTrimmer(), SpectrogramExtractor(n_mels=32), CNNClassifier(**TINY))


def test_grid_search_open_set_parallel(data):
    X, y, spk = data
    search = GridSearchCV(
        _pipe(),
        {"cnnclassifier__lr": [1e-3, 3e-3]},
        cv=OpenSetGroupKFold(3),
        scoring=eer_scorer,
        n_jobs=2,
    )
    search.fit(X, y, groups=spk, cnnclassifier__groups=spk)
    assert search.best_estimator_[-1].objective_ == "speakers"
    proba = search.predict_proba(X[:3])
    assert proba.shape == (3, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    # Each fold's score is minus the EER of that fold's model, fitted by hand.
    cv = OpenSetGroupKFold(3)
    for k, (train, test) in enumerate(cv.split(X, y, spk)):
        model = _pipe().set_params(cnnclassifier__lr=1e-3)
        model.fit([X[i] for i in train], y[train], cnnclassifier__groups=spk[train])
        proba = model.predict_proba([X[i] for i in test])[:, 1]
        eer = equal_error_rate(y[test], proba)
        assert search.cv_results_[f"split{k}_test_score"][0] == pytest.approx(-eer, abs=1e-9)
        assert 0 <= eer <= 1


def test_groups_routed_with_metadata_routing(data):
    X, y, spk = data
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            _pipe(), {"cnnclassifier__lr": [1e-3]}, cv=GroupKFold(2), scoring="roc_auc"
        )
        search.fit(X, y, groups=spk)
    assert search.best_estimator_[-1].objective_ == "speakers"


def test_without_groups_binary(data):
    X, y, _ = data
    pipe = _pipe().fit(X, y)
    assert pipe[-1].objective_ == "binary"
