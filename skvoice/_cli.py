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
        synthetic=args.synthetic,
    )
    print(f"Report written to {index}")
    return 0


def _load_corpus(
    path, allowed, versions, return_paths=False, sr=16000, pattern=None, exclude=None
):
    """A DAPS tree, one folder per speaker, or a manifest (a .csv/.tsv file list).

    ``exclude``: comma-separated speakers whose recordings are left out.
    """
    from pathlib import Path

    from .datasets import load_daps, load_manifest, load_speaker_folder
    from .datasets._base import list_audio_files
    from .datasets._daps import is_daps_file

    root = Path(path)
    if root.is_file() and root.suffix.lower() in (".csv", ".tsv"):
        data = load_manifest(root, allowed=allowed, sr=sr, return_paths=return_paths)
    elif not root.is_dir():
        raise FileNotFoundError(f"No such data folder or manifest (.csv, .tsv): {str(root)!r}")
    elif pattern is None and any(
        is_daps_file(f.stem) for f in list_audio_files(root) if f.suffix.lower() == ".wav"
    ):
        data = load_daps(
            root, versions=versions, allowed=allowed, sr=sr, return_paths=return_paths
        )
    else:
        data = load_speaker_folder(
            root, allowed=allowed, pattern=pattern, sr=sr, return_paths=return_paths
        )
    return _excluded(data, exclude)


def _excluded(data, exclude):
    """``data`` without the recordings of the speakers ``exclude`` names."""
    import numpy as np

    from .datasets._base import subset_recordings

    names = [s.strip() for s in (exclude or "").split(",") if s.strip()]
    if not names:
        return data
    speakers = np.asarray(data.speaker).astype(str)
    unknown = sorted(set(names) - set(speakers))
    if unknown:
        raise ValueError(f"--exclude: no recordings of {unknown} in the data.")
    keep = ~np.isin(speakers, names)
    subset_recordings(data, keep)
    data["allowed"] = [a for a in data.get("allowed", []) if a not in names]
    print(f"Left out {int((~keep).sum())} recordings of {', '.join(names)} (--exclude)")
    return data


def _audio_summary(files):
    """Native sample rate counts and durations of the files, from their headers."""
    from collections import Counter

    import soundfile as sf

    rates, durations = Counter(), []
    for f in files:
        try:
            info = sf.info(str(f))
        except Exception:  # unreadable files are reported where they are read
            continue
        rates[info.samplerate] += 1
        durations.append(info.duration)
    return rates, durations


def _native_rates(rates, sr, frontend_fmax=None):
    """Print the corpus's native sample rates; return the ``fmax`` the mel bands may use.

    Files below the working rate are resampled up, but hold nothing above their own
    Nyquist frequency: mel bands up there would be empty, so ``fmax`` follows the
    lowest native rate. With ``frontend_fmax`` (a pretrained encoder's fixed
    front-end) nothing follows: the message says what the model does use.
    """
    listed = ", ".join(f"{r} Hz ({n} files)" for r, n in sorted(rates.items()))
    print(f"Native sample rates: {listed or 'unknown'}; working rate {sr} Hz")
    lowest = min(rates) if rates else sr
    if lowest < sr and frontend_fmax is not None:
        print(
            f"Files at {lowest} Hz hold nothing above {lowest // 2} Hz; the encoder's "
            f"front-end is fixed, so its bands from there to {frontend_fmax:g} Hz stay empty "
            "for them."
        )
        return None
    if lowest < sr:
        print(
            f"Files at {lowest} Hz hold nothing above {lowest // 2} Hz: the mel bands stop "
            f"there (fmax={lowest // 2})."
        )
        return lowest / 2
    return None


def _eda(args):
    from pathlib import Path

    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    from ._report import table_html
    from .eda import duration_table, f0_table, plot_corpus, recordings_per_speaker

    allowed = _allowed(args.allowed) if args.allowed else []
    data = _load_corpus(
        args.data_dir, allowed, args.versions.split(","), sr=args.sr, pattern=args.pattern
    )
    _native_rates(_audio_summary(data.filename)[0], args.sr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig = plot_corpus(data.data, data.speaker, data.target, data.sr)
    fig.savefig(out / "corpus.png", dpi=90)
    counts = recordings_per_speaker(data.speaker, data.target)
    durations = duration_table(data.data, data.speaker, data.sr)
    f0 = f0_table(data.data, data.speaker, data.sr)
    rows = []
    for name, allowed_, n in zip(counts["speaker"], counts["allowed"], counts["recordings"]):
        mine = np.asarray(durations["speaker"]) == name
        voiced = np.asarray(f0["f0"])[np.asarray(f0["speaker"]) == name]
        q1, med, q3 = np.percentile(voiced, [25, 50, 75]) if len(voiced) else (np.nan,) * 3
        rows.append(
            {
                "speaker": str(name),
                "allowed": bool(allowed_),
                "recordings": int(n),
                "duration s (mean)": round(
                    float(np.mean(np.asarray(durations["before"])[mine])), 2
                ),
                "after trimming s (mean)": round(
                    float(np.mean(np.asarray(durations["after"])[mine])), 2
                ),
                "F0 median Hz": round(float(med), 1),
                "F0 IQR Hz": f"{q1:.0f}-{q3:.0f}",
            }
        )
    (out / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>skvoice eda</title></head>"
        "<body><h1>Corpus analysis</h1>"
        + table_html(rows)
        + "<p>F0: pYIN over frames within 30 dB of each recording's loudest frame.</p>"
        "<img src='corpus.png'></body></html>"
    )
    print(f"Report written to {(out / 'index.html').resolve()}")
    return 0


def _allowed(text):
    names = [a.strip() for a in text.split(",") if a.strip()]
    if not names:
        raise ValueError("--allowed needs at least one speaker name.")
    return names


def _check_writable(path):
    """Fail now, naming ``path``, if the model could not be written there later."""
    import os
    import tempfile

    folder = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Cannot write the model to {path!r}: no folder {folder!r}.")
    if os.path.isdir(path):
        raise IsADirectoryError(f"Cannot write the model to {path!r}: it is a folder.")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise PermissionError(
            f"Cannot write the model to {path!r}: {exc.strerror or exc}."
        ) from None


def _drop_unreadable(data, skip_bad):
    """With ``--skip-bad``, the recordings that decode, and the list of the others."""
    from .io import load_audio

    if not skip_bad:
        return data
    good, bad = [], []
    for i, f in enumerate(data.data):
        try:
            load_audio(f, sr=data.sr)
            good.append(i)
        except Exception as exc:  # any decoding failure: skipped and listed
            bad.append((f, _one_line(exc)))
    for f, why in bad:
        print(f"skipped {f}: {why}", file=sys.stderr)
    if bad:
        print(f"Skipped {len(bad)} unreadable file(s) of {len(data.data)}", file=sys.stderr)
    for key in ("data", "target", "speaker", "filename"):
        if key in data:
            values = data[key]
            data[key] = [values[i] for i in good] if isinstance(values, list) else values[good]
    return data


def _train(args):
    from sklearn.pipeline import make_pipeline

    from .neural_network import CNNClassifier
    from .neural_network._base import resolve_device
    from .neural_network._epoch_bar import EpochProgressBar, FitCounter
    from .preprocessing import SilenceTrimmer, SpectrogramExtractor

    # Every argument is checked before any file is read: a bad one costs nothing.
    _check_writable(args.out)
    key = _key(args)
    fits = FitCounter(1)  # its total is known once the data are read
    net = CNNClassifier(
        max_epochs=args.epochs,
        device=args.device,
        amp=args.amp,
        checkpoint_dir=args.checkpoint_dir,
        callbacks=None if args.quiet else [("progress", EpochProgressBar(fits=fits))],
        random_state=args.seed,
        verbose=int(args.verbose),
    )
    net._validate_params()
    resolve_device(args.device)
    data, fmax = _labelled_files(
        args, args.sr, "The data hold only allowed or only refused speakers."
    )
    print(f"Training on {len(data.data)} recordings of {len(set(data.speaker))} speakers")
    net.set_params(target_far=_target_far(args, data))
    if net.target_far is not None:  # the final fit and one per cross-fitting fold
        fits.total = 1 + min(5, _n_refused_speakers(data))
    pipe = make_pipeline(
        SilenceTrimmer(sr=data.sr), SpectrogramExtractor(sr=data.sr, fmax=fmax), net
    )
    pipe.fit(data.data, data.target, cnnclassifier__groups=data.speaker)
    _save(pipe, args, key)
    return 0


def _enroll(args):
    """Enrol the allowed speakers with a pretrained encoder: no training."""
    from .neural_network._pretrained import best_encoder, encoder_card
    from .verification import make_enrollment_pipeline

    _check_writable(args.out)
    key = _key(args)
    if args.encoder == "auto":
        args.encoder = best_encoder()
    # Every file is read at the encoder's rate (soxr resamples 8 kHz, 44.1 kHz, ...);
    # its front-end is fixed, so the native rates are only reported.
    front = encoder_card(args.encoder)["frontend"]
    rate = int(front["sr"])
    data, _ = _labelled_files(
        args,
        rate,
        "Enrolment needs refused speakers too: their recordings calibrate the scores "
        "(and set the threshold with --target-far).",
        frontend_fmax=front.get("fmax") or rate / 2,
        encoder=args.encoder,
    )
    target_far = _target_far(args, data)
    pipe = make_enrollment_pipeline(args.encoder, sr=rate, target_far=target_far)
    pipe.fit(data.data, data.target, enrollmentverifier__groups=data.speaker)
    ver = pipe[-1]
    refused = _n_refused_speakers(data)
    cohort = "" if ver.cohort is None else f" and a cohort of {len(set(ver.cohort[1]))} non-users"
    print(
        f"Enrolled {len(ver.enrolled_)} allowed speakers ({', '.join(sorted(ver.enrolled_))}) "
        f"from {int(sum(data.target))} recordings; {refused} refused speakers{cohort} "
        f"calibrate the scores. Encoder: {args.encoder}, nothing trained."
    )
    _save(pipe, args, key)
    return 0


def _n_refused_speakers(data):
    """How many speakers of the labelled data are refused."""
    import numpy as np

    return len(set(np.asarray(data.speaker)[np.asarray(data.target) == 0]))


#: The false-acceptance rate ``train`` and ``enroll`` operate at unless told otherwise.
DEFAULT_TARGET_FAR = 0.05


def _target_far(args, data):
    """``--target-far``: the given rate, None for "none", else the default when it can hold.

    The default needs two refused speakers at least (cross-fitting holds each
    out in turn); with fewer, one line says so and the model decides at the
    calibrated probability 0.5.
    """
    if args.target_far == "none":
        return None
    if args.target_far is not None:
        return args.target_far
    refused = _n_refused_speakers(data)
    if refused < 2:
        print(
            f"No threshold at a {DEFAULT_TARGET_FAR:g} false-acceptance rate: it is chosen on "
            f"refused speakers held out in turn, and the data have {refused}. The model "
            "accepts above a calibrated probability of 0.5; add refused speakers."
        )
        return None
    return DEFAULT_TARGET_FAR


def _labelled_files(args, sr, one_class_error, frontend_fmax=None, encoder=None):
    """The labelled files of ``train`` and ``enroll``, streamed at ``sr``; and the mel fmax.

    The native rates are printed (with a fixed front-end's ``frontend_fmax``, what
    it does with them); unreadable files are dropped with ``--skip-bad``; data of
    one class only raise ``one_class_error``.
    """
    # Paths: the pipeline streams the files and keeps only their spectrograms.
    data = _load_corpus(
        args.data_dir,
        _allowed(args.allowed),
        args.versions.split(","),
        True,
        sr,
        args.pattern,
        args.exclude,
    )
    rates, durations = _audio_summary(data.filename)
    fmax = _native_rates(rates, sr, frontend_fmax)
    data = _drop_unreadable(data, args.skip_bad)
    if len(set(data.target)) < 2:
        raise ValueError(one_class_error)
    _warn_outside_measured(data, min(rates) if rates else sr, durations, encoder)
    return data, fmax


def _warn_outside_measured(data, lowest_rate, durations, encoder=None):
    """One warning line when the data are below what the choosing page measured to hold."""
    from ._measured import warn_outside_measured

    warn_outside_measured(
        data.speaker, data.target, lowest_rate=lowest_rate, durations=durations, encoder=encoder
    )


def _save(pipe, args, key):
    """Save the fitted model of ``train`` / ``enroll`` and say where, with its threshold."""
    from ._persist import save_model

    save_model(pipe, args.out, key=key)
    rates = getattr(pipe[-1], "expected_rates_", None)
    if rates is not None:
        print(_promise(pipe[-1].target_far, pipe[-1].threshold_, rates))
    print(f"Model written to {args.out}")


def _promise(target_far, threshold, rates):
    """What the saved threshold promises, with its intervals: two lines."""

    def pct(x):
        return f"{100 * x:.1f} %"

    n_cohort = rates["cohort_speakers"]
    cohort = f", {n_cohort} of them non-users of the cohort" if n_cohort else ""
    far_lo, far_hi = rates["far_interval"]
    frr_lo, frr_hi = rates["frr_interval"]
    level = f"{100 * rates['interval_level']:.0f} %"
    return (
        f"Threshold for a false-acceptance rate of {target_far:g}: {threshold:.3f} "
        f"(log-odds), set on {rates['impostor_recordings']} recordings of "
        f"{rates['impostor_speakers']} impostors held out of training{cohort}.\n"
        f"On new impostors expect FAR {pct(rates['far_predicted'])}, "
        f"{pct(far_lo)}-{pct(far_hi)} ({level}); on new recordings of the allowed users "
        f"FRR {pct(rates['frr'])}, {pct(frr_lo)}-{pct(frr_hi)} ({level}). "
        "'skvoice evaluate' measures them."
    )


def _key(args):
    """The signing key: ``--key-file``, else the file named by $SKVOICE_KEY_FILE."""
    import os

    from ._persist import KEY_ENV

    path = args.key_file or os.environ.get(KEY_ENV)
    if not path:
        return None
    with open(path, "rb") as fh:
        key = fh.read().strip()
    if not key:
        raise ValueError(f"The key file {path!r} is empty.")
    return key


def _load(args):
    from ._persist import load_model

    return load_model(args.model, key=_key(args), allow_unsigned=args.allow_unsigned)


def _decider(net, model_path):
    """``net`` if it can decide access; else a clear error."""
    if getattr(net, "pos_label_", None) is None:
        if len(getattr(net, "classes_", ())) == 2:
            raise ValueError(
                f"{model_path!r} does not say which of its labels "
                f"{list(net.classes_.tolist())} is the allowed one (it was trained without "
                "pos_label): it cannot decide access. Train it again with pos_label=<allowed "
                "label>, or with labels 1 (allowed) and 0 (refused)."
            )
        raise ValueError(f"{model_path!r} is not a two-class access-control model.")
    return net


def _file_error(exc):
    """One line for a file's row: what went wrong, without the batch's recording index."""
    import re

    line = re.sub(r"^Recording \d+: ", "", _one_line(exc))
    # The row names the file already.
    return re.sub(r"^Cannot read audio file '.*?': ", "not readable as audio: ", line)


def _features_of_each(front, files, sr, read=None):
    """Each file read and featurised on its own, so that a bad one fails alone.

    ``read(name, sr)`` gives a waveform (default: :func:`~skvoice.io.load_audio`).
    Returns the files that worked, their features (embeddings stacked, or a list
    of spectrograms) and ``(file, reason)`` for the others.
    """
    import numpy as np

    from .io import load_audio

    read = load_audio if read is None else read
    good, feats, failed = [], [], []
    for f in files:
        try:
            out = front.transform([read(f, sr=sr)])
            feats.append(out[0])
            good.append(str(f))
        except Exception as exc:  # one bad file must not hide the others' results
            failed.append((str(f), _file_error(exc)))
    if feats and all(np.ndim(x) == 1 for x in feats):
        feats = np.stack(feats)  # embeddings: one row each
    return good, feats, failed


def _verify(args):
    """Exit 0 when every file is accepted, 1 when one is refused, 2 on any error.

    ``-`` as the only file reads paths from standard input, one a line, and
    prints each decision as it is made (one JSON object a line with ``--json``):
    the model is loaded once, for a service that decides all day.
    """
    import json

    model = _load(args)
    if len(model) < 2 or not hasattr(model[0], "sr"):
        raise ValueError(f"{args.model!r} holds no audio front end (a bare network).")
    net = _decider(model[-1], args.model)
    if args.files == ["-"]:
        worst = 0
        for line in sys.stdin:
            path = line.strip()
            if not path:
                continue
            rows = _decide_files(model, net, [path], args)
            for r in rows:
                print(json.dumps(r, allow_nan=False) if args.json else _row_text(r), flush=True)
            worst = max(worst, _verify_code(rows))
        return worst
    rows = _decide_files(model, net, args.files, args)
    if args.json:
        print(json.dumps(rows, indent=1, allow_nan=False))
        # stdout is for programs: a person still sees which files failed.
        for r in rows:
            if r["decision"] == "error":
                print(f"skvoice verify: error: {r['file']}: {r['error']}", file=sys.stderr)
    else:
        for r in rows:  # an error is printed once, on its row
            print(_row_text(r))
    return _verify_code(rows)


def _serve(args):
    """Answer decisions over HTTP until interrupted (Ctrl-C)."""
    from ._serve import make_server

    model = _load(args)
    if len(model) < 2 or not hasattr(model[0], "sr"):
        raise ValueError(f"{args.model!r} holds no audio front end (a bare network).")
    net = _decider(model[-1], args.model)
    server = make_server(model, net, args, host=args.host, port=args.port)
    host, port = server.server_address[:2]
    print(
        f"Serving {args.model} on http://{host}:{port} (POST /verify with an audio file; "
        f"GET /health); bodies up to {args.max_bytes} bytes, audio up to "
        f"{args.max_seconds:g} s. Ctrl-C stops.",
        flush=True,
    )
    from ._progress import show_progress

    try:
        with show_progress(False):  # one decision a request: no bars in the log
            server.serve_forever()
    finally:
        server.server_close()
    return 0


def _verify_code(rows):
    if any(r["decision"] == "error" for r in rows):
        return 2
    return 0 if all(r["decision"] == "accept" for r in rows) else 1


def _row_text(r):
    """One line of ``verify``'s text output."""
    if r["decision"] == "error":
        return f"{r['file']}: error: {r['error']}"
    # What the model cannot give (an enrolment has no sampled outputs) is left
    # out of the text, as it is null in --json.
    fields = ("probability", "uncertainty", "epistemic")
    shown = ", ".join(
        f"{'p' if k == 'probability' else k}={r[k]:.3f}" for k in fields if r[k] is not None
    )
    if r["voice"] is not None:
        shown += f", {r['voice']} voice"
    return f"{r['file']}: {r['decision']} ({shown})"


def _decide_files(model, net, paths, args, read=None):
    """One row per path, in the order given: the decision and what it rests on, or the error."""
    import math

    import numpy as np

    from .uncertainty import MCDropoutClassifier

    files, specs, failed = _features_of_each(model[:-1], paths, model[0].sr, read)
    rows = []
    if files:
        pos = _allowed_column(net)
        proba = net.predict_proba(specs)[:, pos]
        if args.threshold is None:
            accept = net.predict(specs) == net.pos_label_
        else:
            accept = proba > args.threshold
        nan = np.full(len(files), np.nan)
        if hasattr(net, "net_"):
            mc = MCDropoutClassifier.from_fitted(net, n_passes=args.passes, random_state=0)
            # MC dropout adds the uncertainty of the network's class outputs.
            _, unc = mc.predict_proba(specs, return_uncertainty=True)
        else:  # an enrolment: a deterministic encoder, no sampled outputs
            unc = {"total": nan, "epistemic": nan}
        novelty = unc.get("novelty", nan)
        # The raw novelty has no scale; the network's threshold (from the new
        # recordings of known voices that cross-fitting held out) makes it a flag.
        limit = getattr(net, "novelty_threshold_", None)

        def num(x):
            return round(float(x), 4) if math.isfinite(x) else None

        for f, p, ok, total, epi, nov in zip(
            files, proba, accept, unc["total"], unc["epistemic"], novelty
        ):
            rows.append(
                {
                    "file": f,
                    "decision": "accept" if ok else "refuse",
                    "probability": num(p),
                    "uncertainty": num(total),
                    "epistemic": num(epi),
                    "novelty": num(nov),
                    "voice": None
                    if limit is None or not math.isfinite(nov)
                    else ("unfamiliar" if nov > limit else "familiar"),
                }
            )
    rows += [{"file": f, "decision": "error", "error": why} for f, why in failed]
    order = {str(f): k for k, f in enumerate(paths)}
    rows.sort(key=lambda r: order[r["file"]])  # the order the files were given
    return rows


def _allowed_column(net):
    """Column of ``predict_proba`` that holds the allowed label's probability."""
    return int(list(net.classes_).index(net.pos_label_))


def _one_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _model_allowed(net, given):
    """The allowed speakers: those the model enrolled, checked against ``--allowed``."""
    import numpy as np

    enrolled = None
    if hasattr(net, "enrolled_"):  # an enrolment
        enrolled = sorted(net.enrolled_)
    elif getattr(net, "objective_", None) == "speakers":
        pos = _allowed_column(net)
        enrolled = sorted(str(s) for s in np.asarray(net.speakers_)[net.speaker_class_ == pos])
    if given is None:
        if enrolled is None:
            raise ValueError("This model does not record its speakers: pass --allowed.")
        return enrolled
    names = _allowed(given)
    if enrolled is not None:
        refused = sorted(set(names) - set(enrolled))
        if refused:
            raise ValueError(
                f"--allowed names {refused}, whom the model does not accept; the model's "
                f"allowed speakers are {enrolled} (leave --allowed out to use them)."
            )
    return names


def _evaluate(args):
    """Pooled and per-speaker rates, with the speakers' status in training."""
    import numpy as np

    from .metrics import (
        acceptance_by_speaker,
        bootstrap_interval,
        cllr,
        equal_error_rate,
        far_at_frr,
        min_cllr,
    )

    if args.channel:
        channels = [c.strip() for c in args.channel.split(",") if c.strip()]
        unknown = sorted(set(channels) - set(_CONDITION_NAMES))
        if unknown:
            raise ValueError(f"--channel: unknown {unknown}; choose from {list(_CONDITION_NAMES)}")
    model = _load(args)
    net = _decider(model[-1], args.model)
    allowed = _model_allowed(net, args.allowed)
    data = _load_corpus(
        args.data_dir,
        allowed,
        args.versions.split(","),
        return_paths=True,
        pattern=args.pattern,
        exclude=args.exclude,
    )
    data = _drop_unreadable(data, args.skip_bad)
    pos = _allowed_column(net)
    # Files read and features computed once, for both the scores and the decisions.
    specs = model[:-1].transform(data.data)
    scores = net.predict_proba(specs)[:, pos]
    y = np.asarray(data.target)
    if args.threshold is not None:
        accepted = (scores > args.threshold).astype(float)
        at = f"threshold p > {args.threshold:g}"
    elif args.target_far is not None:
        from .metrics._verification import far_cut

        # Placed on the very impostors it is measured on: what a threshold could
        # give at best, not what the saved one promises.
        accepted = (scores > far_cut(scores[y == 0], args.target_far)).astype(float)
        at = f"the threshold for FAR {args.target_far:g} on these impostors"
    else:
        accepted = (net.predict(specs) == net.pos_label_).astype(float)
        at = "the model's threshold"
    speakers = np.asarray(data.speaker).astype(str)
    # A network trained on its refused speakers; an enrolment only scored them
    # (its calibration and cohort).
    seen = "refused, trained" if hasattr(net, "speakers_") else "refused, in the enrolment"
    heard = getattr(net, "speakers_", getattr(net, "cohort_speakers_", []))
    trained = set(np.asarray(heard).astype(str))
    status = np.where(
        y == 1,
        "allowed",
        np.where(np.isin(speakers, list(trained)), seen, "never heard"),
    )
    if args.target_far is not None:
        print(
            f"Decisions at {at}: chosen on the test's own impostors, an upper bound of "
            "what a threshold fixed in advance gives."
        )
    rng = np.random.default_rng(0)
    print(
        f"{len(y)} recordings ({int(y.sum())} allowed, {int((y == 0).sum())} refused) of "
        f"{len(set(speakers))} speakers; allowed: {', '.join(allowed)}"
    )
    print(f"EER, all trials: {equal_error_rate(y, scores):.4f}")
    for group in ("never heard", seen):
        impostor = status == group
        if not impostor.any():
            print(f"allowed vs {group}: no such recordings")
            continue
        keep = (status == "allowed") | impostor
        yk, sk, ak = y[keep], scores[keep], accepted[keep]
        if len(set(yk)) < 2:
            print(f"allowed vs {group}: no allowed recordings")
            continue
        far = ak[yk == 0].mean()
        lo, hi = bootstrap_interval(np.mean, ak[yk == 0], random_state=rng)
        eer = equal_error_rate(yk, sk)
        eer_lo, eer_hi = bootstrap_interval(
            equal_error_rate, yk, sk, n_resamples=200, random_state=rng
        )
        # The calibrated log-odds read as log-likelihood ratios: Cllr is what the
        # calibration costs, min Cllr what the best calibration of these scores would.
        p = np.clip(sk, 1e-12, 1 - 1e-12)
        log_odds = np.log(p) - np.log1p(-p)
        print(
            f"allowed vs {group}: EER {eer:.4f} [95 % CI {eer_lo:.4f}-{eer_hi:.4f}], "
            f"FAR at 5 % FRR {far_at_frr(yk, sk, 0.05):.4f}, "
            f"FAR at {at} {far:.4f} [95 % CI {lo:.4f}-{hi:.4f}], "
            f"Cllr {cllr(yk, log_odds):.3f} (min {min_cllr(yk, sk):.3f})"
        )
    if (y == 1).any():
        rejected = 1.0 - accepted[y == 1]
        lo, hi = bootstrap_interval(np.mean, rejected, random_state=rng)
        print(f"FRR at {at}: {rejected.mean():.4f} [95 % CI {lo:.4f}-{hi:.4f}]")
    print()
    print(f"{'speaker':<20} {'status':<17} {'recordings':>10} {'accepted':>9}  95 % CI")
    table = acceptance_by_speaker(y, accepted.astype(int), speakers)
    status_of = {name: status[speakers == name][0] for name in table["speaker"]}
    order = sorted(range(len(table["speaker"])), key=lambda k: (status_of[table["speaker"][k]], k))
    for k in order:
        name = table["speaker"][k]
        print(
            f"{name:<20} {status_of[name]:<17} {table['recordings'][k]:>10} "
            f"{table['accepted'][k]:>9.2f}  {table['ci_low'][k]:.2f}-{table['ci_high'][k]:.2f}"
        )
    if args.channel:
        _stress(model, data, y, channels)
    return 0


#: The names of skvoice.augment.CONDITIONS, without importing it for --help.
_CONDITION_NAMES = (
    "wide-band",
    "telephone",
    "gsm",
    "short",
    "2s",
    "noisy",
    "noisy-0db",
    "reverberant",
    "reverberant-0.3",
)


def _stress(model, data, y, names):
    """``evaluate --channel``: the EER, FAR and FRR under each condition, one row each."""
    from .augment import stress_test
    from .datasets._base import read_many

    sr = int(getattr(model[0], "sr", 16000))
    waves = read_many(data.filename, sr, desc="Reading for the stress test")
    rows = stress_test(model, waves, y, conditions=names, sr=sr)
    print()
    print("The same recordings under other conditions (the model as saved; skvoice.augment):")
    print(f"{'condition':<16} {'what':<36} {'EER':>7} {'FAR':>7} {'FRR':>7}")
    for r in rows:
        print(f"{r.condition:<16} {r.what:<36} {r.eer:>7.4f} {r.far:>7.4f} {r.frr:>7.4f}")


def _checked(name, cast, ok, requirement):
    """An argparse type: ``cast`` the text, and refuse values for which ``ok`` is false."""

    def parse(text):
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be {requirement}, got {text!r}"
            ) from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{name} must be {requirement}, got {text!r}")
        return value

    return parse


def _open_unit(name):
    return _checked(name, float, lambda v: 0 < v < 1, "a number strictly between 0 and 1")


def _open_unit_or_none(name):
    unit = _open_unit(name)

    def parse(text):
        return "none" if text.strip().lower() == "none" else unit(text)

    return parse


def _positive_int(name):
    return _checked(name, int, lambda v: v >= 1, "an integer of at least 1")


def _positive_float(name):
    return _checked(name, float, lambda v: v > 0, "a number above 0")


def _key_options(parser, sign):
    parser.add_argument(
        "--key-file",
        default=None,
        help=(
            "file holding the secret key to sign the model with"
            if sign
            else "file holding the key the model was signed with; a model whose "
            "signature does not match is refused"
        )
        + "; without it, the file named by $SKVOICE_KEY_FILE, if set",
    )
    if not sign:
        parser.add_argument(
            "--allow-unsigned",
            action="store_true",
            help="with a key, load an unsigned model anyway (with a warning)",
        )


def _model_making_options(parser, crossfit):
    """--target-far, the signing key, --skip-bad and --quiet of train and enroll."""
    parser.add_argument(
        "--target-far",
        type=_open_unit_or_none("--target-far"),
        default=None,
        help=f"false-acceptance rate to operate at (default {DEFAULT_TARGET_FAR:g} when the "
        f"data have two refused speakers or more; 'none': a calibrated probability of 0.5): "
        f"the threshold is chosen by speaker {crossfit} and saved in the model",
    )
    _key_options(parser, sign=True)
    parser.add_argument(
        "--skip-bad",
        action="store_true",
        help="skip (and list) files that cannot be decoded instead of stopping",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults shown after each option, unless its help already says its default."""

    def _get_help_string(self, action):
        if "(default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _exclude_option(parser):
    parser.add_argument(
        "--exclude",
        default=None,
        help="comma-separated speakers whose recordings are left out",
    )


def _pattern_option(parser):
    parser.add_argument(
        "--pattern",
        default=None,
        help="regular expression naming the speaker in each file's path, for files that "
        "are not in one folder per speaker: its group 'speaker' (or first group) is the "
        r"speaker, e.g. '^\d+_(?P<speaker>[a-z]+)_\d+\.wav$' for DIGIT_SPEAKER_INDEX.wav",
    )


def build_parser():
    """The argument parser of the ``skvoice`` command (for docs and tests)."""
    parser = argparse.ArgumentParser(
        prog="skvoice", description="Voice-based access control with scikit-learn."
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"skvoice {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    fmt = _HelpFormatter
    demo = sub.add_parser(
        "demo",
        formatter_class=fmt,
        help="run the study on the embedded real speech (24 speakers of speechocean762)",
    )
    demo.add_argument("--out", default="skvoice-report", help="report folder")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.add_argument(
        "--synthetic", action="store_true", help="synthetic voices (make_voices) instead"
    )
    demo.add_argument(
        "--n-speakers",
        type=_checked("--n-speakers", int, lambda v: v >= 4, "an integer of at least 4"),
        default=None,
        help="speakers to use (default: all 24 real ones, or 10 synthetic)",
    )
    demo.add_argument(
        "--n-recordings",
        type=_checked("--n-recordings", int, lambda v: v >= 3, "an integer of at least 3"),
        default=None,
        help="recordings per speaker (default: all 8 real ones, or 20 synthetic)",
    )
    demo.add_argument(
        "--epochs",
        type=_positive_int("--epochs"),
        default=None,
        help="CNN training epochs (default: 8 fine-tuning on real speech, 12 synthetic)",
    )
    demo.add_argument("--quick", action="store_true", help="3 folds instead of 4")
    demo.set_defaults(func=_demo)

    eda = sub.add_parser(
        "eda", formatter_class=fmt, help="corpus analysis of a DAPS tree or speaker folders"
    )
    eda.add_argument(
        "data_dir",
        help="a DAPS tree, one folder per speaker, or a .csv manifest (path,speaker[,label])",
    )
    eda.add_argument("--out", required=True, help="report folder to write")
    eda.add_argument("--allowed", default="", help="comma-separated allowed speakers")
    eda.add_argument("--versions", default="clean", help="DAPS versions, comma-separated")
    _pattern_option(eda)
    eda.add_argument(
        "--sr", type=_positive_int("--sr"), default=16000, help="working sample rate (Hz)"
    )
    eda.add_argument("--quiet", action="store_true", help="no progress bars")
    eda.set_defaults(func=_eda)

    train = sub.add_parser(
        "train", formatter_class=fmt, help="train a CNN access-control model on a folder"
    )
    train.add_argument(
        "data_dir",
        help="a DAPS tree, one folder per speaker, or a .csv manifest (path,speaker[,label])",
    )
    train.add_argument("--allowed", required=True, help="comma-separated allowed speakers")
    train.add_argument("--out", required=True, help="model file to write")
    train.add_argument("--versions", default="clean", help="DAPS versions, comma-separated")
    _pattern_option(train)
    _exclude_option(train)
    train.add_argument(
        "--epochs", type=_positive_int("--epochs"), default=30, help="training epochs"
    )
    train.add_argument(
        "--sr",
        type=_positive_int("--sr"),
        default=16000,
        help="working sample rate (Hz): every file is resampled to it with soxr",
    )
    train.add_argument("--seed", type=int, default=0, help="random seed of the whole fit")
    train.add_argument("--verbose", action="store_true", help="skorch's per-epoch table")
    train.add_argument("--device", default="cpu", help="cpu or cuda[:n]")
    train.add_argument("--amp", action="store_true", help="bfloat16 mixed precision")
    _model_making_options(train, "cross-fitting (5 extra fits)")
    train.add_argument(
        "--checkpoint-dir",
        default=None,
        help="save a checkpoint every epoch; rerun the same command to resume",
    )
    train.set_defaults(func=_train)

    enroll = sub.add_parser(
        "enroll",
        formatter_class=fmt,
        help="enroll allowed speakers with the pretrained encoder: no training",
        description="Enrol the allowed speakers of a folder with a pretrained speaker "
        "encoder that ships with skvoice: nothing is trained, the model file holds the "
        "enrolled voices (a few kB). The other speakers' recordings calibrate the scores. "
        "Files at any sample rate are resampled to the encoder's (16 kHz) with soxr.",
    )
    enroll.add_argument(
        "data_dir",
        help="a DAPS tree, one folder per speaker, or a .csv manifest (path,speaker[,label])",
    )
    enroll.add_argument("--allowed", required=True, help="comma-separated allowed speakers")
    enroll.add_argument("--out", required=True, help="model file to write")
    enroll.add_argument(
        "--encoder",
        default="auto",
        help="pretrained encoder: speechocean762-distilled or speechocean762 (both ship "
        'with skvoice), ge2e (pip install "skvoice[ge2e]"), or auto: ge2e when installed, '
        "else speechocean762-distilled (the order they measure in on both benchmarks)",
    )
    enroll.add_argument("--versions", default="clean", help="DAPS versions, comma-separated")
    _pattern_option(enroll)
    _exclude_option(enroll)
    _model_making_options(enroll, "cross-fitting of the enrolment")
    enroll.set_defaults(func=_enroll)

    verify = sub.add_parser(
        "verify",
        formatter_class=fmt,
        help="decide for each audio file",
        description="Decide for each audio file. Exit status: 0 when every file is "
        "accepted, 1 when any is refused, 2 on any error (a bad file is reported and "
        "the others are still decided).",
    )
    verify.add_argument("model", help="model file written by 'skvoice train' or 'skvoice enroll'")
    verify.add_argument(
        "files",
        nargs="+",
        help="audio files to decide on; '-' reads paths from standard input, one a line, "
        "and prints each decision as it is made (the model loaded once)",
    )
    verify.add_argument(
        "--threshold",
        type=_open_unit("--threshold"),
        default=None,
        help="accept when the probability of the allowed class exceeds this, in (0, 1); "
        "without it, the model's own threshold (chosen at its target FAR if it has one)",
    )
    verify.add_argument(
        "--passes", type=_positive_int("--passes"), default=30, help="MC dropout passes"
    )
    verify.add_argument("--json", action="store_true", help="strict JSON output")
    verify.add_argument("--quiet", action="store_true", help="no progress bars")
    _key_options(verify, sign=False)
    verify.set_defaults(func=_verify)

    serve = sub.add_parser(
        "serve",
        formatter_class=fmt,
        help="answer decisions over HTTP on this machine",
        description="Load a model once and decide on audio sent over HTTP: POST /verify "
        "with the bytes of an audio file answers the decision as 'verify --json' gives it; "
        'GET /health answers {"status": "ok"}. Bodies, audio durations and slow '
        "clients are bounded; nothing but audio can be sent; it listens on 127.0.0.1 "
        "unless --host says otherwise. Every refusal is a 4xx with its reason.",
    )
    serve.add_argument("model", help="model file written by 'skvoice train' or 'skvoice enroll'")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port (0: any free one)")
    serve.add_argument(
        "--max-bytes",
        type=_positive_int("--max-bytes"),
        default=10_000_000,
        help="largest request body, in bytes",
    )
    serve.add_argument(
        "--max-seconds",
        type=_positive_float("--max-seconds"),
        default=30.0,
        help="longest audio, in seconds",
    )
    serve.add_argument(
        "--timeout",
        type=_positive_float("--timeout"),
        default=10.0,
        help="seconds a client may take to send its request",
    )
    serve.add_argument(
        "--threshold",
        type=_open_unit("--threshold"),
        default=None,
        help="accept above this probability instead of the model's threshold",
    )
    serve.add_argument(
        "--passes",
        type=_positive_int("--passes"),
        default=30,
        help="MC dropout passes of a trained network's uncertainty",
    )
    serve.add_argument("--quiet", action="store_true", help="no line per request")
    _key_options(serve, sign=False)
    serve.set_defaults(func=_serve)

    evaluate = sub.add_parser(
        "evaluate",
        formatter_class=fmt,
        help="EER and FAR of a model on labelled data",
        description="Score labelled recordings with a saved model: the EER over all "
        "trials and against never-heard impostors and trained refused speakers apart "
        "(with 95 % intervals), the FAR at 5 % FRR and at the model's threshold, Cllr, "
        "the FRR, and each speaker's acceptance rate.",
    )
    evaluate.add_argument(
        "model", help="model file written by 'skvoice train' or 'skvoice enroll'"
    )
    evaluate.add_argument(
        "data_dir",
        help="labelled recordings (a DAPS tree, one folder per speaker, or a .csv manifest)",
    )
    evaluate.add_argument(
        "--allowed",
        default=None,
        help="comma-separated allowed speakers (default: the speakers the model enrolled; "
        "names the model does not accept are an error)",
    )
    evaluate.add_argument(
        "--skip-bad", action="store_true", help="skip (and list) files that cannot be decoded"
    )
    decide = evaluate.add_mutually_exclusive_group()
    decide.add_argument(
        "--threshold",
        type=_open_unit("--threshold"),
        default=None,
        help="decide at probability > THRESHOLD instead of the model's saved threshold",
    )
    decide.add_argument(
        "--target-far",
        type=_open_unit("--target-far"),
        default=None,
        help="decide at the threshold that accepts this share of the data's own refused "
        "recordings: the best a threshold could do here, not a promise",
    )
    evaluate.add_argument("--quiet", action="store_true", help="no progress bars")
    evaluate.add_argument("--versions", default="clean", help="DAPS versions, comma-separated")
    evaluate.add_argument(
        "--channel",
        default=None,
        help="comma-separated conditions to stress the model under: the same recordings "
        "degraded (the model as saved); any of "
        + ", ".join(sorted(_CONDITION_NAMES))
        + " (needs pip install 'skvoice[augment]')",
    )
    _pattern_option(evaluate)
    _exclude_option(evaluate)
    _key_options(evaluate, sign=False)
    evaluate.set_defaults(func=_evaluate)
    for command in sub.choices.values():
        command.add_argument(
            "--threads",
            type=_positive_int("--threads"),
            default=None,
            help="threads of torch and the BLAS (default: the cores less one, which "
            "keeps a machine shared with another job at full speed; see the CLI guide)",
        )
    return parser


def main(argv=None):
    """Run the command line; returns the exit code (2 on any error)."""
    import warnings

    from ._progress import show_progress

    parser = build_parser()
    args = parser.parse_args(argv)

    def one_line(message, category, filename, lineno, file=None, line=None):
        # A warning is about the user's data or settings, not about the source
        # line that raised it: one line, named by the command.
        print(f"skvoice {args.command}: warning: {_one_line(message)}", file=sys.stderr)

    try:
        # Bars on stderr for the long loops (features, network, MC passes).
        from ._threads import limit_threads

        with (
            show_progress(not getattr(args, "quiet", False)),
            warnings.catch_warnings(),
            limit_threads(args.threads),
        ):
            warnings.showwarning = one_line
            return args.func(args)
    except KeyboardInterrupt:
        print(f"skvoice {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # every error is one line, never a traceback
        print(f"skvoice {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
