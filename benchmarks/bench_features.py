"""Speed and agreement of skvoice's feature transformers against librosa (and torchaudio).

Usage: python benchmarks/bench_features.py [--repeat N] [--quick]

Both sides are timed the same way: one warm-up call, then the median of ``repeat``
calls, at 1 and at 2 threads (torch, BLAS and OpenMP limited alike). Before timing,
the values are compared on every clip: mel power relative to the clip's maximum,
and for F0 the voicing flags and the pitch in cents on frames both call voiced.
torchaudio's ``MelSpectrogram`` is a second speed reference when it is installed.
Writes ``benchmarks/results/features.md``.
"""

import argparse

import librosa
import numpy as np
from _common import markdown_table, median_time, threads, write_result

from skvoice.datasets import make_voices
from skvoice.preprocessing import F0Extractor, SilenceTrimmer, SpectrogramExtractor

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("skvoice/preprocessing/", "skvoice/io/")

SR = 16000
MEL = dict(n_fft=1024, hop_length=256, n_mels=64)


def _torchaudio_mel():
    try:
        import torchaudio
    except ImportError:
        return None
    return torchaudio.transforms.MelSpectrogram(
        sample_rate=SR,
        n_fft=MEL["n_fft"],
        hop_length=MEL["hop_length"],
        n_mels=MEL["n_mels"],
        norm="slaney",
        mel_scale="slaney",
        pad_mode="constant",
    )


def agreement(clips, speech_clips, f0_ranges):
    """Worst disagreement over every clip, per feature."""
    ext = SpectrogramExtractor(normalize=None, to_db=False, **MEL).fit(clips[:1])
    ours = ext.transform(clips)
    mel_err = 0.0
    for a, y in zip(ours, clips):
        b = librosa.feature.melspectrogram(y=y, sr=SR, pad_mode="constant", **MEL)
        mel_err = max(mel_err, float(np.max(np.abs(a - b)) / b.max()))
    rows = [("mel power, every clip", f"max abs(ours - librosa) / clip max = {mel_err:.1e}")]
    for label, fmin, fmax in f0_ranges:
        f0x = F0Extractor(fmin=fmin, fmax=fmax).fit(speech_clips[:1])
        flags, cents = [], []
        for y, f0 in zip(speech_clips, f0x.transform(speech_clips)):
            ref = librosa.pyin(y, sr=SR, fmin=fmin, fmax=fmax, frame_length=1024, hop_length=256)[
                0
            ]
            v, rv = ~np.isnan(f0), ~np.isnan(ref)
            flags.append(np.mean(v == rv))
            both = v & rv
            cents.append(np.abs(1200 * np.log2(f0[both] / ref[both])))
        cents = np.concatenate(cents)
        rows.append(
            (
                f"pYIN {label}, every clip",
                f"voicing agreement {100 * min(flags):.2f} % (worst clip); "
                f"F0 max {cents.max():.2e} cents over {cents.size} voiced frames",
            )
        )
    return rows


def main(repeat=5, quick=False):
    n_clips = 20 if quick else 100
    voices = make_voices(n_speakers=10, n_recordings=10, duration=3.0, random_state=0)
    clips = [np.resize(y, 3 * SR) for y in voices.data[:n_clips]]  # clips of exactly 3 s
    speech_clips = clips[: 4 if quick else 10]  # 10 clips of 3 s: 30 s of speech
    seconds = 3.0 * len(speech_clips)
    f0_ranges = [
        ("65-500 Hz", 65.0, 500.0),
        ("C2-C7", float(librosa.note_to_hz("C2")), float(librosa.note_to_hz("C7"))),
    ]
    agree = agreement(clips, speech_clips, f0_ranges)

    ext = SpectrogramExtractor(normalize=None, to_db=False, **MEL).fit(clips[:1])
    trim = SilenceTrimmer().fit(clips[:1])
    ta = _torchaudio_mel()
    tasks = [
        (
            f"mel spectrogram ({n_clips} x 3 s)",
            lambda: ext.transform(clips),
            "librosa.feature.melspectrogram",
            lambda: [
                librosa.feature.melspectrogram(y=y, sr=SR, pad_mode="constant", **MEL)
                for y in clips
            ],
        ),
        (
            f"silence trim ({n_clips} x 3 s)",
            lambda: trim.transform(clips),
            "librosa.effects.trim",
            lambda: [librosa.effects.trim(y, top_db=30) for y in clips],
        ),
    ]
    if ta is not None:
        import torch

        tasks.append(
            (
                f"mel spectrogram ({n_clips} x 3 s)",
                lambda: ext.transform(clips),
                "torchaudio MelSpectrogram",
                lambda: [ta(torch.from_numpy(y)) for y in clips],
            )
        )
    for label, fmin, fmax in f0_ranges:
        f0x = F0Extractor(fmin=fmin, fmax=fmax).fit(speech_clips[:1])
        kw = dict(sr=SR, fmin=fmin, fmax=fmax, frame_length=1024, hop_length=256)
        tasks.append(
            (
                f"pYIN {label} ({seconds:.0f} s)",
                lambda f0x=f0x: f0x.transform(speech_clips),
                "librosa.pyin",
                lambda kw=kw: [librosa.pyin(y, **kw) for y in speech_clips],
            )
        )

    rows = []
    for n_threads in (1, 2):
        with threads(n_threads):
            for task, ours, ref_name, ref in tasks:
                t_ours, t_ref = median_time(ours, repeat), median_time(ref, repeat)
                rows.append(
                    (
                        task,
                        n_threads,
                        ref_name,
                        f"{1000 * t_ours:.0f}",
                        f"{1000 * t_ref:.0f}",
                        f"{t_ref / t_ours:.1f}x",
                    )
                )
    header = ("task", "threads", "reference", "ours ms", "reference ms", "speed-up")
    table = markdown_table(header, rows)
    body = f"Speed (median of {repeat} calls after one warm-up, both sides alike):\n\n{table}\n\n"
    if ta is None:
        body += "torchaudio is not installed here: its row is left out.\n\n"
    body += "Agreement with librosa, checked before timing:\n\n" + markdown_table(
        ("feature", "worst disagreement"), agree
    )
    write_result("features_quick" if quick else "features", body)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="20 clips, 3 repeats")
    args = parser.parse_args()
    main(3 if args.quick else args.repeat, args.quick)
