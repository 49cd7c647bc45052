import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skvoice.neural_network import CNNClassifier
from skvoice.uncertainty import (
    DeepEnsembleClassifier,
    MCDropoutClassifier,
    area_under_risk_coverage,
    expected_calibration_error,
    misclassification_auroc,
    negative_log_likelihood,
    risk_coverage_curve,
    sample_with_dropout,
    selective_decision,
    uncertainty_decomposition,
)
from tests.neural_network.test_cnn import TINY, _toy


def test_decomposition_hand_computed():
    members = np.array([[[0.8, 0.2], [0.5, 0.5]], [[0.4, 0.6], [0.5, 0.5]]])
    proba, u = uncertainty_decomposition(members)
    np.testing.assert_allclose(proba, [[0.6, 0.4], [0.5, 0.5]])

    def h(p):
        return -sum(q * np.log(q) for q in p)

    np.testing.assert_allclose(u.total, [h([0.6, 0.4]), np.log(2)])
    np.testing.assert_allclose(u.aleatoric, [(h([0.8, 0.2]) + h([0.4, 0.6])) / 2, np.log(2)])
    np.testing.assert_allclose(u.total, u.aleatoric + u.epistemic)
    np.testing.assert_allclose(u.std, [0.2, 0.0])
    assert u.epistemic[1] == 0


def test_decomposition_bounds(rng):
    members = rng.dirichlet(np.ones(3), size=(7, 20))
    _, u = uncertainty_decomposition(members)
    assert np.all(u.epistemic >= 0)
    assert np.all(u.epistemic <= u.total + 1e-12)
    assert np.all(u.total <= np.log(3) + 1e-12)


def test_sample_with_dropout_matches_manual_masks():
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(5, 2)
    ).eval()
    x = torch.randn(4, 3)
    masks = []
    net[2].register_forward_hook(lambda m, i, o: masks.append((o, i[0])))
    out = sample_with_dropout(net, x, n_passes=6)
    assert out.shape == (6, 4, 2)
    dropped, inp = masks[0]
    assert inp.shape == (24, 5)  # prefix ran once, then repeated 6 times
    hidden = torch.relu(net[0](x))
    torch.testing.assert_close(inp, hidden.repeat(6, 1))
    manual = net[3](dropped).reshape(6, 4, 2)  # same masks, suffix by hand
    torch.testing.assert_close(out, manual)
    assert not net[2].training  # mode restored
    assert not torch.allclose(out[0], out[1])


def test_sample_without_dropout_is_deterministic():
    net = torch.nn.Sequential(torch.nn.Linear(3, 2)).eval()
    out = sample_with_dropout(net, torch.randn(4, 3), 5)
    torch.testing.assert_close(out[0], out[4])


def test_skip_connection_falls_back_to_loop():
    class Skip(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(3, 3)
            self.drop = torch.nn.Dropout(0.5)

        def forward(self, x):
            h = self.lin(x)
            return h + self.drop(h)  # mixes the dropout output with its input

    out = sample_with_dropout(Skip().eval(), torch.randn(4, 3), 3)
    assert out.shape == (3, 4, 3)


@pytest.fixture(scope="module")
def toy():
    return _toy(30)


def test_mc_dropout_epistemic_zero_without_dropout(toy):
    X, y = toy
    mc = MCDropoutClassifier(
        CNNClassifier(**{**TINY, "dropout": 0.0}), n_passes=8, random_state=0
    ).fit(X, y)
    proba, u = mc.predict_proba(X, return_uncertainty=True)
    np.testing.assert_allclose(u.epistemic, 0, atol=1e-9)
    np.testing.assert_allclose(proba, mc.estimator_.predict_proba(X), atol=1e-6)


def test_mc_dropout_properties_and_reproducible(toy):
    X, y = toy
    mc = MCDropoutClassifier(
        CNNClassifier(**{**TINY, "dropout": 0.5}), n_passes=10, random_state=0
    ).fit(X, y)
    proba, u = mc.predict_proba(X, return_uncertainty=True)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_allclose(u.total, u.aleatoric + u.epistemic, atol=1e-12)
    assert np.all(u.epistemic >= 0) and u.epistemic.max() > 0
    again = mc.predict_proba(X)
    np.testing.assert_array_equal(proba, again)
    other = clone(mc).set_params(random_state=1).fit(X, y).predict_proba(X)
    assert not np.array_equal(proba, other)
    # Batch norm stays in eval mode, dropout is back off.
    module = mc.estimator_.net_.module_
    assert not any(m.training for m in module.modules())
    assert mc.predict(X).shape == (30,)


def test_mc_dropout_member_mean_is_proba(toy):
    X, y = toy
    mc = MCDropoutClassifier(CNNClassifier(**TINY), n_passes=4, random_state=0).fit(X, y)
    members = mc.predict_member_proba(X[:5])
    assert members.shape == (4, 5, 2)
    np.testing.assert_allclose(members.mean(axis=0), mc.predict_proba(X[:5]))


def test_mc_dropout_needs_a_network():
    with pytest.raises(TypeError, match="network"):
        MCDropoutClassifier(LogisticRegression()).fit(np.zeros((4, 2)), [0, 1, 0, 1])


def test_ensemble_identical_members_zero_epistemic():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(int)
    ens = DeepEnsembleClassifier(LogisticRegression(), n_estimators=3, random_state=0)
    proba, u = ens.fit(X, y).predict_proba(X, return_uncertainty=True)
    np.testing.assert_allclose(u.epistemic, 0, atol=1e-12)
    np.testing.assert_allclose(proba, LogisticRegression().fit(X, y).predict_proba(X))


def test_ensemble_of_cnns_seeds_differ_and_parallel(toy):
    X, y = toy
    ens = DeepEnsembleClassifier(
        CNNClassifier(**TINY), n_estimators=3, n_jobs=2, random_state=0
    ).fit(X, y)
    seeds = [m.random_state for m in ens.estimators_]
    assert len(set(seeds)) == 3
    proba, u = ens.predict_proba(X, return_uncertainty=True)
    assert u.epistemic.max() > 0
    np.testing.assert_allclose(u.total, u.aleatoric + u.epistemic, atol=1e-12)
    # Same seeds and the same threads per member give the same ensemble.
    again = (
        DeepEnsembleClassifier(CNNClassifier(**TINY), n_estimators=3, n_jobs=2, random_state=0)
        .fit(X, y)
        .predict_proba(X)
    )
    np.testing.assert_allclose(proba, again, atol=1e-6)
    restored = pickle.loads(pickle.dumps(ens))
    np.testing.assert_array_equal(restored.predict_proba(X), proba)


def test_ensemble_bootstrap_and_groups(toy):
    X, y = toy
    groups = np.array([f"s{i % 6}" for i in range(30)])
    ens = DeepEnsembleClassifier(
        CNNClassifier(**TINY), n_estimators=2, bootstrap=True, random_state=0
    ).fit(X, y, groups=groups)
    assert all(m.objective_ == "speakers" for m in ens.estimators_)


def test_return_uncertainty_through_pipeline(toy):
    from sklearn.preprocessing import FunctionTransformer

    X, y = toy
    pipe = make_pipeline(
        FunctionTransformer(lambda Z: Z),
        MCDropoutClassifier(CNNClassifier(**TINY), n_passes=3, random_state=0),
    ).fit(X, y)
    proba, u = pipe.predict_proba(X, return_uncertainty=True)
    assert proba.shape == (30, 2) and u.std.shape == (30,)


def test_mc_dropout_in_grid_search(toy):
    from sklearn.model_selection import GridSearchCV

    X, y = toy
    search = GridSearchCV(
        MCDropoutClassifier(CNNClassifier(**TINY), n_passes=3),
        {"estimator__lr": [1e-3, 1e-2]},
        cv=2,
        scoring="roc_auc",
    )
    search.fit(X, y)
    assert search.best_estimator_.predict_proba(X).shape == (30, 2)


def test_calibration_and_selection_metrics():
    y = np.array([1, 0, 1, 0])
    p = np.array([0.9, 0.2, 0.4, 0.6])
    assert negative_log_likelihood(y, np.c_[1 - p, p]) == pytest.approx(
        -np.mean(np.log([0.9, 0.8, 0.4, 0.4]))
    )
    # Confidences .9, .8, .6, .6; correct 1, 1, 0, 0 -> bins .9: .1, .8: .2, .6: 2*.6
    assert expected_calibration_error(y, p) == pytest.approx((0.1 + 0.2 + 1.2) / 4)
    pred = (p >= 0.5).astype(int)
    unc = np.array([0.1, 0.2, 0.8, 0.9])
    assert misclassification_auroc(y, pred, unc) == 1.0
    cov, risk = risk_coverage_curve(y, pred, unc)
    np.testing.assert_allclose(risk, [0, 0, 1 / 3, 0.5])
    assert area_under_risk_coverage(y, pred, unc) == pytest.approx((1 / 3 + 0.5) / 4)
    dec = selective_decision(p, unc, coverage=0.5)
    assert dec.tolist() == [1, 0, -1, -1]
    with pytest.raises(ValueError):
        selective_decision(p, unc, coverage=0)
