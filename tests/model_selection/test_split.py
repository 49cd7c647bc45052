import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skvoice.model_selection import OpenSetGroupKFold


@st.composite
def corpora(draw):
    n_allowed = draw(st.integers(1, 4))
    n_refused = draw(st.integers(2, 8))
    k = draw(st.integers(2, n_refused))
    speakers, y = [], []
    for s in range(n_allowed + n_refused):
        n = draw(st.integers(k, 12))
        speakers += [f"spk{s}"] * n
        y += [int(s < n_allowed)] * n
    return np.array(speakers), np.array(y), k


@given(corpora(), st.booleans())
def test_property_open_set_invariants(corpus, shuffle):
    speakers, y, k = corpus
    cv = OpenSetGroupKFold(k, shuffle=shuffle, random_state=0)
    seen_test = np.zeros(len(y), dtype=int)
    refused_fold = {}
    for f, (train, test) in enumerate(cv.split(np.zeros(len(y)), y, speakers)):
        assert len(np.intersect1d(train, test)) == 0
        assert len(train) + len(test) == len(y)
        seen_test[test] += 1
        train_spk = set(speakers[train])
        for s in set(speakers[test]):
            if y[speakers == s][0] == 0:
                assert s not in train_spk  # impostor never heard in training
                refused_fold.setdefault(s, []).append(f)
            else:
                assert s in train_spk  # allowed speaker enrolled in training
        # Every fold tests at least one unseen impostor and every allowed speaker.
        assert any(y[test] == 0)
        for s in set(speakers[y == 1]):
            assert s in set(speakers[test])
    assert np.all(seen_test == 1)  # each recording tested exactly once
    assert all(len(v) == 1 for v in refused_fold.values())
    assert set(refused_fold) == set(speakers[y == 0])


def test_content_groups_stay_together():
    speakers = np.repeat(["a", "b", "c", "d"], 10)
    y = np.isin(speakers, ["a"]).astype(int)
    script = np.tile(np.repeat(np.arange(5), 2), 4)  # 5 scripts x 2 devices
    groups = np.c_[speakers, script]
    cv = OpenSetGroupKFold(3)
    for train, test in cv.split(np.zeros(40), y, groups):
        allowed_test = {(s, c) for s, c in groups[test] if s == "a"}
        allowed_train = {(s, c) for s, c in groups[train] if s == "a"}
        assert allowed_test.isdisjoint(allowed_train)


def test_deterministic_and_shuffled():
    speakers = np.repeat(list("abcdefgh"), 5)
    y = np.isin(speakers, list("ab")).astype(int)
    a = [t.tolist() for _, t in OpenSetGroupKFold(3).split(speakers, y, speakers)]
    b = [t.tolist() for _, t in OpenSetGroupKFold(3).split(speakers, y, speakers)]
    assert a == b
    c = [
        t.tolist()
        for _, t in OpenSetGroupKFold(3, shuffle=True, random_state=1).split(speakers, y, speakers)
    ]
    assert a != c


def test_errors():
    speakers = np.repeat(list("abc"), 4)
    y = np.array([1] * 4 + [0] * 8)
    with pytest.raises(ValueError, match="refused speakers"):
        list(OpenSetGroupKFold(3).split(speakers, y, speakers))
    with pytest.raises(ValueError, match="needs y"):
        list(OpenSetGroupKFold(2).split(speakers, None, None))
    y_mixed = y.copy()
    y_mixed[5] = 1
    with pytest.raises(ValueError, match="both allowed and refused"):
        list(OpenSetGroupKFold(2).split(speakers, y_mixed, speakers))
    with pytest.raises(ValueError, match="n_splits"):
        OpenSetGroupKFold(1)


def test_few_recordings_warns():
    speakers = np.array(["a", "b", "b", "c", "c"])
    y = np.array([1, 0, 0, 0, 0])
    # Without content groups, the units are the recordings, and the message says so.
    with pytest.warns(UserWarning, match=r"\['a'\] have fewer recordings than n_splits=2"):
        list(OpenSetGroupKFold(2).split(speakers, y, speakers))
    content = np.array(["t1", "t1", "t2", "t1", "t2"])
    with pytest.warns(UserWarning, match="fewer content groups than n_splits=2"):
        list(OpenSetGroupKFold(2).split(speakers, y, np.c_[speakers, content]))


def test_groupkfold_catch_allowed_speakers_unseen():
    """With GroupKFold by speaker, test allowed speakers were never in training."""
    from sklearn.model_selection import GroupKFold

    speakers = np.repeat(list("abcdef"), 4)
    y = np.isin(speakers, list("ab")).astype(int)
    for train, test in GroupKFold(3).split(speakers, y, speakers):
        assert set(speakers[test]).isdisjoint(speakers[train])


def test_pos_label_decides_who_is_held_out_whole():
    """Regression: the allowed class was np.unique(y).max(), so with labels
    "allowed" / "refused" the refused speakers were spread over the folds and the
    allowed ones held out whole."""
    speakers = np.repeat(["a", "b", "c", "d", "e"], 4)
    y = np.where(np.isin(speakers, ["a", "b"]), "allowed", "refused")
    with pytest.raises(ValueError, match="pos_label"):
        list(OpenSetGroupKFold(3).split(np.zeros(20), y, speakers))
    cv = OpenSetGroupKFold(3, pos_label="allowed")
    for train, test in cv.split(np.zeros(20), y, speakers):
        # Every allowed speaker is in training; each refused one is wholly in one side.
        assert {"a", "b"} <= set(speakers[train])
        for s in "cde":
            assert not (s in set(speakers[train]) and s in set(speakers[test]))
    y01 = (y == "allowed").astype(int)
    same = [t.tolist() for _, t in OpenSetGroupKFold(3).split(np.zeros(20), y01, speakers)]
    assert [t.tolist() for _, t in cv.split(np.zeros(20), y, speakers)] == same
