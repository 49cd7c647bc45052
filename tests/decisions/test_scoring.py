"""The scorers follow the device of what they score (CUDA, here stood in for by meta)."""

import numpy as np
import pytest
import torch

from skvoice.decisions import CosineScorer, PosteriorScorer
from skvoice.verification import EnrollmentVerifier


def _verifier(score_norm=None):
    rng = np.random.default_rng(0)
    E = np.repeat(rng.standard_normal((6, 8)), 4, axis=0) + 0.3 * rng.standard_normal((24, 8))
    spk = np.repeat([f"s{i}" for i in range(6)], 4)
    ver = EnrollmentVerifier(score_norm=score_norm).fit(E, np.isin(spk, ["s0", "s1"]), spk)
    return ver, E


@pytest.mark.parametrize("score_norm", [None, "s-norm"])
def test_cosine_scorer_builds_its_tensors_on_the_embeddings_device(score_norm):
    # Regression: on CUDA, Grad-CAM of a speaker-objective network failed in
    # centred_unit ("found at least two devices, cuda:0 and cpu"): the centring
    # mean, centroids and cohort were made on the CPU. A tensor on the meta device
    # raises the same error for any CPU tensor it meets.
    ver, E = _verifier(score_norm)
    scorer = CosineScorer(ver, pos_index=1, unit_input=True)
    on_meta = scorer.class_log_proba(torch.zeros(5, 8, device="meta"))
    assert on_meta.device.type == "meta" and on_meta.shape == (5, 2)
    # On the CPU the values are the verifier's own.
    cpu = scorer.score(torch.as_tensor(E[:5]))
    np.testing.assert_allclose(
        cpu.numpy(), ver.score_samples(E[:5] / np.linalg.norm(E[:5], axis=1, keepdims=True))
    )


def test_posterior_scorer_follows_the_device():
    scorer = PosteriorScorer(2, speaker_class=np.array([0, 0, 1]), pos_index=1)
    out = scorer.class_log_proba(torch.zeros(4, 3, device="meta"))
    assert out.device.type == "meta" and out.shape == (4, 2)
    logp = torch.log_softmax(torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64), dim=-1)
    p = torch.exp(scorer.class_log_proba(logp))[0].numpy()
    soft = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    np.testing.assert_allclose(p, [soft[:2].sum(), soft[2]])
