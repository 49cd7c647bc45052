"""Run every part of skvoice that touches torch on CUDA and compare it with the CPU.

Usage: python tools/check_cuda.py [--device cuda] [--out FILE]

Each check runs on the CPU and, when the device is available, on it, and
compares the two within a stated tolerance:

- inference from the same weights (a network fitted on the CPU, moved to the
  device): predict_proba of both objectives, the threshold of ``target_far``,
  novelty, MC dropout (masks are drawn from each device's own generator, so the
  mean over recordings of the passes' mean probability is compared), a deep
  ensemble, Grad-CAM, frequency importance, layer activations,
  re-initialisation robustness, the pretrained encoder's embeddings and its
  enrolment;
- training on the device (a different random stream than the CPU's: the
  comparison is with the same model saved on the device and loaded on the CPU)
  in float32 and with ``amp`` (bfloat16 autocast; compared with its own float32
  inference).

Without the device only the CPU half runs (every check's CPU side, so the script
itself is tested in CI), and the table says so. Prints a Markdown table; the exit
status is 1 when a comparison exceeds its tolerance.
"""

import argparse
import copy
import os
import sys
import tempfile
import time
import warnings

import numpy as np
import torch


def _data():
    from sklearn.pipeline import make_pipeline

    from skvoice.datasets import make_voices
    from skvoice.preprocessing import SilenceTrimmer, SpectrogramExtractor

    v = make_voices(n_speakers=6, n_recordings=6, duration=2.0, random_state=0)
    front = make_pipeline(SilenceTrimmer(), SpectrogramExtractor(n_mels=32))
    return v, front, front.fit_transform(v.data)


def _net(**kw):
    from skvoice.neural_network import CNNClassifier

    params = dict(
        module__n_filters=8, module__n_blocks=2, crop_frames=32, max_epochs=4, random_state=0
    )
    return CNNClassifier(**{**params, **kw})


def on_device(net, device):
    """A copy of a fitted network whose inference runs on ``device``."""
    moved = copy.deepcopy(net)
    moved.device_ = device
    moved.net_.module_.to(device)
    return moved


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def _diff(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return float("inf")
    finite = np.isfinite(a) & np.isfinite(b)
    if not np.array_equal(np.isfinite(a), np.isfinite(b)):
        return float("inf")
    return float(np.max(np.abs(a[finite] - b[finite]), initial=0.0))


def checks(v, specs, device):
    """``(name, what is compared, tolerance, cpu_fn, device_fn)`` for every check.

    ``cpu_fn()`` and ``device_fn()`` return arrays to compare; ``device_fn`` is
    only called when the device is available.
    """
    from skvoice import load_model, save_model
    from skvoice.inspection import (
        frequency_importance,
        grad_cam,
        layer_activations,
        reinitialization_robustness,
    )
    from skvoice.neural_network import SpeakerEmbedder
    from skvoice.uncertainty import DeepEnsembleClassifier, MCDropoutClassifier
    from skvoice.verification import make_enrollment_pipeline

    y, spk = v.target, v.speaker
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cosine = _net().fit(specs, y, groups=spk)
        binary = _net(objective="binary").fit(specs, y)
        far = _net(target_far=0.2, cv=2).fit(specs, y, groups=spk)
        ens = DeepEnsembleClassifier(_net(max_epochs=2), n_estimators=2, random_state=0)
        ens.fit(specs, y, groups=spk)
    moved = {}

    def dev(net):
        if id(net) not in moved:
            moved[id(net)] = on_device(net, device)
        return moved[id(net)]

    def mc_mean(net):
        mc = MCDropoutClassifier(net, n_passes=16, random_state=0)
        mc.estimator_, mc.classes_ = net, net.classes_
        proba, u = mc.predict_proba(specs, return_uncertainty=True)
        return [proba[:, 1].mean(), u["epistemic"].mean() > 0]

    def ensemble(members):
        e = copy.copy(ens)
        e.estimators_ = members
        return e.predict_proba(specs)

    def saved_and_loaded(net):
        with tempfile.TemporaryDirectory() as tmp:
            path = save_model(net, os.path.join(tmp, "m.skvoice"))
            loaded = load_model(path)[-1].set_params(amp=False)
            return loaded.predict_proba(specs)

    def trained_on(dev_name, **kw):
        """A model fitted on ``dev_name``, less its copy loaded on the CPU in float32."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = _net(device=dev_name, **kw).fit(specs, y, groups=spk)
        return net.predict_proba(specs) - saved_and_loaded(net)

    enrol = make_enrollment_pipeline(sr=v.sr)
    enrol.fit(v.data, y, enrollmentverifier__groups=spk)

    def enrolled_on(dev_name):
        pipe = copy.deepcopy(enrol)
        emb = pipe.named_steps["speakerembedder"]
        emb.set_params(device=dev_name)
        emb.network_ = (
            SpeakerEmbedder(pretrained=emb.pretrained, device=dev_name)
            .fit(pipe[:-2].transform(v.data[:1]))
            .network_
        )
        return pipe.predict_proba(v.data)

    enrol_specs = enrol[:-2].transform(v.data)

    def embed(dev_name):
        emb = SpeakerEmbedder(pretrained="speechocean762", device=dev_name).fit(enrol_specs)
        return emb.transform(enrol_specs)

    def cams(net):
        return np.concatenate([c.ravel() for c in grad_cam(net, specs[:4])])

    def freq(net):
        return frequency_importance(net, specs[:6], groups=spk[:6]).importance

    def acts(net):
        maps = layer_activations(net, specs[:2])
        return np.concatenate([m.ravel() for per_rec in maps.values() for m in per_rec])

    def reinit(net):
        keep = np.isin(spk, ["s00", "s01", "s02", "s03"])  # allowed and refused
        result = reinitialization_robustness(
            net,
            [s for s, k in zip(specs, keep) if k],
            y[keep],
            mode="rerandomize",
            enroll=(specs, y, spk),
        )
        return np.asarray(result.scores, dtype=float)

    cases = [
        ("predict_proba, speakers (cosine)", "probabilities", 1e-4, cosine, cosine.predict_proba),
        ("predict_proba, binary objective", "probabilities", 1e-4, binary, binary.predict_proba),
        ("target_far: decisions", "labels", 0, far, far.predict),
        ("novelty_score", "Mahalanobis distance", 1e-3, cosine, cosine.novelty_score),
        ("MC dropout (16 passes)", "mean P, epistemic > 0", 0.05, cosine, mc_mean),
        ("grad_cam", "saliency", 1e-3, cosine, cams),
        ("frequency_importance", "importance", 1e-3, cosine, freq),
        ("layer_activations", "feature maps", 1e-3, cosine, acts),
        ("reinitialization_robustness", "scores", 0.05, cosine, reinit),
    ]
    out = []
    for name, what, tol, net, fn in cases:
        if fn in (cosine.predict_proba, binary.predict_proba, cosine.novelty_score, far.predict):
            method = fn.__name__
            out.append(
                (
                    name,
                    what,
                    tol,
                    lambda n=net, m=method: getattr(n, m)(specs),
                    lambda n=net, m=method: getattr(dev(n), m)(specs),
                )
            )
        else:
            out.append((name, what, tol, lambda n=net, f=fn: f(n), lambda n=net, f=fn: f(dev(n))))
    out += [
        (
            "deep ensemble (2 members)",
            "probabilities",
            1e-4,
            lambda: ensemble(ens.estimators_),
            lambda: ensemble([on_device(m, device) for m in ens.estimators_]),
        ),
        (
            "SpeakerEmbedder(pretrained, device=)",
            "embeddings",
            1e-4,
            lambda: embed("cpu"),
            lambda: embed(device),
        ),
        (
            "enrolment pipeline on the device",
            "probabilities",
            1e-4,
            lambda: enrolled_on("cpu"),
            lambda: enrolled_on(device),
        ),
        (
            "fit on the device, saved, loaded on the CPU",
            "probabilities",
            1e-4,
            lambda: trained_on("cpu"),
            lambda: trained_on(device),
        ),
        (
            "fit with amp (bfloat16) against its float32 inference",
            "probabilities",
            0.05,
            lambda: trained_on("cpu", amp=True),
            lambda: trained_on(device, amp=True),
        ),
    ]
    return out


def main(device, out_path=None):
    import platform

    available = device == "cpu" or (device.startswith("cuda") and torch.cuda.is_available())
    v, _, specs = _data()
    rows, failed = [], 0
    for name, what, tol, cpu_fn, dev_fn in checks(v, specs, device):
        ref, t_cpu = _timed(cpu_fn)
        own = name.startswith("fit ")  # each side against its own copy on the CPU
        if own and _diff(ref, np.zeros_like(ref)) > tol:
            failed += 1
            rows.append(f"| {name} | {what} | {t_cpu:.2f} | - | - | {tol:g} | FAILED on cpu |")
            continue
        if not available:
            rows.append(f"| {name} | {what} | {t_cpu:.2f} | - | - | {tol:g} | no {device} |")
            continue
        got, t_dev = _timed(dev_fn)
        d = _diff(np.zeros_like(got) if own else ref, got)
        ok = d <= tol
        failed += not ok
        rows.append(
            f"| {name} | {what} | {t_cpu:.2f} | {t_dev:.2f} | {d:.2e} | {tol:g} | "
            f"{'ok' if ok else 'FAILED'} |"
        )
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    text = (
        f"tools/check_cuda.py --device {device}: torch {torch.__version__}, GPU {gpu}, "
        f"{platform.machine()}, Python {platform.python_version()}\n\n"
        "| check | compared | CPU s | device s | max abs diff | tolerance | result |\n"
        "|---|---|---|---|---|---|---|\n" + "\n".join(rows)
    )
    print(text)
    if out_path:
        with open(out_path, "w") as fh:
            fh.write(text + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    sys.exit(main(args.device, args.out))
