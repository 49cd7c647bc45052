"""Build a small speechocean762 subset: the tests' real speech, or the demo's.

Usage::

    python tools/make_speechocean762_subset.py CORPUS_DIR [--out tests/data/speechocean762]
    python tools/make_speechocean762_subset.py CORPUS_DIR --demo

Without ``--demo``: from the speakers of the corpus's ``test/`` list (never used by
the public benchmark), 6 female and 6 male adults and 4 utterances of 2-6 s from
each, for the tests. With ``--demo``: from the ``train/`` list (the speakers no
shipped encoder or cohort was built from), 12 female and 12 male adults and 8
utterances of 2-3.5 s from each (under 10 MB), into ``skvoice/datasets/data/demo_voices``, which
``skvoice.datasets.load_demo_voices`` reads. The utterances are chosen with a
fixed seed and written as 16-bit FLAC in the corpus's own layout
(``WAVE/SPEAKERxxxx/*.flac`` and Kaldi lists under ``test/`` or ``train/``), so that
``load_speechocean762(OUT, subset=...)`` reads them. Deterministic: rerunning it on
the same corpus writes the same files.
"""

import argparse
import shutil
from pathlib import Path

import numpy as np
import soundfile as sf

from skvoice.datasets import load_speechocean762

LICENCE = """\
speechocean762 subset used by skvoice's {use}
{underline}

{n} utterances ({k} adult speakers x {per}) of the speechocean762 corpus ({subset}/
list), converted to 16-bit FLAC without other change, with the corpus's Kaldi lists
restricted to them. Built by tools/make_speechocean762_subset.py{flag}.

Source: speechocean762, OpenSLR resource 101 (https://www.openslr.org/101/), also at
https://github.com/jimbozhang/speechocean762. Licence: Creative Commons Attribution 4.0
International (CC BY 4.0, https://creativecommons.org/licenses/by/4.0/).

J. Zhang, Z. Zhang, Y. Wang, Z. Yan, Q. Song, Y. Huang, K. Li, D. Povey and Y. Wang,
"speechocean762: An Open-Source Non-native English Speech Corpus For Pronunciation
Assessment", Proc. Interspeech 2021.
"""


#: (subset, speakers per gender, utterances per speaker, shortest and longest in s).
TESTS = ("test", 6, 4, 2.0, 6.0)
DEMO = ("train", 12, 8, 2.0, 3.5)


def _fitting(so, speaker, shortest, longest):
    """The speaker's utterances lasting ``shortest`` to ``longest`` seconds."""
    idx = np.flatnonzero(so.speaker == speaker)
    durations = np.array([sf.info(so.filename[i]).duration for i in idx])
    return idx[(durations >= shortest) & (durations <= longest)]


def main(corpus, out, seed=0, plan=TESTS):
    subset, per_gender, per_speaker, shortest, longest = plan
    so = load_speechocean762(corpus, subset=subset, return_paths=True)
    rng = np.random.default_rng(seed)
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    (out / subset).mkdir(parents=True)
    lists = {"wav.scp": [], "utt2spk": [], "spk2gender": [], "spk2age": [], "text": []}
    for gender in ("f", "m"):
        adults = sorted(set(so.speaker[(so.gender == gender) & (so.age >= 18)]))
        # Only speakers with enough utterances of the right length can be drawn.
        fitting = {s: _fitting(so, s, shortest, longest) for s in adults}
        adults = [s for s in adults if len(fitting[s]) >= per_speaker]
        for spk in sorted(rng.choice(adults, size=per_gender, replace=False)):
            idx = fitting[spk]
            for i in sorted(rng.choice(idx, size=per_speaker, replace=False)):
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
        (out / subset / name).write_text("\n".join(sorted(lines)) + "\n")
    use = "tests" if plan is TESTS else "demo"
    title = f"speechocean762 subset used by skvoice's {use}"
    (out / "README.md").write_text(
        LICENCE.format(
            use=use,
            underline="=" * len(title),
            n=len(lists["wav.scp"]),
            k=2 * per_gender,
            per=per_speaker,
            subset=subset,
            flag="" if plan is TESTS else " --demo",
        )
    )
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {len(lists['wav.scp'])} utterances, {size / 1e6:.2f} MB, to {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    parser.add_argument("--out", default=None)
    parser.add_argument("--demo", action="store_true", help="the demo's corpus (train/)")
    args = parser.parse_args()
    default = "skvoice/datasets/data/demo_voices" if args.demo else "tests/data/speechocean762"
    main(args.corpus, args.out or default, plan=DEMO if args.demo else TESTS)
