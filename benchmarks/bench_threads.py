"""How many threads? torch's work on an idle machine and on one busy with another process.

Usage: python benchmarks/bench_threads.py [--repeat 3]

Two jobs a user runs: embedding 40 recordings of 3 s with the shipped distilled
encoder (what ``skvoice enroll`` and ``verify`` do) and three epochs of the
default CNN on 40 spectrograms (what ``skvoice train`` does). Each is timed
(median of ``--repeat`` runs after a warm-up) at 1 thread, at the library's
default (:func:`skvoice.default_threads`: the cores less one) and at every core
(torch's own default), with the machine idle and with one other process
spinning on a core (the situation of a shared machine or of a second job).
Writes ``benchmarks/results/threads.md``.
"""

import argparse
import os
import subprocess
import sys

from _common import SMOKE, markdown_table, median_time, threads, write_result

from skvoice import default_threads
from skvoice.datasets import make_voices
from skvoice.neural_network import CNNClassifier
from skvoice.preprocessing import SpectrogramExtractor
from skvoice.verification import make_enrollment_pipeline

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("networks", "skvoice/_threads.py")

SPIN = "while True: pass"


def jobs():
    n = 6 if SMOKE else 40
    v = make_voices(n_speakers=4, n_recordings=n // 4, duration=3.0, random_state=0)
    specs = SpectrogramExtractor(sr=v.sr).fit_transform(v.data)
    encoder = make_enrollment_pipeline("speechocean762-distilled", sr=v.sr)[:-1]
    enc_input = encoder[:-1].fit_transform(v.data)
    embedder = encoder[-1].fit(enc_input[:1])

    def embed():
        embedder.transform(enc_input)

    def train():
        CNNClassifier(max_epochs=1 if SMOKE else 3, random_state=0).fit(
            specs, v.target, groups=v.speaker
        )

    return {"embed 40 recordings (distilled encoder)": embed, "train the CNN, 3 epochs": train}


def main(repeat):
    cores = len(os.sched_getaffinity(0))
    counts = sorted({1, default_threads(), cores})
    rows = []
    for busy in (False, True):
        spinner = subprocess.Popen([sys.executable, "-c", SPIN]) if busy else None
        try:
            for name, job in jobs().items():
                times = {}
                for n in counts:
                    with threads(n):
                        times[n] = median_time(job, repeat)
                rows.append(
                    [
                        "one other process" if busy else "idle",
                        name,
                        *(f"{times[n]:.2f}" for n in counts),
                    ]
                )
        finally:
            if spinner is not None:
                spinner.kill()
                spinner.wait()
    header = ("machine", "job", *(f"{n} thread{'s' * (n > 1)} (s)" for n in counts))
    return (
        f"Seconds per job, median of {repeat} runs after a warm-up, on {cores} cores; the "
        f"library's default is {default_threads()} thread(s) (`default_threads()`: the "
        'cores less one). "One other process": a Python loop spinning on a core '
        "(`bench_threads.py`'s docstring).\n\n" + markdown_table(header, rows)
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    write_result("threads", main(1 if SMOKE else args.repeat))
