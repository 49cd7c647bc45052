"""Time a 4-point CNN grid search with and without ``Pipeline(memory=...)``.

Usage: python benchmarks/bench_cache.py [--epochs N] [--jobs J]

The pipeline trims silence and builds a two-channel input (mel spectrogram and the
pYIN harmonic image, through ChannelUnion) for a CNNClassifier. Without a cache,
every candidate recomputes the features of its training fold; with
``memory=joblib.Memory(...)``, they are computed once per fold and read back for
the other candidates (and for the final refit). Prediction on the test folds is
not cached by scikit-learn (``Pipeline.memory`` caches ``fit_transform`` only).
Both runs must give the same scores. Writes ``benchmarks/results/cache.md``.
"""

import argparse
import shutil
import tempfile
import time

import numpy as np
from _common import write_result
from joblib import Memory
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skvoice.datasets import make_voices
from skvoice.metrics import eer_scorer
from skvoice.model_selection import OpenSetGroupKFold
from skvoice.neural_network import CNNClassifier
from skvoice.preprocessing import (
    ChannelUnion,
    F0Extractor,
    SilenceTrimmer,
    SpectrogramExtractor,
)

#: The code this benchmark measures (groups of _common.CODE, or paths).
MEASURES = ("features", "networks", "skvoice/model_selection/", "skvoice/metrics/")


def make_search(memory, epochs, jobs):
    features = ChannelUnion(
        [
            ("mel", SpectrogramExtractor()),
            ("harmonics", F0Extractor(output="harmonics")),
        ]
    )
    pipe = Pipeline(
        [
            ("trim", SilenceTrimmer()),
            ("features", features),
            ("cnn", CNNClassifier(max_epochs=epochs, module__n_filters=8, random_state=0)),
        ],
        memory=memory,
    )
    grid = {"cnn__lr": [1e-3, 3e-3], "cnn__module__dropout": [0.2, 0.4]}
    return GridSearchCV(pipe, grid, cv=OpenSetGroupKFold(3), scoring=eer_scorer, n_jobs=jobs)


def main(epochs=3, jobs=1):
    v = make_voices(n_speakers=8, n_recordings=8, duration=3.0, snr_db=15, random_state=0)
    X, y, groups = v.data, v.target, v.speaker
    # Time the features alone first; this also compiles pYIN's numba kernels, so
    # that neither search below pays for the compilation.
    make_search(None, epochs, jobs).estimator[:2].fit_transform(X[:2])
    t = time.perf_counter()
    make_search(None, epochs, jobs).estimator[:2].fit_transform(X)
    feature_s = time.perf_counter() - t
    rows = []
    for label in ("no cache", "Pipeline(memory=...)"):
        folder = tempfile.mkdtemp(prefix="skvoice-cache-") if label != "no cache" else None
        memory = Memory(folder, verbose=0) if folder else None
        t = time.perf_counter()
        search = make_search(memory, epochs, jobs).fit(X, y, groups=groups)
        rows.append((label, time.perf_counter() - t, search.cv_results_["mean_test_score"]))
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
    same = np.allclose(rows[0][2], rows[1][2], atol=1e-12)
    base = rows[0][1]
    lines = [
        f"GridSearchCV, 4 candidates x OpenSetGroupKFold(3) + refit, {len(X)} recordings of "
        f"3 s, CNN {epochs} epochs, n_jobs={jobs}; features of all {len(X)} recordings once: "
        f"{feature_s:.1f} s; one run of each search:",
        "",
        "| pipeline | search time (s) | speed-up | mean test scores |",
        "|---|---|---|---|",
    ]
    for label, seconds, scores in rows:
        lines.append(
            f"| {label} | {seconds:.1f} | {base / seconds:.2f}x | {np.round(scores, 3)} |"
        )
    lines.append(f"\nSame scores with and without the cache: {same}.")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    write_result("cache", main(args.epochs, args.jobs))
