"""Searches, cross-validation and ensembles on a Dask cluster (joblib's dask backend).

A LocalCluster on loopback with 2 worker processes of 1 thread each stands in for a
real cluster: the code is the same, only the scheduler address differs.
"""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline

from skvoice.datasets import make_voices
from skvoice.metrics import eer_scorer
from skvoice.model_selection import OpenSetGroupKFold
from skvoice.neural_network import CNNClassifier
from skvoice.preprocessing import MFCCStatistics, SilenceTrimmer, SpectrogramExtractor
from skvoice.uncertainty import DeepEnsembleClassifier

from .neural_network.test_cnn import TINY

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")

# The tiny network of the CNN tests, with crops that fit 1 s recordings.
CNN = {**TINY, "crop_frames": 32, "max_epochs": 3}


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=40,
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def data():
    v = make_voices(n_speakers=6, n_recordings=4, duration=1.0, snr_db=20, random_state=0)
    return v.data, v.target, v.speaker


def _search():
    pipe = make_pipeline(SilenceTrimmer(), SpectrogramExtractor(), CNNClassifier(**CNN))
    return GridSearchCV(
        pipe,
        {"cnnclassifier__lr": [1e-3, 1e-2]},
        cv=OpenSetGroupKFold(2),
        scoring=eer_scorer,
        n_jobs=2,
    )


def test_grid_search_on_dask_matches_the_local_run(client, data):
    X, y, groups = data
    # Locally, joblib's loky workers get 1 torch thread each, like the dask workers.
    local = _search().fit(X, y, groups=groups)
    with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        remote = _search().fit(X, y, groups=groups)
    # The 2 candidates x 2 folds really ran as tasks on the cluster.
    assert len(stream.data) >= 4
    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"], atol=1e-12
    )
    np.testing.assert_allclose(remote.predict_proba(X), local.predict_proba(X), atol=1e-6)


def test_cross_validate_on_dask_matches_the_local_run(client, data):
    X, y, groups = data
    pipe = make_pipeline(MFCCStatistics(), LogisticRegression(max_iter=500))
    cv = OpenSetGroupKFold(2)
    local = cross_validate(pipe, X, y, groups=groups, cv=cv, scoring=eer_scorer)
    with joblib.parallel_backend("dask"):
        remote = cross_validate(pipe, X, y, groups=groups, cv=cv, scoring=eer_scorer)
    np.testing.assert_allclose(remote["test_score"], local["test_score"], atol=1e-12)


def test_deep_ensemble_on_dask_matches_the_local_run(client, data):
    X, y, _ = data
    specs = SpectrogramExtractor().fit_transform(SilenceTrimmer().fit_transform(X))
    ens = DeepEnsembleClassifier(CNNClassifier(**CNN), n_estimators=2, random_state=0, n_jobs=2)
    local = ens.fit(specs, y).predict_proba(specs)
    with joblib.parallel_backend("dask"):
        remote = DeepEnsembleClassifier(CNNClassifier(**CNN), n_estimators=2, random_state=0).fit(
            specs, y
        )
    np.testing.assert_allclose(remote.predict_proba(specs), local, atol=1e-6)
