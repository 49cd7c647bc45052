import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import make_scorer

from skvoice.metrics import (
    eer_scorer,
    equal_error_rate,
    false_acceptance_rate,
    false_rejection_rate,
    far_at_frr,
    far_at_frr_scorer,
)


def test_eer_perfect_and_inverted():
    assert equal_error_rate([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 0.0
    assert equal_error_rate([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 1.0


def test_eer_hand_computed_crossing():
    # Thresholds give (FAR, FRR): (0, 1), (0, .5), (.5, .5), ... -> EER 0.5 at a point.
    assert equal_error_rate([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9]) == 0.5
    # 3 impostors, 2 genuine. Lowering the threshold past 0.9 (genuine), 0.7
    # (impostor), 0.6 (genuine) walks (FAR, FRR) = (0, 1), (0, 1/2), (1/3, 1/2),
    # (1/3, 0). The last segment is vertical at FAR = 1/3 and FRR falls through
    # 1/3 on it: the rates are equal there, so the EER is 1/3.
    assert equal_error_rate([0, 0, 0, 1, 1], [0.1, 0.2, 0.7, 0.6, 0.9]) == pytest.approx(1 / 3)
    # A slanted segment: 2 impostors and 2 genuine tied at 0.5 step from
    # (FAR, FRR) = (0, 1/2) to (1, 0); on it FRR = 1/2 - FAR/2 = FAR at FAR = 1/3.
    y, s = [0, 0, 1, 1, 1, 1], [0.5, 0.5, 0.5, 0.5, 0.9, 0.8]
    assert equal_error_rate(y, s) == pytest.approx(1 / 3)


def test_eer_with_ties():
    # All scores tied: the curve jumps from (0, 1) to (1, 0): EER 0.5.
    assert equal_error_rate([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5
    # A tie of one impostor and one genuine at 0.5: the curve steps from (FAR, FRR)
    # = (0, .5) to (.5, 0); the rates cross half-way along that segment.
    eer, thr = equal_error_rate([0, 0, 1, 1], [0.2, 0.5, 0.5, 0.9], return_threshold=True)
    assert eer == pytest.approx(0.25) and thr == 0.5


def test_far_frr_hand_computed():
    y = [0, 0, 0, 0, 1, 1, 1]
    p = [1, 0, 0, 1, 1, 0, 1]
    assert false_acceptance_rate(y, p) == 0.5
    assert false_rejection_rate(y, p) == pytest.approx(1 / 3)


def test_far_at_frr_hand_computed():
    y = [0, 0, 0, 0, 1, 1, 1, 1]
    s = [0.1, 0.3, 0.6, 0.8, 0.5, 0.7, 0.9, 0.95]
    # To keep every genuine (FRR 0), the threshold is 0.5: impostors 0.6, 0.8 pass.
    assert far_at_frr(y, s, frr=0.0) == 0.5
    # Rejecting one genuine of 4 (FRR .25) allows threshold 0.7: only 0.8 passes.
    assert far_at_frr(y, s, frr=0.25) == 0.25
    assert far_at_frr(y, s, frr=1.0) == 0.0


@pytest.mark.parametrize(
    "func,args",
    [
        (equal_error_rate, ([1, 1], [0.1, 0.2])),
        (false_acceptance_rate, ([1, 1], [1, 0])),
        (false_rejection_rate, ([0, 0], [1, 0])),
        (equal_error_rate, ([0, 2], [0.1, 0.2])),
        (equal_error_rate, ([0, 1], [0.1, np.nan])),
        (equal_error_rate, ([0, 1, 1], [0.1, 0.2])),
        (far_at_frr, ([0, 1], [0.1, 0.2], 1.5)),
    ],
)
def test_bad_input(func, args):
    with pytest.raises(ValueError):
        func(*args)


def test_scorers_are_negated_and_greater_is_better():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 2))
    y = (X[:, 0] + 0.5 * rng.standard_normal(80) > 0).astype(int)
    clf = LogisticRegression().fit(X, y)
    score = clf.decision_function(X)
    assert eer_scorer(clf, X, y) == pytest.approx(-equal_error_rate(y, score))
    assert far_at_frr_scorer(clf, X, y) == pytest.approx(-far_at_frr(y, score))
    assert isinstance(eer_scorer, type(make_scorer(abs)))


@given(
    st.lists(
        st.tuples(st.integers(0, 1), st.integers(-500, 500).map(lambda v: v / 100)),
        min_size=2,
        max_size=40,
    )
)
def test_property_eer_bounds_and_monotone_invariance(pairs):
    y = np.array([p[0] for p in pairs])
    s = np.array([p[1] for p in pairs])
    if len(np.unique(y)) < 2:
        return
    eer = equal_error_rate(y, s)
    assert 0.0 <= eer <= 1.0
    # A strictly increasing transform of the scores leaves the EER unchanged.
    assert equal_error_rate(y, np.exp(s)) == pytest.approx(eer)


def test_rates_are_not_symmetric():
    # 1 of 4 impostors accepted, 2 of 3 allowed refused: a swapped comparison or a
    # swapped class would give 3/4 or 1/3.
    y = [0, 0, 0, 0, 1, 1, 1]
    p = [1, 0, 0, 0, 0, 0, 1]
    assert false_acceptance_rate(y, p) == 0.25
    assert false_rejection_rate(y, p) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: equal_error_rate([0, 1], [0.5]), "y_true has 2 values but y_score has 1"),
        (lambda: false_acceptance_rate([0, 1], [1]), "y_true has 2 values but y_pred has 1"),
        (lambda: false_rejection_rate([0, 1], [1]), "y_true has 2 values but y_pred has 1"),
        (lambda: equal_error_rate([0, 2], [0.1, 0.2]), r"0 \(refused\) and 1 \(allowed\)"),
        (lambda: equal_error_rate([1, 1], [0.1, 0.2]), "Need both allowed"),
        (lambda: equal_error_rate([0, 1], [0.1, np.nan]), "y_score contains NaN"),
        (lambda: false_acceptance_rate([1, 1], [0, 1]), "No refused recordings"),
        (lambda: false_rejection_rate([0, 0], [0, 1]), "No allowed recordings"),
        (
            lambda: far_at_frr([0, 1], [0.1, 0.2], frr=1.5),
            r"'frr' parameter of far_at_frr must be a float in the range \[0.0, 1.0\]",
        ),
    ],
)
def test_errors_say_what_is_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_far_at_frr_scorer_takes_its_frr():
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.metrics import make_scorer

    from skvoice.metrics._verification import _neg_far_at_frr

    class Fixed(ClassifierMixin, BaseEstimator):
        def __init__(self, s=None):
            self.s = s
            self.classes_ = np.array([0, 1])

        def decision_function(self, X):
            return np.asarray(self.s)

    # 4 allowed: refusing 1 of them (25 %) lets the threshold pass the impostor at 0.7.
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    s = [0.1, 0.2, 0.3, 0.7, 0.5, 0.8, 0.9, 0.95]
    assert -far_at_frr_scorer(Fixed(s), None, y) == far_at_frr(y, s, frr=0.05) == 0.25
    scorer = make_scorer(_neg_far_at_frr, response_method="decision_function", frr=0.25)
    assert -scorer(Fixed(s), None, y) == far_at_frr(y, s, frr=0.25) == 0.0


def test_acceptance_by_speaker_against_a_hand_count():
    from skvoice.metrics import acceptance_by_speaker

    rng = np.random.default_rng(0)
    spk = np.repeat(["b", "a", "c"], [5, 8, 3])
    y = (spk == "a").astype(int)
    pred = rng.integers(0, 2, len(y))
    t = acceptance_by_speaker(y, pred, spk, n_bootstraps=500)
    assert t["speaker"].tolist() == ["a", "b", "c"]
    assert t["allowed"].tolist() == [True, False, False]
    assert t["recordings"].tolist() == [8, 5, 3]
    for k, name in enumerate(t["speaker"]):
        hand = pred[spk == name].mean()
        assert t["accepted"][k] == pytest.approx(hand)
        assert t["ci_low"][k] <= hand <= t["ci_high"][k]
    # A speaker always accepted has a degenerate interval at 1.
    t = acceptance_by_speaker([0, 0], [1, 1], ["x", "x"])
    assert (t["ci_low"][0], t["ci_high"][0]) == (1.0, 1.0)
    with pytest.raises(ValueError, match="allowed and refused"):
        acceptance_by_speaker([0, 1], [1, 1], ["x", "x"])


# --- minDCF and Cllr ------------------------------------------------------------


def _brute_min_dcf(y, s, p, c_miss=1.0, c_fa=1.0):
    """The cost at every threshold between and beyond the scores, by counting."""
    y, s = np.asarray(y), np.asarray(s, dtype=float)
    cuts = np.r_[-np.inf, np.unique(s), np.inf]
    best = np.inf
    for t in cuts:
        accept = s >= t
        p_miss = np.mean(~accept[y == 1])
        p_fa = np.mean(accept[y == 0])
        cost = c_miss * p * p_miss + c_fa * (1 - p) * p_fa
        best = min(best, cost / min(c_miss * p, c_fa * (1 - p)))
    return min(best, 1.0)


def test_min_dcf_hand_computed():
    from skvoice.metrics import min_dcf

    y = [0, 0, 0, 1, 1]
    s = [0.1, 0.4, 0.6, 0.5, 0.9]
    # p = 0.5: accept >= 0.5 misses none and accepts 1 of 3: (0.5/3) / 0.5.
    assert min_dcf(y, s, p_target=0.5) == pytest.approx(1 / 3)
    # p = 0.01: a miss costs 0.01, a false acceptance 0.99; refusing everyone
    # costs 0.01 (normalised: 1), accepting >= 0.9 costs 0.01 * 0.5 -> 0.5.
    value, threshold = min_dcf(y, s, p_target=0.01, return_threshold=True)
    assert value == pytest.approx(0.5) and threshold == 0.9
    # Costs: c_fa = 10 at p = 0.5 -> the normaliser is 0.5; accepting >= 0.9
    # (one miss of two) costs 0.25 -> 0.5.
    assert min_dcf(y, s, p_target=0.5, c_fa=10.0) == pytest.approx(0.5)


@settings(max_examples=150, deadline=None)
@given(
    scores=st.lists(st.integers(-6, 6), min_size=2, max_size=30),
    labels=st.lists(st.booleans(), min_size=2, max_size=30),
    p=st.sampled_from([0.01, 0.05, 0.3, 0.5, 0.9]),
    c_fa=st.sampled_from([1.0, 3.0]),
)
def test_min_dcf_equals_a_brute_force_sweep(scores, labels, p, c_fa):
    from skvoice.metrics import min_dcf

    n = min(len(scores), len(labels))
    y, s = np.asarray(labels[:n], dtype=int), np.asarray(scores[:n], dtype=float)
    if len(set(y)) < 2:
        return
    assert min_dcf(y, s, p_target=p, c_fa=c_fa) == pytest.approx(
        _brute_min_dcf(y, s, p, c_fa=c_fa), abs=1e-12
    )


def test_cllr_hand_computed_and_bounds():
    from skvoice.metrics import cllr

    # llr = 0 everywhere: no information, 1 bit.
    assert cllr([0, 1, 1], [0.0, 0.0, 0.0]) == pytest.approx(1.0)
    # One target at llr = ln 3, one non-target at -ln 3: log2(1 + 1/3) each.
    assert cllr([1, 0], [np.log(3), -np.log(3)]) == pytest.approx(np.log2(4 / 3))
    # Confidently wrong costs more than no information; infinities are handled.
    assert cllr([1, 0], [-5.0, 5.0]) > 1
    assert cllr([1, 0], [np.inf, -np.inf]) == 0.0
    with pytest.raises(ValueError, match="NaN"):
        cllr([1, 0], [np.nan, 0.0])


def test_min_cllr_is_the_cllr_after_the_best_monotone_calibration():
    from sklearn.isotonic import IsotonicRegression

    from skvoice.metrics import cllr, min_cllr

    rng = np.random.default_rng(0)
    y = np.r_[np.ones(200, int), np.zeros(600, int)]
    s = np.r_[rng.normal(2, 1, 200), rng.normal(0, 1, 600)]
    # Any monotone map of the scores has the same min Cllr ...
    assert min_cllr(y, s) == pytest.approx(min_cllr(y, np.exp(s)), abs=1e-12)
    # ... which is never above the Cllr of calibrated scores (the true LLR of
    # two unit Gaussians 2 apart is 2 s - 2), nor of any affine recalibration.
    assert min_cllr(y, s) <= cllr(y, 2 * s - 2) + 1e-12
    for a, b in [(1.0, 0.0), (3.0, -1.0), (0.5, -2.0)]:
        assert min_cllr(y, s) <= cllr(y, a * s + b)
    # By hand: PAV posteriors with the data's prior removed.
    post = IsotonicRegression(y_min=0, y_max=1).fit_transform(s, y)
    with np.errstate(divide="ignore"):
        llr = np.log(post) - np.log1p(-post) - np.log(200 / 600)
    assert min_cllr(y, s) == pytest.approx(cllr(y, llr))
    # Separable scores lose nothing; reversed ones keep no information.
    assert min_cllr([0, 0, 1, 1], [1, 2, 3, 4]) == 0.0
    assert min_cllr([1, 1, 0, 0], [1, 2, 3, 4]) == pytest.approx(1.0)


def test_new_scorers_in_a_search():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    from skvoice.metrics import cllr_scorer, min_dcf, min_dcf_scorer

    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 3))
    y = (X[:, 0] + 0.5 * rng.standard_normal(120) > 0).astype(int)
    clf = LogisticRegression().fit(X, y)
    assert min_dcf_scorer(clf, X, y) == -min_dcf(y, clf.decision_function(X))
    assert cllr_scorer(clf, X, y) < 0
    assert cross_val_score(LogisticRegression(), X, y, scoring=min_dcf_scorer, cv=3).shape == (3,)


def test_pos_label_names_the_allowed_label():
    """String labels give the same rates as 0/1 once pos_label names the allowed one."""
    from skvoice.metrics import (
        cllr,
        equal_error_rate,
        false_acceptance_rate,
        false_rejection_rate,
        far_at_frr,
        min_cllr,
        min_dcf,
        threshold_at_far,
    )

    rng = np.random.default_rng(0)
    y01 = rng.integers(0, 2, 60)
    y01[:2] = [0, 1]
    score = y01 + rng.normal(0, 0.8, 60)
    names = np.where(y01 == 1, "allowed", "refused")
    for f in (equal_error_rate, far_at_frr, min_dcf, min_cllr, cllr):
        assert f(names, score, pos_label="allowed") == f(y01, score)
    assert threshold_at_far(names, score, 0.1, pos_label="allowed") == threshold_at_far(
        y01, score, 0.1
    )
    pred01 = (score > 0.5).astype(int)
    pred = np.where(pred01 == 1, "allowed", "refused")
    assert false_acceptance_rate(names, pred, pos_label="allowed") == false_acceptance_rate(
        y01, pred01
    )
    assert false_rejection_rate(names, pred, pos_label="allowed") == false_rejection_rate(
        y01, pred01
    )
    # "refused" sorts after "allowed": without pos_label nothing guesses from the order.
    with pytest.raises(ValueError, match="pos_label"):
        equal_error_rate(names, score)
    with pytest.raises(ValueError, match="pos_label"):
        false_acceptance_rate(names, pred)


def test_scorer_passes_pos_label():
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import make_scorer

    from skvoice.metrics import equal_error_rate

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=80) > 0, "allowed", "refused")
    clf = LogisticRegression().fit(X, y)  # classes_ = ["allowed", "refused"]
    scorer = make_scorer(
        equal_error_rate,
        greater_is_better=False,
        response_method="decision_function",
        pos_label="allowed",
    )
    # decision_function scores "refused"; the scorer flips it for pos_label.
    expected = equal_error_rate(y, -clf.decision_function(X), pos_label="allowed")
    assert -scorer(clf, X, y) == pytest.approx(expected)
    assert expected < 0.3
