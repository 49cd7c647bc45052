"""Throughput of skvoice's feature transformers against librosa, in one run.

Usage: python benchmarks/bench_features.py [--repeat N]

Prints one table: recordings per second for ours and for the librosa call a user
would make instead (per clip), the speed ratio, and for F0 the seconds of compute
per second of audio. Values are checked to agree before timing.
"""

import argparse
import time

import librosa
import numpy as np
import torch

from skvoice.datasets import make_voices
from skvoice.preprocessing import F0Extractor, SilenceTrimmer, SpectrogramExtractor


def best_time(func, repeat):
    func()  # warm-up (numba compilation, caches, threads)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        func()
        times.append(time.perf_counter() - t)
    return min(times)


def main(repeat=3):
    torch.set_num_threads(2)
    voices = make_voices(n_speakers=10, n_recordings=10, duration=3.0, random_state=0)
    clips = [np.resize(y, 48000) for y in voices.data]  # 100 clips of exactly 3 s
    speech = np.concatenate(voices.data)[: 30 * 16000]  # 30 s of speech
    rows = []

    # Mel spectrograms: 100 clips of 3 s.
    ext = SpectrogramExtractor(normalize=None, to_db=False).fit(clips[:1])

    def ours_mel():
        return ext.transform(clips)

    def librosa_mel():
        return [
            librosa.feature.melspectrogram(y=y, sr=16000, n_fft=1024, hop_length=256, n_mels=64)
            for y in clips
        ]

    a, b = ours_mel()[0], librosa_mel()[0]
    assert np.allclose(a, b, rtol=1e-4, atol=1e-4 * b.max())
    t_ours, t_ref = best_time(ours_mel, repeat), best_time(librosa_mel, repeat)
    rows.append(
        (
            "mel spectrogram (100 x 3 s)",
            "librosa.feature.melspectrogram",
            100 / t_ours,
            100 / t_ref,
            None,
            None,
        )
    )

    # Silence trimming: 100 clips.
    trim = SilenceTrimmer().fit(clips[:1])
    t_ours = best_time(lambda: trim.transform(clips), repeat)
    t_ref = best_time(lambda: [librosa.effects.trim(y, top_db=30) for y in clips], repeat)
    rows.append(
        ("silence trim (100 x 3 s)", "librosa.effects.trim", 100 / t_ours, 100 / t_ref, None, None)
    )

    # pYIN on 30 s of speech, two pitch ranges.
    for label, fmin, fmax in [
        ("65-500 Hz", 65.0, 500.0),
        ("C2-C7", librosa.note_to_hz("C2"), librosa.note_to_hz("C7")),
    ]:
        f0x = F0Extractor(fmin=fmin, fmax=fmax).fit([speech])
        kw = dict(sr=16000, fmin=fmin, fmax=fmax, frame_length=1024, hop_length=256)
        ours = f0x.transform([speech])[0]
        ref = librosa.pyin(speech, **kw)[0]
        assert np.mean(np.isnan(ours) == np.isnan(ref)) > 0.95
        t_ours = best_time(lambda f0x=f0x: f0x.transform([speech]), repeat)
        t_ref = best_time(lambda kw=kw: librosa.pyin(speech, **kw), max(1, repeat - 2))
        t_yin = best_time(lambda kw=kw: librosa.yin(speech, **kw), repeat)
        rows.append(
            (
                f"pYIN {label} (30 s)",
                "librosa.pyin",
                1 / t_ours,
                1 / t_ref,
                t_ours / 30,
                t_ref / 30,
            )
        )
        rows.append((f"  for scale: librosa.yin {label}", "", None, 1 / t_yin, None, t_yin / 30))

    header = (
        "task",
        "reference",
        "ours rec/s",
        "ref rec/s",
        "speed-up",
        "ours s/s audio",
        "ref s/s audio",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for task, ref, ours, other, s_ours, s_ref in rows:
        cells = [
            task,
            ref,
            f"{ours:.1f}" if ours else "",
            f"{other:.1f}",
            f"{ours / other:.1f}x" if ours else "",
            f"{s_ours:.4f}" if s_ours else "",
            f"{s_ref:.4f}" if s_ref else "",
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    main(parser.parse_args().repeat)
