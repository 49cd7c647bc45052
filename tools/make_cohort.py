"""Build the impostor cohort that ships with skvoice for an encoder.

Usage::

    python tools/make_cohort.py --data /path/to/speechocean762 [--encoder ge2e]
        [--per-speaker 4] [--seed 0]

The cohort is the embeddings of recordings of people who are not users: here
``--per-speaker`` utterances of each of the 125 speakers of speechocean762's
``test/`` list (adults and children), drawn with ``--seed``, embedded through
``make_enrollment_pipeline(encoder)`` without its verifier, and stored as
float16 (a cosine moves by less than 1e-3). Only an encoder that never heard
those speakers may use them: GE2E was trained on LibriSpeech and VoxCeleb,
while skvoice's own ``speechocean762`` encoder was trained on exactly these
speakers, so it gets no cohort from them.

Writes ``skvoice/neural_network/pretrained/cohort_<encoder>.npz`` (arrays
``embeddings`` and ``speakers``) and ``cohort_<encoder>.json`` (its card: the
encoder and the SHA-256 of its weights, the corpus, attribution and licence,
the command, the SHA-256 of the ``.npz``).
"""

import argparse
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skvoice.datasets import load_speechocean762  # noqa: E402
from skvoice.datasets._base import read_many  # noqa: E402
from skvoice.neural_network._pretrained import KNOWN_ENCODERS  # noqa: E402
from skvoice.verification import make_enrollment_pipeline  # noqa: E402

#: Encoders that never heard speechocean762's test/ speakers.
ALLOWED = ("ge2e",)
OUT = ROOT / "skvoice" / "neural_network" / "pretrained"


def _revision():
    try:
        rev = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "skvoice", "tools"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(data, encoder, per_speaker, seed):
    if encoder not in ALLOWED:
        raise SystemExit(
            f"{encoder!r} may have heard speechocean762's test/ speakers; cohorts from them "
            f"are built for {ALLOWED} only."
        )
    so = load_speechocean762(data, subset="test", return_paths=True)
    rng = np.random.default_rng(seed)
    speakers = np.asarray(so.speaker).astype(str)
    rows = np.concatenate(
        [
            np.sort(rng.choice(np.flatnonzero(speakers == s), per_speaker, replace=False))
            for s in np.unique(speakers)
        ]
    )
    waves = read_many([so.filename[i] for i in rows], 16000, n_jobs=2, desc="Decoding test/")
    front = make_enrollment_pipeline(encoder)[:-1].fit(waves[:1])
    E = front.transform(waves).astype(np.float16)
    buf = io.BytesIO()
    np.savez_compressed(buf, embeddings=E, speakers=speakers[rows])
    blob = buf.getvalue()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"cohort_{encoder}.npz").write_bytes(blob)
    card = {
        "encoder": encoder,
        "encoder_sha256": KNOWN_ENCODERS[encoder],
        "sha256": hashlib.sha256(blob).hexdigest(),
        "speakers": int(len(np.unique(speakers))),
        "recordings": int(len(rows)),
        "per_speaker": per_speaker,
        "corpus": "speechocean762 test/ (all 125 speakers, adults and children)",
        "licence": "CC BY 4.0 (the corpus); the embeddings are distributed under the same terms",
        "attribution": (
            "speechocean762: A Non-Native English Speech Corpus for Pronunciation "
            "Assessment, Junbo Zhang, Zhiwen Zhang, Yongqing Wang, Zhiyong Yan, Qiong "
            "Song, Yukai Huang, Ke Li, Daniel Povey, Yujun Wang (Interspeech 2021), "
            "https://github.com/jimbozhang/speechocean762"
        ),
        "command": (
            f"python tools/make_cohort.py --data DATA --encoder {encoder} "
            f"--per-speaker {per_speaker} --seed {seed}"
        ),
        "revision": _revision(),
    }
    (OUT / f"cohort_{encoder}.json").write_text(json.dumps(card, indent=2) + "\n")
    print(
        f"{card['recordings']} recordings of {card['speakers']} speakers, "
        f"{len(blob) / 1e3:.0f} kB: {OUT / f'cohort_{encoder}.npz'}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="extracted speechocean762 folder")
    parser.add_argument("--encoder", default="ge2e")
    parser.add_argument("--per-speaker", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.data, args.encoder, args.per_speaker, args.seed)
