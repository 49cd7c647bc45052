"""Pretrain skvoice's speaker encoder on the ``test/`` speakers of speechocean762.

Usage::

    python tools/pretrain_encoder.py --data /path/to/speechocean762 --out DIR
        [--seed 0] [--steps 6000] [--threads 2] [--distill ge2e --distill-weight W]
        [--robust] [--val-speakers 25]

Writes ``DIR/encoder.pt`` (the trunk's weights, a plain state dict loadable with
``torch.load(weights_only=True)``) and ``DIR/encoder.json`` (front-end and
architecture settings, SHA-256 of the weights, provenance), then validates it on
the ``--val-speakers`` speakers of ``test/`` held out of training (every fifth in
sorted order): enrolment EER on clean, telephone, 1 s, noisy and reverberant
versions of their recordings. Choices (weights, augmentation, steps) are made on
that validation, never on the ``train/`` speakers the benchmarks use, and every
run is appended to ``tools/encoder_runs.jsonl`` (its command and validation).
``--benchmark`` also runs the access-control protocol of ``benchmarks/_real.py``
on the ``train/`` speakers, as a report, not a choice.

The network is skvoice's own :class:`~skvoice.neural_network.CNNClassifier`
trunk at its default size, so ``CNNClassifier(pretrained=...)`` can start from it.
It is trained as a classifier over the 125 speakers with an additive angular
margin softmax (ArcFace: the target logit is ``s cos(theta + m)``), on random
1-3 s crops of the silence-trimmed utterances with:

- speed perturbation (0.9, 1.0, 1.1, soxr);
- gain (-20 to +10 dB, clipped to full scale, as a hot device would);
- additive white, pink or brown noise at 0-20 dB SNR;
- simulated room reverberation (exponentially decaying noise, RT60 0.2-0.8 s);
- telephone band (down to 8 kHz and back);

each with its own probability. Everything is drawn from one seed, so a run is
reproducible on the same machine and thread count.

With ``--distill ge2e`` (``pip install "skvoice[ge2e]"``) the encoder also learns
from GE2E, trained by its authors on thousands of speakers: every augmented crop
goes through the GE2E teacher too (levelled to -30 dBFS, as
``make_enrollment_pipeline("ge2e")`` does), a linear projection maps the
student's embedding to the teacher's 256 dimensions, and ``W * (1 - cosine)``
between the two joins the margin loss. The projection is dropped afterwards: the
shipped trunk is the same size as without distillation.

With ``--robust`` the student learns to hold under the channels of
``skvoice.augment`` while the teacher hears clean speech: the student's crops are
0.5-2 s and pass, each with its own probability, through a room
(``Reverberate``, RT60 0.2-1.0 s), noise (coloured, or babble of other training
utterances, 0-20 dB SNR) and a telephone channel (300-3400 Hz, 8 kHz, mu-law,
A-law, GSM 6.10 or no codec); the teacher's target is its embedding of the
clean, whole utterance. The speed variants (0.9x, 1.1x) are new voices, with
labels and teacher embeddings of their own (as Kaldi and WeSpeaker treat
speed-perturbed speech).
"""

import argparse
import hashlib
import json
import math
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

SR = 16000
SPEEDS = (0.9, 1.0, 1.1)


def git_revision():
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "tools", "skvoice"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def validation_speakers(speakers, n):
    """The ``n`` speakers held out for validation: every fifth in sorted order, from the first."""
    ordered = sorted(speakers)
    step = max(1, len(ordered) // max(1, n)) if n else 0
    return set(ordered[::step][:n]) if n else set()


def load_training_speech(data_home, n_val=0):
    """Silence-trimmed waveforms of the ``test/`` speakers, with speed variants.

    Returns the training speakers' variants, speaker index and names, and the
    held-out validation speakers' trimmed waveforms and names.
    """
    from skvoice.datasets import load_speechocean762
    from skvoice.datasets._base import read_many
    from skvoice.io import resample
    from skvoice.preprocessing import SilenceTrimmer

    so = load_speechocean762(data_home, subset="test", return_paths=True)
    waves = read_many(so.filename, SR, n_jobs=2, desc="Decoding test/")
    waves = SilenceTrimmer(sr=SR).fit_transform(waves)
    held = validation_speakers(np.unique(so.speaker), n_val)
    val = np.isin(so.speaker, sorted(held))
    val_waves = [w for w, v in zip(waves, val) if v]
    val_speakers = np.asarray(so.speaker)[val]
    waves = [w for w, v in zip(waves, val) if not v]
    # A speed factor f plays the recording f times faster (pitch and tempo).
    variants = [
        [w if f == 1.0 else resample(w, SR, int(round(SR / f))) for w in waves] for f in SPEEDS
    ]
    speakers, index = np.unique(np.asarray(so.speaker)[~val], return_inverse=True)
    return variants, index, speakers, val_waves, val_speakers


def colored_noise(rng, n, length):
    """White, pink or brown noise (power spectrum 1/f^beta), unit power per row."""
    beta = rng.integers(0, 3, size=n)
    spec = rng.standard_normal((n, length // 2 + 1)) + 1j * rng.standard_normal(
        (n, length // 2 + 1)
    )
    f = np.arange(length // 2 + 1, dtype=float)
    f[0] = 1.0
    spec *= f[None, :] ** (-beta[:, None] / 2.0)
    noise = np.fft.irfft(spec, n=length, axis=1)
    return noise / (np.sqrt(np.mean(noise**2, axis=1, keepdims=True)) + 1e-12)


def room_response(rng):
    """A synthetic impulse response: direct path then exponentially decaying noise."""
    rt60 = rng.uniform(0.2, 0.8)
    n = int(SR * rt60)
    t = np.arange(n) / SR
    h = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
    h[0] = 1.0 / rng.uniform(0.3, 1.0)  # direct-to-reverberant ratio varies
    return h / np.sqrt(np.sum(h**2))


def student_channel(rng_seed, babble):
    """The degradations of ``--robust``'s student crops (skvoice.augment), made once."""
    from skvoice.augment import AddNoise, Reverberate, TelephoneChannel

    rooms = Reverberate(rt60=(0.2, 1.0), n_rooms=32, random_state=rng_seed).fit([np.ones(SR)])
    colour = {c: AddNoise(snr_db=(0.0, 20.0), noise=c) for c in ("white", "pink", "brown")}
    babble = AddNoise(snr_db=(0.0, 20.0), noise=babble, n_sources=4)
    phone = TelephoneChannel(codec=["ulaw", "alaw", "gsm"])
    plain_phone = TelephoneChannel(codec=None)

    def degrade(crop, rng):
        if rng.random() < 0.3:
            crop = rooms.degrade(crop, rng)
        if rng.random() < 0.4:
            noise = (
                babble
                if rng.random() < 0.3
                else colour[("white", "pink", "brown")[rng.integers(3)]]
            )
            crop = noise.degrade(crop, rng)
        if rng.random() < 0.4:
            crop = (phone if rng.random() < 0.75 else plain_phone).degrade(crop, rng)
        return crop

    return degrade


def make_batch(rng, variants, index, batch_size, frontend, robust=None):
    """One batch of augmented crops -> (spectrograms tensor, labels, crops, utterances).

    With ``robust`` (a ``student_channel``), crops are 0.5-2 s and degraded by it;
    the labels count each speed variant as a voice of its own, and ``utterances``
    says which (variant, utterance) each crop came from, for the teacher.
    """
    from scipy.signal import fftconvolve

    from skvoice.io import resample

    n_spk = index.max() + 1
    spk = rng.integers(0, n_spk, size=batch_size)  # every speaker equally often
    length = int(rng.uniform(0.5, 2.0) * SR) if robust else int(rng.uniform(1.0, 3.0) * SR)
    crops = np.empty((batch_size, length), dtype=np.float64)
    which = np.empty((batch_size, 2), dtype=int)
    for i, s in enumerate(spk):
        utt = rng.choice(np.flatnonzero(index == s))
        v = rng.integers(len(SPEEDS))
        which[i] = v, utt
        w = variants[v][utt]
        if len(w) < length:
            w = np.resize(w, length)  # loops a short utterance
        start = rng.integers(0, len(w) - length + 1)
        crops[i] = w[start : start + length]
    labels = spk + n_spk * which[:, 0] if robust else spk
    if robust is not None:
        gain = 10.0 ** (rng.uniform(-20.0, 10.0, size=batch_size) / 20.0)
        peak = np.abs(crops).max(axis=1) + 1e-9
        crops *= (gain / peak)[:, None] * 0.5
        crops = np.stack([robust(c.astype(np.float32), rng) for c in crops]).astype(np.float32)
        specs = np.stack([frontend.spectrogram_one(c) for c in crops])
        return torch.from_numpy(specs[:, None]), torch.from_numpy(labels), crops, which
    # Reverberation first (the room), then the device: gain, noise, band.
    for i in np.flatnonzero(rng.random(batch_size) < 0.3):
        crops[i] = fftconvolve(crops[i], room_response(rng))[:length]
    gain = 10.0 ** (rng.uniform(-20.0, 10.0, size=batch_size) / 20.0)
    peak = np.abs(crops).max(axis=1) + 1e-9
    crops *= (gain / peak)[:, None] * 0.5
    noisy = rng.random(batch_size) < 0.5
    if noisy.any():
        power = np.mean(crops[noisy] ** 2, axis=1, keepdims=True)
        snr = rng.uniform(0.0, 20.0, size=(noisy.sum(), 1))
        noise = colored_noise(rng, int(noisy.sum()), length)
        crops[noisy] += noise * np.sqrt(power / 10.0 ** (snr / 10.0))
    np.clip(crops, -1.0, 1.0, out=crops)
    for i in np.flatnonzero(rng.random(batch_size) < 0.2):
        crops[i] = resample(resample(crops[i], SR, 8000), 8000, SR)[:length]
    crops = crops.astype(np.float32)
    specs = np.stack([frontend.spectrogram_one(c) for c in crops])
    return torch.from_numpy(specs[:, None]), torch.from_numpy(labels), crops, which


def aam_logits(emb, weight, labels, margin, scale):
    """Additive angular margin softmax logits (ArcFace)."""
    cos = F.linear(F.normalize(emb), F.normalize(weight)).clamp(-1 + 1e-7, 1 - 1e-7)
    target = torch.cos(torch.acos(cos.gather(1, labels[:, None])) + margin)
    return scale * cos.scatter(1, labels[:, None], target)


class Teacher:
    """GE2E embeddings of the crops the student sees, levelled as the GE2E pipeline does."""

    def __init__(self):
        from skvoice.neural_network._ge2e import LEVEL_DBFS, GE2EEncoder
        from skvoice.preprocessing import LevelNormalizer

        self.encoder = GE2EEncoder()
        self.level = LevelNormalizer(sr=SR, target_dbfs=LEVEL_DBFS).fit([np.ones(SR)])
        self.dim = self.encoder.module_.linear.out_features

    def __call__(self, crops):
        return torch.from_numpy(self.encoder.embed(self.level.transform(list(crops))))


def distill_loss(emb, projection, target):
    """Mean cosine distance between the projected student and the teacher."""
    return (1.0 - F.cosine_similarity(projection(emb), target, dim=1)).mean()


def train(args):
    from tqdm.auto import tqdm

    from skvoice.neural_network._module import SpectrogramCNN
    from skvoice.neural_network._pretrained import ARCHITECTURE, FRONTEND, trunk_state
    from skvoice.preprocessing import SpectrogramExtractor

    args.revision = git_revision()  # before anything can change the tree
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    variants, index, speakers, val_waves, val_speakers = load_training_speech(
        args.data, args.val_speakers
    )
    n_utts = len(index)
    print(
        f"{n_utts} utterances of {len(speakers)} speakers, {len(set(val_speakers))} held out "
        f"for validation ({time.perf_counter() - t0:.0f} s)"
    )
    robust = None
    n_classes = len(speakers)
    if args.robust:
        babble = [w for w in variants[1][::7] if len(w) > SR // 2]
        robust = student_channel(args.seed, babble)
        n_classes = len(speakers) * len(SPEEDS)  # each speed variant a voice of its own
    frontend = SpectrogramExtractor(**FRONTEND)
    module = SpectrogramCNN(n_bins=FRONTEND["n_mels"], n_classes=1, **ARCHITECTURE)
    weight = torch.nn.Parameter(torch.randn(n_classes, ARCHITECTURE["embedding_dim"]) * 0.01)
    params = [p for n, p in module.named_parameters() if not n.startswith("head")] + [weight]
    teacher = projection = None
    clean_targets = None
    if args.distill:
        teacher = Teacher()
        projection = torch.nn.Linear(ARCHITECTURE["embedding_dim"], teacher.dim)
        params += list(projection.parameters())
        if args.robust:
            # The teacher hears each whole utterance clean, once: its targets.
            clean_targets = [
                torch.cat([teacher(variant[i : i + 64]) for i in range(0, len(variant), 64)])
                for variant in variants
            ]
            print(f"teacher targets of {len(SPEEDS)} x {n_utts} clean utterances", flush=True)
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    warmup = max(1, args.steps // 20)

    def lr_at(step):  # linear warm-up, then cosine decay to 1 % of the peak
        if step < warmup:
            return (step + 1) / warmup
        p = (step - warmup) / max(1, args.steps - warmup)
        return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * p))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_at)
    module.train()
    bar = tqdm(range(args.steps), desc="Pretraining", mininterval=5)
    loss_sum = acc_sum = cos_sum = 0.0
    for step in bar:
        X, labels, crops, which = make_batch(
            rng, variants, index, args.batch_size, frontend, robust
        )
        # The margin grows over the first fifth of training (easier start).
        margin = args.margin * min(1.0, step / max(1, args.steps // 5))
        emb = module.embed(X)
        logits = aam_logits(emb, weight, labels, margin, args.scale)
        loss = F.cross_entropy(logits, labels)
        if teacher is not None:
            if clean_targets is not None:
                target = torch.stack([clean_targets[v][u] for v, u in which])
            else:
                target = teacher(crops)
            distance = distill_loss(emb, projection, target)
            loss = loss + args.distill_weight * distance
            cos_sum += 1.0 - distance.item()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        loss_sum += loss.item()
        acc_sum += (logits.argmax(1) == labels).float().mean().item()
        if (step + 1) % args.log_every == 0:
            print(
                f"step {step + 1:5d}  loss {loss_sum / args.log_every:.3f}  "
                f"train acc {acc_sum / args.log_every:.3f}  "
                + (f"cos to teacher {cos_sum / args.log_every:.3f}  " if teacher else "")
                + f"lr {schedule.get_last_lr()[0]:.2e}  "
                f"{time.perf_counter() - t0:.0f} s",
                flush=True,
            )
            loss_sum = acc_sum = cos_sum = 0.0
    train_s = time.perf_counter() - t0
    args.validation_set = (val_waves, val_speakers)
    return trunk_state(module), train_s, n_utts, len(speakers)


def save(args, state, train_s, n_utts, n_speakers):
    from skvoice.neural_network._pretrained import ARCHITECTURE, FRONTEND, PROVENANCE

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    weights = out / "encoder.pt"
    torch.save(state, weights)
    sha = hashlib.sha256(weights.read_bytes()).hexdigest()
    command = "python tools/pretrain_encoder.py " + " ".join(
        f"--{k.replace('_', '-')}" + ("" if v is True else f" {v}")
        for k, v in vars(args).items()
        if k not in ("data", "out", "evaluate_only", "revision", "validation_set", "benchmark")
        and v is not None
        and v is not False
    )
    card = {
        "format": 1,
        "sha256": sha,
        "frontend": FRONTEND,
        "architecture": ARCHITECTURE,
        "training": {
            "corpus": f"speechocean762, test/ subset: {n_speakers} speakers, {n_utts} utterances",
            "objective": f"additive angular margin softmax (m={args.margin}, s={args.scale})"
            + (
                f" + {args.distill_weight} x cosine distance to the {args.distill} teacher's "
                "embedding of the same augmented crop, through a linear projection dropped "
                "after training"
                if args.distill
                else ""
            ),
            "steps": args.steps,
            "batch_size": args.batch_size,
            "seed": args.seed,
            "command": command,
            "git_revision": args.revision,
            "seconds": round(train_s),
            "machine": f"{platform.machine()}, {torch.get_num_threads()} CPU threads, "
            f"torch {torch.__version__}",
        },
        **PROVENANCE,
    }
    if args.distill:
        from skvoice.neural_network import encoder_card

        teacher = encoder_card(args.distill)
        card["teacher"] = {
            k: teacher[k] for k in ("name", "sha256", "licence", "attribution", "training_data")
        }
    (out / "encoder.json").write_text(json.dumps(card, indent=2) + "\n")
    size = weights.stat().st_size / 1e6
    print(f"Wrote {weights} ({size:.2f} MB, sha256 {sha}) and encoder.json")
    return weights


#: The conditions of the validation, as ``skvoice.augment.make_condition`` names them.
VALIDATION_CONDITIONS = ("wide-band", "telephone", "short", "noisy", "reverberant")
RUNS_LOG = ROOT / "tools" / "encoder_runs.jsonl"


def validate(weights, waves, speakers, n_enrol=5):
    """Enrolment EER (%) on the held-out ``test/`` speakers, by condition.

    Each speaker is enrolled (a centroid) from its first ``n_enrol`` recordings;
    every other recording is scored against every centroid (cosine after the
    enrolment mean is removed), one trial per pair. The test side is degraded by
    the condition; for "telephone" the enrolment side too (a phone line both ways).
    """
    from skvoice.augment import make_condition
    from skvoice.metrics import equal_error_rate
    from skvoice.verification import make_enrollment_pipeline

    speakers = np.asarray(speakers)
    names = np.unique(speakers)
    first = np.concatenate([np.flatnonzero(speakers == s)[:n_enrol] for s in names])
    rest = np.setdiff1d(np.arange(len(speakers)), first)
    front = make_enrollment_pipeline(str(weights))[:-1].fit(waves[:1])

    def unit(E):
        return E / np.linalg.norm(E, axis=1, keepdims=True)

    out = {}
    for name in VALIDATION_CONDITIONS:
        channel = make_condition(name, random_state=0)
        enrol = [waves[i] for i in first]
        test = [waves[i] for i in rest]
        if channel is not None:
            test = channel.fit_transform(test)
            if name == "telephone":
                enrol = channel.transform(enrol)
        E_en, E_te = front.transform(enrol), front.transform(test)
        mean = E_en.mean(axis=0)
        cents = unit(np.stack([unit(E_en - mean)[speakers[first] == s].mean(0) for s in names]))
        scores = unit(E_te - mean) @ cents.T
        target = speakers[rest][:, None] == names[None, :]
        out[name] = round(100 * float(equal_error_rate(target.ravel(), scores.ravel())), 2)
    return out


def record_run(args, weights, validation):
    """Append the run to tools/encoder_runs.jsonl and its validation to the card."""
    card_path = Path(weights).with_suffix(".json")
    card = json.loads(card_path.read_text()) if card_path.exists() else {}
    n_val = len(set(args.validation_set[1]))
    card["validation"] = {
        "speakers": f"{n_val} test/ speakers held out of training (every fifth, sorted)",
        "enrolment EER (%)": validation,
    }
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    entry = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": card.get("training", {}).get("command"),
        "revision": getattr(args, "revision", None),
        "sha256": card.get("sha256"),
        "validation_eer_percent": validation,
    }
    with open(RUNS_LOG, "a") as f:
        f.write(json.dumps(entry) + "\n")
    print(f"Validation (enrolment EER %, {n_val} held-out speakers): {validation}")


def evaluate(args, weights):
    """The real-speech protocol on the ``train/`` speakers (a report, never a choice)."""
    from bench_pretrained import real_speech_of_encoder

    print("\nPretrained encoder + enrolment, speechocean762 train/ speakers, seeds 0-4:\n")
    print(real_speech_of_encoder(args.data, range(5), str(weights)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="speechocean762 folder")
    parser.add_argument("--out", required=True, help="folder for encoder.pt and encoder.json")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--margin", type=float, default=0.2)
    parser.add_argument("--scale", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--log-every", type=int, default=200)
    parser.add_argument(
        "--distill",
        choices=["ge2e"],
        help="also learn the embeddings of this teacher (needs its extra installed)",
    )
    parser.add_argument(
        "--distill-weight", type=float, default=1.0, help="weight of the teacher's cosine loss"
    )
    parser.add_argument(
        "--robust",
        action="store_true",
        help="degraded 0.5-2 s crops for the student, clean whole utterances for the teacher, "
        "speed variants as voices of their own",
    )
    parser.add_argument(
        "--val-speakers",
        type=int,
        default=25,
        help="test/ speakers held out of training to validate on (0: none)",
    )
    parser.add_argument(
        "--benchmark",
        action="store_true",
        help="also run the train/ protocol (a report; choices are made on the validation)",
    )
    parser.add_argument(
        "--evaluate-only", action="store_true", help="validate DIR/encoder.pt only"
    )
    args = parser.parse_args(argv)
    if args.evaluate_only:
        weights = Path(args.out) / "encoder.pt"
        _, _, _, val_waves, val_speakers = load_training_speech(args.data, args.val_speakers)
        print(validate(weights, val_waves, val_speakers))
        if args.benchmark:
            evaluate(args, weights)
        return 0
    state, train_s, n_utts, n_speakers = train(args)
    weights = save(args, state, train_s, n_utts, n_speakers)
    print(f"Training took {train_s / 60:.1f} min")
    if args.val_speakers:
        record_run(args, weights, validate(weights, *args.validation_set))
    if args.benchmark:
        evaluate(args, weights)
    return 0


if __name__ == "__main__":
    sys.exit(main())
