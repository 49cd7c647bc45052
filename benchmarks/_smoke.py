"""``make bench-smoke``: every benchmark script on tiny data, to show that it runs.

Usage: python benchmarks/_smoke.py [--only NAME ...]
       python benchmarks/_smoke.py --corpus DIR

Runs every ``bench_*.py`` and ``ablation_real.py`` under ``benchmarks/`` with
the arguments of ``ARGS`` (a script without an entry fails: a new script must
say how it is smoke-tested), under ``SKVOICE_BENCH_SMOKE=1`` and with its
results written to a temporary folder (``SKVOICE_BENCH_RESULTS``), so the real
results are never overwritten. Each script must exit 0 and write a result
file. Prints a table of the scripts, their times and their result files.

The scripts that read speechocean762 get a tiny corpus of the same layout:

Synthetic voices (``make_voices``) laid out as speechocean762 is: ``train/`` and
``test/`` with Kaldi lists (``wav.scp``, ``utt2spk``, ``spk2gender``,
``spk2age``, ``text``) and 16-bit WAV files under ``WAVE/SPEAKERnnnn/``. The
training list has 3 adult women and 3 adult men with 5 utterances each, and 3
more speakers (children) with 2 each: the smallest set on which ``_real.protocol`` (its
``SIZES`` under ``SKVOICE_BENCH_SMOKE=1``) has allowed, refused and never-heard
speakers. It only shows that a script runs; its numbers mean nothing.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from skvoice.datasets import make_voices


def write_corpus(root):
    root = Path(root)
    v = make_voices(n_speakers=12, n_recordings=5, duration=1.5, random_state=0)
    plan = {"train": range(0, 9), "test": range(9, 12)}
    for subset, speakers in plan.items():
        lists = {k: [] for k in ("wav.scp", "utt2spk", "spk2gender", "spk2age", "text")}
        for k in speakers:
            spk = f"{k + 1:04d}"
            rows = np.flatnonzero(v.speaker == np.unique(v.speaker)[k])
            per = 5 if k < 6 else 2
            (root / "WAVE" / f"SPEAKER{spk}").mkdir(parents=True, exist_ok=True)
            lists["spk2gender"].append(f"{spk}\t{'f' if k % 2 == 0 else 'm'}")
            lists["spk2age"].append(f"{spk}\t{30 if k < 6 else 12}")
            for j, i in enumerate(rows[:per]):
                utt = f"{spk}{j:05d}"
                rel = f"WAVE/SPEAKER{spk}/{utt}.WAV"
                sf.write(root / rel, v.data[i], v.sr, subtype="PCM_16")
                lists["wav.scp"].append(f"{utt}\t{rel}")
                lists["utt2spk"].append(f"{utt} {spk}")
                lists["text"].append(f"{utt}\tONE TWO THREE")
        (root / subset).mkdir(parents=True, exist_ok=True)
        for name, lines in lists.items():
            (root / subset / name).write_text("\n".join(lines) + "\n")
    return root


def write_dspspeech(root):
    """A DSPSpeech-20-shaped folder: 8 speakers x 2 words x 3 repetitions."""
    root = Path(root)
    v = make_voices(n_speakers=8, n_recordings=6, duration=1.0, random_state=1)
    for k, name in enumerate(np.unique(v.speaker)):
        spk = f"153000000{k:02d}"
        (root / "speech_data" / spk).mkdir(parents=True, exist_ok=True)
        for j, i in enumerate(np.flatnonzero(v.speaker == name)):
            path = root / "speech_data" / spk / f"{spk}-{j // 3:02d}-{j % 3 + 1:02d}.wav"
            sf.write(path, v.data[i], v.sr, subtype="PCM_16")
    return root


HERE = Path(__file__).resolve().parent
#: Arguments of each script on tiny data (``{data}``: the tiny speechocean762,
#: ``{dsp}``: the tiny DSPSpeech-20).
ARGS = {
    "ablation_real.py": [
        "--data",
        "{data}",
        "--seeds",
        "0",
        "1",
        "--only",
        "default",
        "3 conv blocks",
        "--out",
        "ablation_smoke",
    ],
    "bench_cache.py": ["--epochs", "1"],
    "bench_cohort.py": ["--data", "{data}", "--seeds", "0", "1", "--encoder", "ge2e"],
    "bench_choosing.py": ["--data", "{data}", "--seeds", "0", "1", "--cnn-seeds", "1"],
    "bench_cli.py": ["--repeat", "1"],
    "bench_cnn.py": ["--quick", "--epochs", "2", "--seeds", "0"],
    "bench_encoder_pairs.py": ["--data", "{data}", "--seeds", "0"],
    "bench_enrolment.py": ["--epochs", "2"],
    "bench_crossdomain.py": ["--data", "{dsp}", "--seeds", "0", "1"],
    "bench_demo.py": [
        "--repeat",
        "1",
        "--",
        "--n-speakers",
        "8",
        "--n-recordings",
        "4",
        "--epochs",
        "1",
        "--quick",
    ],
    "bench_encoders.py": ["--data-so762", "{data}", "--data-dsp20", "{dsp}", "--seeds", "0", "1"],
    "bench_features.py": ["--quick", "--repeat", "1"],
    "bench_operating_point.py": ["--data", "{data}", "--seeds", "0", "--cv", "2"],
    "bench_pretrained.py": ["--data", "{data}", "--seeds", "0"],
    "bench_readme.py": [],
    "bench_real.py": ["--data", "{data}", "--seeds", "0", "1"],
    "bench_fusion.py": ["--data", "{data}", "--seeds", "0", "1"],
    "bench_promise.py": ["--data", "{data}", "--seeds", "0", "1"],
    "bench_promise_cnn.py": ["--data", "{data}"],
    "bench_robust.py": ["--data", "{data}", "--seeds", "0", "1"],
    "bench_streaming.py": ["--hours", "0.01"],
    "bench_serve.py": [],
    "bench_threads.py": [],
    "bench_uncertainty.py": ["--data", "{data}", "--seeds", "0"],
}


def scripts():
    return sorted(p.name for p in HERE.glob("*.py") if not p.name.startswith("_"))


def run(only=None):
    """Run the scripts; return the number that failed."""
    names = [n for n in scripts() if not only or n in only]
    failed = 0
    rows = []
    with tempfile.TemporaryDirectory(prefix="skvoice-bench-smoke-") as tmp:
        data = write_corpus(Path(tmp) / "speechocean762")
        dsp = write_dspspeech(Path(tmp) / "dspspeech20")
        env = dict(os.environ, SKVOICE_BENCH_SMOKE="1", PYTHONUNBUFFERED="1")
        for name in names:
            out = Path(tmp) / "results" / name
            out.mkdir(parents=True)
            env["SKVOICE_BENCH_RESULTS"] = str(out)
            if name not in ARGS:
                rows.append((name, "-", "no smoke arguments in benchmarks/_smoke.py ARGS"))
                failed += 1
                continue
            args = [a.format(data=data, dsp=dsp) for a in ARGS[name]]
            t = time.perf_counter()
            res = subprocess.run(
                [sys.executable, name, *args], cwd=HERE, env=env, capture_output=True, text=True
            )
            seconds = time.perf_counter() - t
            written = sorted(p.name for p in out.glob("*.md"))
            if res.returncode != 0 or not written:
                failed += 1
                tail = (res.stderr or res.stdout).strip().splitlines()[-3:]
                why = f"exit {res.returncode}, wrote {written or 'nothing'}: " + " / ".join(tail)
                rows.append((name, f"{seconds:.0f}", "FAILED: " + why.replace("|", "/")))
            else:
                rows.append((name, f"{seconds:.0f}", ", ".join(written)))
            print(f"{name}: {rows[-1][2][:200]} ({seconds:.0f} s)", flush=True)
    print("\n| script | seconds | result files |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return failed


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", help="only write the tiny corpus to this folder")
    parser.add_argument("--only", nargs="+", help="only these scripts")
    args = parser.parse_args()
    if args.corpus:
        print(write_corpus(args.corpus))
        sys.exit(0)
    sys.exit(1 if run(args.only) else 0)
