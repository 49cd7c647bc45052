"""Build the small speechocean762 subset that ships with the tests.

Usage: python tools/make_speechocean762_subset.py CORPUS_DIR [--out tests/data/speechocean762]

From the speakers of the corpus's ``test/`` list (never used by the public
benchmark), takes 6 female and 6 male adults and 4 utterances of 2-6 s from each,
chosen with a fixed seed, and writes them as 16-bit FLAC in the corpus's own layout
(``WAVE/SPEAKERxxxx/*.flac`` and Kaldi lists under ``test/``), so that
``load_speechocean762(OUT, subset="test")`` reads it. Deterministic: rerunning it
on the same corpus writes the same files.
"""

import argparse
import shutil
from pathlib import Path

import numpy as np
import soundfile as sf

from skvoice.datasets import load_speechocean762

LICENCE = """\
speechocean762 subset used by skvoice's tests
=============================================

48 utterances (12 adult speakers x 4) of the speechocean762 corpus, converted to
16-bit FLAC without other change, with the corpus's Kaldi lists restricted to them.
Built by tools/make_speechocean762_subset.py.

Source: speechocean762, OpenSLR resource 101 (https://www.openslr.org/101/), also at
https://github.com/jimbozhang/speechocean762. Licence: Creative Commons Attribution 4.0
International (CC BY 4.0, https://creativecommons.org/licenses/by/4.0/).

J. Zhang, Z. Zhang, Y. Wang, Z. Yan, Q. Song, Y. Huang, K. Li, D. Povey and Y. Wang,
"speechocean762: An Open-Source Non-native English Speech Corpus For Pronunciation
Assessment", Proc. Interspeech 2021.
"""


def main(corpus, out, seed=0):
    so = load_speechocean762(corpus, subset="test", return_paths=True)
    rng = np.random.default_rng(seed)
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    (out / "test").mkdir(parents=True)
    lists = {"wav.scp": [], "utt2spk": [], "spk2gender": [], "spk2age": [], "text": []}
    for gender in ("f", "m"):
        adults = sorted(set(so.speaker[(so.gender == gender) & (so.age >= 18)]))
        for spk in sorted(rng.choice(adults, size=6, replace=False)):
            idx = np.flatnonzero(so.speaker == spk)
            durations = np.array([sf.info(so.filename[i]).duration for i in idx])
            idx = idx[(durations >= 2.0) & (durations <= 6.0)]
            for i in sorted(rng.choice(idx, size=4, replace=False)):
                utt = so.utterance[i]
                rel = Path("WAVE") / f"SPEAKER{spk}" / f"{utt}.flac"
                (out / rel.parent).mkdir(parents=True, exist_ok=True)
                y, sr = sf.read(so.filename[i], dtype="int16")
                sf.write(out / rel, y, sr, subtype="PCM_16")
                lists["wav.scp"].append(f"{utt}\t{rel.as_posix()}")
                lists["utt2spk"].append(f"{utt}\t{spk}")
                lists["text"].append(f"{utt}\t{so.text[i]}")
            lists["spk2gender"].append(f"{spk}\t{gender}")
            lists["spk2age"].append(f"{spk}\t{so.age[idx[0]]}")
    for name, lines in lists.items():
        (out / "test" / name).write_text("\n".join(sorted(lines)) + "\n")
    (out / "README.md").write_text(LICENCE)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {len(lists['wav.scp'])} utterances, {size / 1e6:.2f} MB, to {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    parser.add_argument("--out", default="tests/data/speechocean762")
    args = parser.parse_args()
    main(args.corpus, args.out)
