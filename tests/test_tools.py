"""The project's own tools run (their GPU half where a GPU is, their CPU half here)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import needs_ge2e

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_check_cuda_runs_and_compares_on_the_cpu(tmp_path):
    # --device cpu runs every comparison against a CPU copy: the script's logic
    # is exercised (and every check must agree exactly, or within amp's tolerance).
    out = tmp_path / "table.md"
    res = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "check_cuda.py"),
            "--device",
            "cpu",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert res.returncode == 0, res.stdout + res.stderr[-2000:]
    rows = [
        line
        for line in out.read_text().splitlines()
        if line.startswith("| ") and "---" not in line
    ]
    assert len(rows) == 15  # the header and 14 checks
    assert all(line.rstrip(" |").endswith("ok") for line in rows[1:])


@pytest.fixture(autouse=True)
def _keep_torch_threads():
    """The training sets torch's thread count: give the worker back its own."""
    import torch

    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _pretrain_encoder():
    """tools/pretrain_encoder.py as a module (tools/ is not a package)."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import pretrain_encoder
    finally:
        sys.path.remove(str(ROOT / "tools"))
    return pretrain_encoder


def test_distill_loss_is_the_cosine_distance_by_hand():
    import torch

    pe = _pretrain_encoder()
    projection = torch.nn.Linear(2, 3, bias=False)
    with torch.no_grad():
        projection.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))
    emb = torch.tensor([[1.0, 0.0], [3.0, 4.0]])
    target = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 5.0]])
    # Row 1: the same direction (distance 0); row 2: orthogonal (distance 1).
    assert pe.distill_loss(emb, projection, target).item() == pytest.approx(0.5)


@needs_ge2e
def test_teacher_is_ge2e_on_crops_levelled_to_minus_30_dbfs():
    from skvoice.neural_network._ge2e import GE2EEncoder

    pe = _pretrain_encoder()
    rng = np.random.default_rng(0)
    crops = rng.standard_normal((3, 24000)).astype(np.float32) * np.array([[0.5], [0.01], [0.1]])
    rms = np.sqrt(np.mean(crops.astype(np.float64) ** 2, axis=1, keepdims=True))
    by_hand = (crops * 10 ** (-30 / 20) / rms).astype(np.float32)
    expected = GE2EEncoder().embed(list(by_hand))
    np.testing.assert_allclose(pe.Teacher()(crops).numpy(), expected, atol=1e-5)


def _tones(pe, monkeypatch):
    """Five "speakers" of harmonic tones at different F0, with noise, as training speech."""
    rng = np.random.default_rng(0)
    t = np.arange(48000) / 16000
    waves = [
        (np.sin(2 * np.pi * f0 * t) + 0.5 * np.sin(4 * np.pi * f0 * t)) * 0.3
        + 0.01 * rng.standard_normal(t.size)
        for f0 in (110, 140, 180, 220, 260)
        for _ in range(3)
    ]
    index = np.repeat(np.arange(5), 3)
    monkeypatch.setattr(
        pe,
        "load_training_speech",
        lambda data, n_val=0: (
            [waves] * len(pe.SPEEDS),
            index,
            np.array(list("abcde")),
            waves[:6],
            np.repeat(["v1", "v2"], 3),
        ),
    )


def _args(tmp_path, **kw):
    import argparse

    args = dict(
        data="unused", out=str(tmp_path), seed=0, steps=40, batch_size=8, lr=2e-3,
        weight_decay=1e-4, margin=0.2, scale=30.0, threads=1, log_every=20,
        evaluate_only=False, distill="ge2e", distill_weight=10.0, robust=False,
        val_speakers=0, benchmark=False,
    )  # fmt: skip
    return argparse.Namespace(**{**args, **kw})


@needs_ge2e
def test_distilled_training_is_deterministic_from_the_seed(tmp_path, monkeypatch):
    pe = _pretrain_encoder()
    _tones(pe, monkeypatch)
    runs = [pe.train(_args(tmp_path, steps=6, seed=seed))[0] for seed in (3, 3, 4)]
    assert runs[0].keys() == runs[1].keys()
    assert all(np.array_equal(runs[0][k], runs[1][k]) for k in runs[0])
    assert not all(np.array_equal(runs[0][k], runs[2][k]) for k in runs[0])


@needs_ge2e
def test_distillation_pulls_the_student_towards_the_teacher(tmp_path, monkeypatch):
    import torch

    pe = _pretrain_encoder()
    _tones(pe, monkeypatch)
    cosines = []
    real_distill_loss = pe.distill_loss

    def spy(emb, projection, target):
        d = real_distill_loss(emb, projection, target)
        cosines.append(1.0 - d.item())
        return d

    monkeypatch.setattr(pe, "distill_loss", spy)
    args = _args(tmp_path)
    state, seconds, n_utts, n_speakers = pe.train(args)
    assert len(cosines) == 40
    assert np.mean(cosines[-10:]) > np.mean(cosines[:10]) + 0.2
    # Only the trunk is kept: the projection to the teacher is dropped.
    assert not any(k.startswith(("head.", "projection")) for k in state)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    pe.save(args, state, seconds, n_utts, n_speakers)
    card = json.loads((tmp_path / "encoder.json").read_text())
    assert "--distill ge2e --distill-weight 10.0" in card["training"]["command"]
    assert "True" not in card["training"]["command"]  # flags are written bare
    assert "None" not in card["training"]["command"]
    assert card["teacher"]["name"] == "ge2e"
    assert card["teacher"]["licence"].startswith("Apache-2.0")
    assert "cosine distance to the ge2e teacher" in card["training"]["objective"]


@needs_ge2e
def test_robust_training_degrades_the_student_and_asks_the_clean_teacher(tmp_path, monkeypatch):
    import torch

    pe = _pretrain_encoder()
    _tones(pe, monkeypatch)
    targets, crops_seen = [], []
    real_distill_loss, real_batch = pe.distill_loss, pe.make_batch

    def spy(emb, projection, target):
        targets.append(target.clone())
        return real_distill_loss(emb, projection, target)

    def batch_spy(*a, **kw):
        out = real_batch(*a, **kw)
        crops_seen.append(out[2])
        return out

    monkeypatch.setattr(pe, "distill_loss", spy)
    monkeypatch.setattr(pe, "make_batch", batch_spy)
    args = _args(tmp_path, steps=4, robust=True)
    state, *_ = pe.train(args)
    # Crops of 0.5-2 s; the teacher's targets are its embeddings of whole clean
    # utterances, the same whatever the crop drawn from them.
    assert all(0.5 * pe.SR <= c.shape[1] <= 2 * pe.SR for c in crops_seen)
    teacher = pe.Teacher()
    whole = teacher([np.asarray(w, dtype=np.float32) for w in pe.load_training_speech("x")[0][0]])
    for t in targets:
        assert all(any(torch.allclose(row, w, atol=1e-5) for w in whole) for row in t)
    again = pe.train(_args(tmp_path, steps=4, robust=True))[0]
    assert all(torch.equal(state[k], again[k]) for k in state)  # seeded
    pe.save(args, state, 1.0, 15, 5)
    command = json.loads((tmp_path / "encoder.json").read_text())["training"]["command"]
    assert " --robust " in command + " " and "True" not in command  # reruns as written


def test_validation_speakers_are_held_out_and_every_fifth():
    pe = _pretrain_encoder()
    names = [f"S{k:03d}" for k in range(125)]
    held = pe.validation_speakers(names, 25)
    assert len(held) == 25 and held == set(names[::5])
    assert pe.validation_speakers(names, 0) == set()
