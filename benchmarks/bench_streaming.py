"""Peak memory and time of the feature pipeline: waveforms in memory vs file paths.

Usage: python benchmarks/bench_streaming.py [--hours H] [--folder DIR]

Writes ``H`` hours of make_voices audio to disk (16-bit WAV, 10 s recordings), then
runs ``make_pipeline(SilenceTrimmer(), SpectrogramExtractor(dtype=...))`` in a fresh
process per configuration, either on waveforms the user loaded first (what a
notebook does) or on the list of paths (the trimmer then returns a LazyRecordings
and each file is read when the extractor reaches it). Reports the time per hour of
audio and the peak resident memory above the process's memory after its imports,
against the size of the spectrograms it returns; the goal for paths is a peak at
most 1.5x the spectrograms. Writes ``benchmarks/results/streaming.md``.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
from _common import write_result

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("features",)


def _status_mb(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024


def _reset_peak():
    """Restart the peak-RSS count here (Linux >= 4.0), so imports do not count."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_mb(resettable):
    if resettable:
        return _status_mb("VmHWM")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def write_corpus(folder, hours, duration=10.0, sr=16000):
    """make_voices audio written as 16-bit WAV; returns the paths."""
    import soundfile as sf

    from skvoice.datasets import make_voices

    n_files = int(round(hours * 3600 / duration))
    paths, k = [], 0
    while k < n_files:
        # Four speakers x 15 recordings at a time keeps the generator's memory small.
        v = make_voices(n_speakers=4, n_recordings=15, duration=duration, random_state=k)
        for x in v.data[: n_files - k]:
            path = os.path.join(folder, f"rec{k:05d}.wav")
            sf.write(path, x, sr, subtype="PCM_16")
            paths.append(path)
            k += 1
    return paths


def worker(mode, dtype, listing):
    """Run the pipeline once in this process and print a JSON line of measures."""
    import torch  # noqa: F401  (imported before the baseline, as the pipeline needs it)
    from sklearn.pipeline import make_pipeline

    from skvoice.io import load_audio
    from skvoice.preprocessing import SilenceTrimmer, SpectrogramExtractor

    with open(listing) as fh:
        paths = fh.read().split("\n")
    pipe = make_pipeline(SilenceTrimmer(), SpectrogramExtractor(dtype=dtype))
    pipe.fit_transform([load_audio(paths[0])])  # warm caches (filterbank, torch)
    base = _status_mb("VmRSS")
    resettable = _reset_peak()
    t = time.perf_counter()
    X = [load_audio(p) for p in paths] if mode == "arrays" else paths
    specs = pipe.fit_transform(X)
    elapsed = time.perf_counter() - t
    spec_mb = sum(s.nbytes for s in specs) / 2**20
    print(
        json.dumps(
            {
                "mode": mode,
                "dtype": dtype,
                "seconds": elapsed,
                "peak_extra_mb": _peak_mb(resettable) - base,
                "spectrogram_mb": spec_mb,
            }
        )
    )


def main(hours, folder):
    own = folder is None
    folder = folder or tempfile.mkdtemp(prefix="skvoice-stream-")
    os.makedirs(folder, exist_ok=True)
    t = time.perf_counter()
    paths = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".wav"))
    if not paths:
        paths = write_corpus(folder, hours)
        print(f"wrote {len(paths)} files ({hours} h) in {time.perf_counter() - t:.0f} s")
    audio_h = len(paths) * 10.0 / 3600
    listing = os.path.join(folder, "listing.txt")
    with open(listing, "w") as fh:
        fh.write("\n".join(paths))
    rows = []
    for mode in ("arrays", "paths"):
        for dtype in ("float32", "float16"):
            out = subprocess.run(
                [sys.executable, __file__, "--worker", mode, dtype, listing],
                check=True,
                capture_output=True,
                text=True,
            )
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    waves_mb = len(paths) * 10.0 * 16000 * 4 / 2**20
    lines = [
        f"SilenceTrimmer + SpectrogramExtractor (mel, 64 bands, hop 256) over "
        f"{audio_h:.1f} h of 16 kHz audio ({len(paths)} files; float32 waveforms "
        f"{waves_mb:.0f} MB); one cold run per configuration, each in a fresh process:",
        "",
        "| input | dtype | s per hour of audio | peak memory above baseline (MB) "
        "| spectrograms (MB) | peak / spectrograms |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {'waveforms in memory' if r['mode'] == 'arrays' else 'file paths'} "
            f"| {r['dtype']} | {r['seconds'] / audio_h:.1f} | {r['peak_extra_mb']:.0f} "
            f"| {r['spectrogram_mb']:.0f} | {r['peak_extra_mb'] / r['spectrogram_mb']:.2f} |"
        )
    write_result("streaming", "\n".join(lines))
    if own:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    return np.array([r["peak_extra_mb"] / r["spectrogram_mb"] for r in rows])


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(*sys.argv[2:5])
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--folder", default=None, help="reuse (or fill) this folder")
    args = parser.parse_args()
    main(args.hours, args.folder)
