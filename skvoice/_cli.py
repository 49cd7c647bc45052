"""The ``skvoice`` command line."""

import argparse
import sys

__all__ = ["main"]


def _demo(args):
    from ._demo import run_demo

    index = run_demo(
        args.out,
        seed=args.seed,
        n_speakers=args.n_speakers,
        n_recordings=args.n_recordings,
        epochs=args.epochs,
        quick=args.quick,
    )
    print(f"Report written to {index}")
    return 0


def _load_corpus(path, allowed, versions, return_paths=False):
    from pathlib import Path

    from .datasets import load_daps, load_speaker_folder
    from .datasets._daps import _NAME

    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"No such data folder: {str(root)!r}")
    daps_like = any(_NAME.match(f.stem) for f in root.rglob("*.wav"))
    if daps_like:
        return load_daps(root, versions=versions, allowed=allowed, return_paths=return_paths)
    return load_speaker_folder(root, allowed=allowed, return_paths=return_paths)


def _eda(args):
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    from .eda import plot_corpus, recordings_per_speaker

    allowed = _allowed(args.allowed) if args.allowed else []
    data = _load_corpus(args.data_dir, allowed, args.versions.split(","))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig = plot_corpus(data.data, data.speaker, data.target, data.sr)
    fig.savefig(out / "corpus.png", dpi=90)
    table = recordings_per_speaker(data.speaker, data.target)
    rows = "".join(
        f"<tr><td>{s}</td><td>{a}</td><td>{n}</td></tr>"
        for s, a, n in zip(table["speaker"], table["allowed"], table["recordings"])
    )
    (out / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>skvoice eda</title></head>"
        "<body><h1>Corpus analysis</h1><table><tr><th>speaker</th><th>allowed</th>"
        f"<th>recordings</th></tr>{rows}</table><img src='corpus.png'></body></html>"
    )
    print(f"Report written to {(out / 'index.html').resolve()}")
    return 0


def _allowed(text):
    names = [a.strip() for a in text.split(",") if a.strip()]
    if not names:
        raise ValueError("--allowed needs at least one speaker name.")
    return names


def _train(args):
    from sklearn.pipeline import make_pipeline

    from ._persist import save_model
    from .neural_network import CNNClassifier
    from .preprocessing import SilenceTrimmer, SpectrogramExtractor

    # Paths: the pipeline streams the files and keeps only their spectrograms.
    data = _load_corpus(
        args.data_dir, _allowed(args.allowed), args.versions.split(","), return_paths=True
    )
    if len(set(data.target)) < 2:
        raise ValueError("The data hold only allowed or only refused speakers.")
    print(f"Training on {len(data.data)} recordings of {len(set(data.speaker))} speakers")
    net = CNNClassifier(
        max_epochs=args.epochs,
        device=args.device,
        amp=args.amp,
        checkpoint_dir=args.checkpoint_dir,
        random_state=args.seed,
        verbose=int(args.verbose),
    )
    pipe = make_pipeline(SilenceTrimmer(sr=data.sr), SpectrogramExtractor(sr=data.sr), net)
    pipe.fit(data.data, data.target, cnnclassifier__groups=data.speaker)
    save_model(pipe, args.out)
    print(f"Model written to {args.out}")
    return 0


def _verify(args):
    import json

    import numpy as np

    from ._persist import load_model
    from .io import load_audio
    from .uncertainty import MCDropoutClassifier

    model = load_model(args.model)
    sr = model[0].sr
    waves = [load_audio(f, sr=sr) for f in args.files]
    specs = model[:-1].transform(waves)
    mc = MCDropoutClassifier(model[-1], n_passes=args.passes, random_state=0)
    mc.estimator_, mc.classes_ = model[-1], model[-1].classes_
    # The decision uses the model's own scoring; MC dropout adds the uncertainty of
    # the network's class outputs.
    proba = model[-1].predict_proba(specs)
    _, unc = mc.predict_proba(specs, return_uncertainty=True)
    rows = []
    for f, p, total, epi in zip(args.files, proba[:, 1], unc.total, unc.epistemic):
        rows.append(
            {
                "file": str(f),
                "decision": "accept" if p >= args.threshold else "refuse",
                "probability": round(float(p), 4),
                "uncertainty": round(float(total), 4),
                "epistemic": round(float(epi), 4),
            }
        )
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        for r in rows:
            print(
                f"{r['file']}: {r['decision']} (p={r['probability']:.3f}, "
                f"uncertainty={r['uncertainty']:.3f}, epistemic={r['epistemic']:.3f})"
            )
    return 0 if np.all(np.isfinite(proba)) else 1


def _evaluate(args):
    from sklearn.metrics import balanced_accuracy_score

    from ._persist import load_model
    from .metrics import equal_error_rate, far_at_frr

    model = load_model(args.model)
    data = _load_corpus(
        args.data_dir, _allowed(args.allowed), args.versions.split(","), return_paths=True
    )
    proba = model.predict_proba(data.data)[:, 1]
    y = data.target
    print(f"{len(y)} recordings ({int(y.sum())} allowed, {int((y == 0).sum())} refused)")
    print(f"EER: {equal_error_rate(y, proba):.4f}")
    print(f"FAR at 5 % FRR: {far_at_frr(y, proba, 0.05):.4f}")
    print(f"balanced accuracy: {balanced_accuracy_score(y, proba >= 0.5):.4f}")
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
    demo.add_argument("--epochs", type=int, default=12, help="CNN training epochs")
    demo.add_argument("--quick", action="store_true", help="3 folds instead of 4")
    demo.set_defaults(func=_demo)

    eda = sub.add_parser("eda", help="corpus analysis of a DAPS tree or speaker folders")
    eda.add_argument("data_dir")
    eda.add_argument("--out", required=True)
    eda.add_argument("--allowed", default="", help="comma-separated allowed speakers")
    eda.add_argument("--versions", default="clean")
    eda.set_defaults(func=_eda)

    train = sub.add_parser("train", help="train a CNN access-control model on a folder")
    train.add_argument("data_dir", help="a DAPS tree or one folder per speaker")
    train.add_argument("--allowed", required=True, help="comma-separated allowed speakers")
    train.add_argument("--out", required=True, help="model file to write")
    train.add_argument("--versions", default="clean", help="DAPS versions, comma-separated")
    train.add_argument("--epochs", type=int, default=30)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--verbose", action="store_true")
    train.add_argument("--device", default="cpu", help="cpu or cuda[:n]")
    train.add_argument("--amp", action="store_true", help="bfloat16 mixed precision")
    train.add_argument(
        "--checkpoint-dir",
        default=None,
        help="save a checkpoint every epoch; rerun the same command to resume",
    )
    train.set_defaults(func=_train)

    verify = sub.add_parser("verify", help="decide for each audio file")
    verify.add_argument("model")
    verify.add_argument("files", nargs="+")
    verify.add_argument("--threshold", type=float, default=0.5)
    verify.add_argument("--passes", type=int, default=30, help="MC dropout passes")
    verify.add_argument("--json", action="store_true", help="machine-readable output")
    verify.set_defaults(func=_verify)

    evaluate = sub.add_parser("evaluate", help="EER and FAR of a model on labelled data")
    evaluate.add_argument("model")
    evaluate.add_argument("data_dir")
    evaluate.add_argument("--allowed", required=True)
    evaluate.add_argument("--versions", default="clean")
    evaluate.set_defaults(func=_evaluate)
    return parser


def main(argv=None):
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (OSError, ValueError, TypeError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"skvoice {args.command}: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
