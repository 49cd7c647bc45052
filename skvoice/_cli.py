"""The ``skvoice`` command line."""

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _demo(args):
    import numpy as np

    from . import __version__
    from ._report import write_report
    from .datasets import make_voices
    from .preprocessing import SilenceTrimmer

    print(f"skvoice {__version__}: demo on synthetic voices (seed {args.seed})")
    voices = make_voices(
        n_speakers=args.n_speakers, n_recordings=args.n_recordings, random_state=args.seed
    )
    trimmer = SilenceTrimmer(sr=voices.sr)
    durations = trimmer.fit(voices.data).durations(voices.data)
    rows = []
    for name in np.unique(voices.speaker):
        mask = voices.speaker == name
        f0 = np.concatenate([voices.f0[i] for i in np.flatnonzero(mask)])
        rows.append(
            {
                "speaker": name,
                "allowed": bool(voices.target[mask][0]),
                "recordings": int(mask.sum()),
                "duration_s": round(float(durations[mask, 0].mean()), 2),
                "trimmed_s": round(float(durations[mask, 1].mean()), 2),
                "median_f0_hz": round(float(np.nanmedian(f0)), 1),
            }
        )
    header = list(rows[0])
    widths = [max(len(h), *(len(str(r[h])) for r in rows)) for h in header]
    line = "  ".join(h.rjust(w) for h, w in zip(header, widths))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(r[h]).rjust(w) for h, w in zip(header, widths)))
    index = write_report(Path(args.out), rows, voices, durations)
    print(f"Report written to {index}")
    return 0


def build_parser():
    """The argument parser of the ``skvoice`` command (for docs and tests)."""
    parser = argparse.ArgumentParser(
        prog="skvoice", description="Voice-based access control with scikit-learn."
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"skvoice {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the study on the embedded synthetic voices")
    demo.add_argument("--out", default="skvoice-report", help="report folder")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.add_argument("--n-speakers", type=int, default=10)
    demo.add_argument("--n-recordings", type=int, default=20)
    demo.set_defaults(func=_demo)
    return parser


def main(argv=None):
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (OSError, ValueError) as exc:
        print(f"skvoice {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
