import pickle

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, clone
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


def _mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(5, 2)
    ).eval()


def test_sample_with_dropout_matches_manual_masks():
    net = _mlp()
    dropout = net[2]
    x = torch.randn(4, 3)
    global_state = torch.get_rng_state()
    out = sample_with_dropout(net, x, n_passes=6, generator=torch.Generator().manual_seed(7))
    assert out.shape == (6, 4, 2)
    # By hand: the prefix once, repeated 6 times, masks drawn from the same seed.
    hidden = torch.relu(net[0](x)).repeat(6, 1)
    keep = torch.empty(24, 5).bernoulli_(0.5, generator=torch.Generator().manual_seed(7))
    manual = net[3](hidden * keep / 0.5).reshape(6, 4, 2)
    torch.testing.assert_close(out, manual)
    assert not torch.allclose(out[0], out[1])
    # The caller's network and torch's global generator are untouched.
    assert net[2] is dropout and not dropout.training and not net.training
    assert not dropout._forward_pre_hooks and not dropout._forward_hooks
    assert torch.equal(torch.get_rng_state(), global_state)


def test_sample_with_dropout_seeded_generator_is_reproducible():
    net, x = _mlp(), torch.randn(4, 3)

    def draw(seed):
        return sample_with_dropout(net, x, 5, generator=torch.Generator().manual_seed(seed))

    torch.testing.assert_close(draw(0), draw(0))
    assert not torch.allclose(draw(0), draw(1))
    torch.manual_seed(3)
    a = sample_with_dropout(net, x, 5)
    torch.manual_seed(3)
    torch.testing.assert_close(a, sample_with_dropout(net, x, 5))


def test_channel_dropout_zeroes_whole_maps():
    net = torch.nn.Sequential(torch.nn.Dropout2d(0.5)).eval()
    out = sample_with_dropout(
        net, torch.ones(2, 3, 4, 5), 8, generator=torch.Generator().manual_seed(0)
    )
    maps = out.reshape(8 * 2 * 3, 20)
    assert torch.all(maps == maps[:, :1])  # constant per (pass, item, channel)
    assert set(maps[:, 0].tolist()) == {0.0, 2.0}


def test_alpha_dropout_is_refused():
    net = torch.nn.Sequential(torch.nn.AlphaDropout(0.2)).eval()
    with pytest.raises(TypeError, match="AlphaDropout"):
        sample_with_dropout(net, torch.ones(2, 3), 3)


def test_sample_without_dropout_is_deterministic():
    net = torch.nn.Sequential(torch.nn.Linear(3, 2)).eval()
    x = torch.randn(4, 3)
    out = sample_with_dropout(net, x, 5)
    for k in range(5):
        torch.testing.assert_close(out[k], net(x))


def test_skip_connection_falls_back_to_loop():
    class Skip(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(3, 3)
            self.drop = torch.nn.Dropout(0.5)

        def forward(self, x):
            h = self.lin(x)
            return h + self.drop(h)  # mixes the dropout output with its input

    torch.manual_seed(0)
    net, x = Skip().eval(), torch.randn(4, 3)
    out = sample_with_dropout(net, x, 3, generator=torch.Generator().manual_seed(5))
    # One pass after another, each with its own (4, 3) mask from the same stream.
    gen = torch.Generator().manual_seed(5)
    h = net.lin(x)
    for k in range(3):
        keep = torch.empty(4, 3).bernoulli_(0.5, generator=gen)
        torch.testing.assert_close(out[k], h + h * keep / 0.5)


@pytest.fixture(scope="module")
def toy():
    return _toy(30)


#: The channel dropout of TINY's two conv blocks.
BLOCK_DROPOUTS = ("blocks.block0.dropout", "blocks.block1.dropout")


def test_mc_dropout_switches_the_trunk_dropout_on_where_none_was_trained(toy):
    # Regression: with no dropout on the decision's path every pass was the same
    # and the epistemic uncertainty was exactly 0 (what `skvoice verify` printed).
    X, y = toy
    net = CNNClassifier(**{**TINY, "module__dropout": 0.0})
    mc = MCDropoutClassifier(net, n_passes=8, random_state=0).fit(X, y)
    assert mc.sampled_dropout_ == dict.fromkeys(BLOCK_DROPOUTS, 0.1)
    proba, u = mc.predict_proba(X, return_uncertainty=True)
    assert u.epistemic.max() > 0
    # The network itself is untouched: its own prediction has no dropout.
    assert not any(isinstance(m, torch.nn.Dropout2d) for m in mc.estimator_.trunk.modules())
    # A rate given is used instead, whatever was trained.
    mc2 = MCDropoutClassifier(net, n_passes=8, random_state=0, dropout=0.3).fit(X, y)
    assert mc2.sampled_dropout_ == dict.fromkeys(BLOCK_DROPOUTS, 0.3)
    assert mc2.predict_proba(X, return_uncertainty=True)[1].epistemic.mean() > u.epistemic.mean()


def test_mc_dropout_refuses_a_network_with_nothing_to_sample():
    from types import SimpleNamespace

    from skvoice.uncertainty._mc import sampled_path

    final = SimpleNamespace(
        trunk=torch.nn.Sequential(torch.nn.Linear(4, 2)),
        scorer_=SimpleNamespace(reads="log_proba"),
    )
    with pytest.raises(ValueError, match="would sample nothing.*module__block_dropout"):
        sampled_path(final, "auto")


def test_mc_dropout_properties_and_reproducible(toy):
    X, y = toy
    mc = MCDropoutClassifier(
        CNNClassifier(**{**TINY, "module__dropout": 0.5}), n_passes=10, random_state=0
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


class _Recorder(ClassifierMixin, BaseEstimator):
    """Remembers what it was fitted on; predicts the training class balance."""

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, X, y, groups=None):
        self.X_, self.y_, self.groups_ = np.asarray(X), np.asarray(y), groups
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        p = np.mean(self.y_ == self.classes_[1])
        return np.tile([1 - p, p], (len(X), 1))


def test_ensemble_bootstrap_resamples_rows_and_groups():
    from sklearn.utils import check_random_state

    X = np.arange(30, dtype=float).reshape(15, 2)
    y = np.arange(15) % 2
    groups = np.array([f"s{i % 5}" for i in range(15)])
    ens = DeepEnsembleClassifier(_Recorder(), n_estimators=3, bootstrap=True, random_state=0)
    ens.fit(X, y, groups=groups)
    # The same draws by hand: member seeds first, then one sample of n rows each.
    rng = check_random_state(0)
    seeds = rng.randint(0, 2**31 - 1, size=3)
    for member, seed in zip(ens.estimators_, seeds):
        idx = rng.randint(0, 15, 15)
        assert member.random_state == seed
        np.testing.assert_array_equal(member.X_, X[idx])
        np.testing.assert_array_equal(member.y_, y[idx])
        np.testing.assert_array_equal(member.groups_, groups[idx])  # rows stay aligned
    assert len({m.X_.tobytes() for m in ens.estimators_}) == 3
    # Without the bootstrap every member sees every row, in order.
    plain = DeepEnsembleClassifier(_Recorder(), n_estimators=2, random_state=0).fit(X, y)
    assert all(np.array_equal(m.X_, X) for m in plain.estimators_)


def test_ensemble_members_use_the_speaker_objective_with_groups(toy):
    X, y = toy
    groups = np.array([f"s{i % 6}" for i in range(30)])
    ens = DeepEnsembleClassifier(CNNClassifier(**TINY), n_estimators=2, random_state=0)
    ens.fit(X, y, groups=groups)
    assert all(m.objective_ == "speakers" for m in ens.estimators_)
    assert all(set(m.speakers_) == set(groups) for m in ens.estimators_)


def test_return_uncertainty_through_pipeline(toy):
    from sklearn.preprocessing import FunctionTransformer

    X, y = toy
    negate = FunctionTransformer(lambda Z: [-z for z in Z])
    mc = MCDropoutClassifier(
        CNNClassifier(**{**TINY, "module__dropout": 0.5}), n_passes=3, random_state=0
    )
    pipe = make_pipeline(negate, clone(mc)).fit(X, y)
    proba, u = pipe.predict_proba(X, return_uncertainty=True)
    # The same as the wrapper alone on the transformed recordings.
    ref_proba, ref_u = (
        clone(mc)
        .fit(negate.transform(X), y)
        .predict_proba(negate.transform(X), return_uncertainty=True)
    )
    np.testing.assert_allclose(proba, ref_proba, atol=1e-6)
    for k in ("total", "aleatoric", "epistemic", "std"):
        np.testing.assert_allclose(u[k], ref_u[k], atol=1e-6)
    assert u.epistemic.max() > 0


def test_mc_dropout_in_grid_search(toy):
    from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score

    X, y = toy
    mc = MCDropoutClassifier(CNNClassifier(**TINY), n_passes=3, random_state=0)
    cv = StratifiedKFold(2)
    grid = [1e-3, 1e-2]
    search = GridSearchCV(mc, {"estimator__lr": grid}, cv=cv, scoring="roc_auc").fit(X, y)
    # Every candidate scores what cross-validating it by hand gives.
    for lr, score in zip(grid, search.cv_results_["mean_test_score"]):
        by_hand = cross_val_score(
            clone(mc).set_params(estimator__lr=lr), X, y, cv=cv, scoring="roc_auc"
        )
        assert score == pytest.approx(by_hand.mean(), abs=1e-6)
    best = clone(mc).set_params(**search.best_params_).fit(X, y)
    np.testing.assert_allclose(search.predict_proba(X), best.predict_proba(X), atol=1e-6)


def test_predictions_are_thread_safe(toy):
    from concurrent.futures import ThreadPoolExecutor

    X, y = toy
    mc = MCDropoutClassifier(
        CNNClassifier(**{**TINY, "module__dropout": 0.5}), n_passes=5, random_state=0
    ).fit(X, y)
    serial_mc, serial_plain = mc.predict_proba(X), mc.estimator_.predict_proba(X)
    jobs = [mc.predict_proba, mc.estimator_.predict_proba] * 8
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda f: f(X), jobs))
    for k, got in enumerate(results):
        np.testing.assert_allclose(got, serial_mc if k % 2 == 0 else serial_plain, atol=1e-6)


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


def _speakers(n):
    return np.array([f"s{i % 6}" for i in range(n)])  # s1, s3, s5 allowed (odd rows)


def test_mc_dropout_under_cosine_samples_the_embedding(toy):
    # Regression: under backend="auto" MC dropout scored by posterior while the
    # model decided by cosine, so `skvoice verify` printed one next to the other.
    X, y = toy
    spk = _speakers(len(X))
    # Dropout before the head only does not touch the embedding: the default
    # path (block_dropout=0) switches the trunk's channel dropout on at 0.1.
    # Regression: every pass was the model's own decision, epistemic exactly 0.
    mc = MCDropoutClassifier(CNNClassifier(**TINY), n_passes=6, random_state=0)
    mc.fit(X, y, groups=spk)
    assert mc.estimator_.backend_ == "cosine"
    assert mc.sampled_dropout_ == dict.fromkeys(BLOCK_DROPOUTS, 0.1)  # not the head's 0.3
    proba, u = mc.predict_proba(X, return_uncertainty=True)
    assert u.epistemic.max() > 0
    # Dropout trained inside the trunk: sampled at its rate, each draw by cosine.
    mc = MCDropoutClassifier(
        CNNClassifier(**TINY, module__block_dropout=0.3), n_passes=8, random_state=0
    )
    mc.fit(X, y, groups=spk)
    assert mc.sampled_dropout_ == dict.fromkeys(BLOCK_DROPOUTS, 0.3)
    members = mc.predict_member_proba(X)
    assert members.shape == (8, len(X), 2) and u.epistemic.shape == (len(X),)
    assert members[:, :, 1].std(axis=0).max() > 0
    # Every draw is a probability of the cosine decision: a pass whose masks
    # keep every channel is the model's own prediction.
    from skvoice.uncertainty import _mc

    sampled = _mc._SampledDropout.__init__
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_mc._SampledDropout, "__init__", lambda self, p, *a: sampled(self, 0.0, *a))
        np.testing.assert_allclose(
            mc.predict_member_proba(X[:4])[0], mc.estimator_.predict_proba(X[:4]), atol=1e-9
        )
