"""``skvoice demo``: the whole study on the embedded real speech (or synthetic voices)."""

import html
import time
from pathlib import Path

import numpy as np

__all__ = ["run_demo"]


def _progress(section, title, start):
    """Say which of the demo's five sections runs, and since when: it takes minutes."""
    print(f"[{section}/5] {title} ({time.perf_counter() - start:.0f} s)", flush=True)


def _print_table(rows):
    header = list(rows[0])
    widths = [max(len(h), *(len(str(r[h])) for r in rows)) for h in header]
    line = "  ".join(h.rjust(w) for h, w in zip(header, widths))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(r[h]).rjust(w) for h, w in zip(header, widths)))


def _savefig(fig, path):
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=90)
    plt.close(fig)
    return f'<img src="{path.name}" alt="{path.stem}">'


def _acceptance_figure(rows):
    """Each speaker's share accepted, with its interval, one panel per model."""
    import matplotlib.pyplot as plt

    models = list(dict.fromkeys(r["model"] for r in rows))
    fig, axes = plt.subplots(
        len(models), 1, figsize=(10, 2.2 * len(models)), sharex=True, layout="constrained"
    )
    for ax, model in zip(np.atleast_1d(axes), models, strict=True):
        mine = sorted((r for r in rows if r["model"] == model), key=lambda r: r["status"])
        low, high = zip(*(map(float, r["95% CI"].split("-")) for r in mine))
        acc = np.array([r["accepted"] for r in mine])
        x = np.arange(len(mine))
        allowed = np.array([r["status"] == "allowed" for r in mine])
        for keep, colour, label in [(allowed, "C2", "allowed"), (~allowed, "C3", "never heard")]:
            ax.errorbar(
                x[keep],
                acc[keep],
                yerr=[acc[keep] - np.array(low)[keep], np.array(high)[keep] - acc[keep]],
                fmt="o",
                color=colour,
                label=label,
                capsize=2,
            )
        ax.set(ylim=(-0.05, 1.05), ylabel="accepted", title=model)
        ax.set_xticks(x, [r["speaker"] for r in mine], rotation=90, fontsize=7)
    np.atleast_1d(axes)[0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


class _Claims:
    """Every number the report's prose states: computed in the run, kept for summary.csv.

    ``claims(key, value, fmt)`` returns the formatted value inside a
    ``<span class="claim" data-key=...>``, so that a reader (and the tests) can
    match each number of the text with its row of ``summary.csv``.
    """

    def __init__(self):
        self.rows = {}

    def __call__(self, key, value, fmt="{:.3f}"):
        text = fmt.format(value)
        self.rows[key] = text
        return f'<span class="claim" data-key="{html.escape(key)}">{text}</span>'

    def csv_rows(self):
        return [{"claim": k, "value": v} for k, v in self.rows.items()]


def _corpus(synthetic, seed, n_speakers, n_recordings):
    """The recordings: the embedded real speech (a subset when sizes are given) or synthetic."""
    from .datasets import load_demo_voices, make_voices

    if synthetic:
        v = make_voices(
            n_speakers=n_speakers or 10, n_recordings=n_recordings or 20, random_state=seed
        )
        return v.data, v.target, v.speaker, v.sr, "synthetic voices", list(v.allowed)
    d = load_demo_voices()
    spk = np.asarray(d.speaker)
    allowed = sorted(set(spk[d.target == 1]))
    refused = sorted(set(spk[d.target == 0]))
    if n_speakers:
        # Keep the share of allowed speakers (a quarter), and at least 3 refused
        # speakers so that every open-set fold has impostors never heard.
        k = max(1, n_speakers // 4)
        allowed, refused = allowed[:k], refused[: max(3, n_speakers - k)]
    keep = np.isin(spk, allowed + refused)
    if n_recordings:
        first = np.zeros(len(spk), bool)
        for s in allowed + refused:
            first[np.flatnonzero(spk == s)[:n_recordings]] = True
        keep &= first
    idx = np.flatnonzero(keep)
    X = [d.data[i] for i in idx]
    what = "real speech (speechocean762, CC BY 4.0)"
    return X, d.target[idx], spk[idx], d.sr, what, allowed


def _speaker_bootstrap(y, spk, scores_a, scores_b, seed, n_boot=300):
    """95 % interval of EER(a) - EER(b), resampling speakers with their recordings."""
    from .metrics import equal_error_rate

    rng = np.random.default_rng(seed)
    names = np.unique(spk)
    rows = {s: np.flatnonzero(spk == s) for s in names}
    diffs = []
    for _ in range(n_boot):
        idx = np.concatenate([rows[s] for s in rng.choice(names, len(names))])
        if len(set(y[idx])) < 2:
            continue
        diffs.append(
            equal_error_rate(y[idx], scores_a[idx]) - equal_error_rate(y[idx], scores_b[idx])
        )
    return np.percentile(diffs, [2.5, 97.5])


def run_demo(
    out,
    seed=0,
    n_speakers=None,
    n_recordings=None,
    epochs=None,
    quick=False,
    synthetic=False,
):
    """Run the study and write the report; return the path of ``index.html``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    from tqdm.auto import tqdm

    from . import __version__
    from ._report import table_html, write_csv, write_index
    from .eda import ClassSpectrogramDisplay, f0_table, plot_corpus
    from .inspection import FrequencyImportanceDisplay, GradCAMDisplay, LayerDriftDisplay
    from .metrics import acceptance_by_speaker, equal_error_rate, far_at_frr
    from .model_selection import OpenSetGroupKFold
    from .neural_network import CNNClassifier
    from .neural_network._pretrained import best_encoder
    from .preprocessing import F0Extractor, MFCCStatistics, SilenceTrimmer, SpectrogramExtractor
    from .uncertainty import DeepEnsembleClassifier, MCDropoutClassifier
    from .verification import make_enrollment_pipeline

    start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    X, y, spk, sr, what, allowed = _corpus(synthetic, seed, n_speakers, n_recordings)
    print(f"skvoice {__version__}: demo on {what} (seed {seed})")
    claim = _Claims()
    sections = []

    # 1. The corpus and the trimming.
    _progress(1, "the corpus and its silences", start)
    trimmer = SilenceTrimmer(sr=sr).fit(X)
    durations = trimmer.durations(X)
    f0 = f0_table(X, spk, sr)
    f0_speaker, f0_hz = np.asarray(f0["speaker"]), np.asarray(f0["f0"])
    rows = []
    for name in np.unique(spk):
        mask = spk == name
        f0_s = f0_hz[f0_speaker == name]
        rows.append(
            {
                "speaker": str(name),
                "allowed": bool(y[mask][0]),
                "recordings": int(mask.sum()),
                "duration_s": round(float(durations[mask, 0].mean()), 2),
                "trimmed_s": round(float(durations[mask, 1].mean()), 2),
                "median_f0_hz": round(float(np.nanmedian(f0_s)), 1) if len(f0_s) else "",
            }
        )
    _print_table(rows)
    write_csv(out / "speakers.csv", rows)
    kept = durations[:, 1].sum() / durations[:, 0].sum()
    fig = plot_corpus(X, spk, y, sr)
    examples = ClassSpectrogramDisplay.from_recordings(
        X, y, sr, random_state=seed, groups=spk
    ).figure_
    reading = (
        f"<p>{claim('recordings', len(X), '{:d}')} recordings of "
        f"{claim('speakers', len(np.unique(spk)), '{:d}')} speakers, "
        f"{claim('allowed speakers', len(allowed), '{:d}')} of them allowed. Trimming the "
        f"silence at the edges keeps {claim('share kept by trimming', 100 * kept, '{:.0f}')} "
        "% of the audio. The median F0 of each speaker (pYIN, voiced frames) tells women's "
        "voices from men's; it is one cue among many the networks below may use.</p>"
    )
    sections.append(
        (
            "Corpus",
            reading
            + table_html(rows)
            + _savefig(fig, out / "corpus.png")
            + _savefig(examples, out / "spectrograms_per_class.png"),
        )
    )

    # 2. Open-set evaluation: the CNN, an MFCC + F0 SVM and an enrolment, same folds.
    _progress(2, "open-set evaluation: CNN, MFCC + F0 SVM, enrolment (the long part)", start)
    speech = trimmer.transform(X)
    specs = SpectrogramExtractor(sr=sr).fit_transform(speech)
    stats = make_union(F0Extractor(sr=sr, output="stats"), MFCCStatistics(sr=sr))
    feats = stats.fit_transform(speech)
    encoder = best_encoder()
    # On real speech the CNN starts from the speechocean762 encoder (trained on other
    # speakers of the same corpus's test/ list) and is fine-tuned on the fold's
    # speakers: with 6 recordings a speaker, training from scratch learns little.
    # Synthetic voices are unlike the encoder's speech: there it starts afresh.
    network = dict(max_epochs=epochs or (12 if synthetic else 8), module__block_dropout=0.1)
    if not synthetic:
        network.update(pretrained="speechocean762", freeze_epochs=3)
    cv = OpenSetGroupKFold(3 if quick else 4)
    folds = list(cv.split(specs, y, spk))
    cnn, svm_name, enrol = (
        "CNN (speakers, cosine scoring)" if synthetic else "CNN (fine-tuned, speakers)",
        "F0+MFCC SVM",
        f"enrolment, {encoder} encoder",
    )
    names = (cnn, svm_name, enrol)
    scores = {n: np.zeros(len(y)) for n in names}
    decided = {n: np.zeros(len(y), dtype=int) for n in names}
    at_far = np.zeros(len(y), dtype=int)
    first = None
    for k, (train, test) in enumerate(tqdm(folds, desc="Open-set folds", disable=None)):
        # Dropout inside the trunk too, so that MC dropout (section 4) samples the
        # embedding the cosine decision is made on.
        net = CNNClassifier(**network, track_layers=k == 0, random_state=seed)
        net.fit([specs[i] for i in train], y[train], groups=spk[train])
        Xte = [specs[i] for i in test]
        scores[cnn][test] = net.predict_proba(Xte)[:, 1]
        decided[cnn][test] = net.predict(Xte)
        svm = make_pipeline(StandardScaler(), SVC(class_weight="balanced")).fit(
            feats[train], y[train]
        )
        scores[svm_name][test] = svm.decision_function(feats[test])
        decided[svm_name][test] = svm.predict(feats[test])
        # Nothing trained: the encoder embeds, the fold's allowed speakers are enrolled.
        pipe = make_enrollment_pipeline(encoder, sr=sr, target_far=0.05)
        pipe.fit([X[i] for i in train], y[train], enrollmentverifier__groups=spk[train])
        W = pipe[:-1].transform([X[i] for i in test])
        scores[enrol][test] = pipe[-1].predict_proba(W)[:, 1]
        # Decided as the other two are (at probability 0.5); the 5 % FAR threshold
        # is section 3's.
        decided[enrol][test] = scores[enrol][test] > 0.5
        at_far[test] = pipe[-1].predict(W)
        if first is None:
            first = (net, train, test)
    eval_rows = [
        {
            "model": name,
            "EER": round(equal_error_rate(y, s), 3),
            "FAR at 5% FRR": round(far_at_frr(y, s), 3),
            "balanced accuracy": round(balanced_accuracy_score(y, decided[name]), 3),
        }
        for name, s in scores.items()
    ]
    print()
    _print_table(eval_rows)
    eer = {n: equal_error_rate(y, scores[n]) for n in names}

    def compare(a, b):
        lo, hi = _speaker_bootstrap(y, spk, scores[a], scores[b], seed)
        key = f"EER {a} - {b}"
        verdict = "lower" if hi < 0 else "higher" if lo > 0 else "not different at this size"
        return (
            f"the {html.escape(a)} has an EER of {claim(f'EER {a}', eer[a])} against "
            f"{claim(f'EER {b}', eer[b])} for the {html.escape(b)}: "
            f"{claim(key, eer[a] - eer[b], '{:+.3f}')} (95 % interval over speakers "
            f"{claim(key + ' low', lo, '{:+.3f}')} to {claim(key + ' high', hi, '{:+.3f}')}), "
            f"<strong>{verdict}</strong>"
        )

    per_speaker = []
    for name in decided:
        t = acceptance_by_speaker(y, decided[name], spk, random_state=seed)
        for k in range(len(t["speaker"])):
            per_speaker.append(
                {
                    "model": name,
                    "speaker": str(t["speaker"][k]),
                    "status": "allowed" if t["allowed"][k] else "never heard",
                    "accepted": round(float(t["accepted"][k]), 2),
                    "95% CI": f"{t['ci_low'][k]:.2f}-{t['ci_high'][k]:.2f}",
                }
            )
    ranked = sorted(names, key=lambda n: eer[n])
    headline = f"<p><strong>What won</strong>: {compare(ranked[0], ranked[1])}.</p>"
    n_train = int(np.mean([len(train) for train, _ in folds]))
    reading = (
        f"<p>On this run, {compare(cnn, svm_name)}; {compare(enrol, svm_name)}. The CNN "
        + ("" if synthetic else "starts from the speechocean762 encoder, ")
        + "learns the training speakers and scores a recording by the cosine of its "
        "embedding to the allowed speakers' centroids (calibrated; decided at "
        "probability 0.5). Each fold trains it on about "
        f"{claim('CNN training recordings per fold', n_train, '{:d}')} recordings of "
        f"{claim('training speakers per fold', len(np.unique(spk[folds[0][0]])), '{:d}')} "
        "speakers: the README's figures for the CNN come from twenty speakers of ten "
        "recordings each (protocol v2, <code>benchmarks/results/real_v2.md</code>), and "
        "a network learns speakers from many recordings where an enrolment needs few. "
        "The enrolment trains nothing: a pretrained encoder embeds "
        "every recording and the fold's allowed speakers are enrolled. Every impostor of "
        "a test fold was never heard in training, so each impostor's acceptance in the "
        "figure is a false-acceptance rate, and each allowed speaker's is one minus a "
        "false-rejection rate (95 % bootstrap intervals over their recordings; the "
        "numbers are in acceptance.csv). The interval of a difference resamples "
        "speakers: with this few, it is wide.</p>"
    )
    write_csv(out / "acceptance.csv", per_speaker)
    sections.append(
        (
            f"Open-set evaluation ({cv.n_splits} folds, every test impostor unseen)",
            table_html(eval_rows)
            + reading
            + _savefig(_acceptance_figure(per_speaker), out / "acceptance.png"),
        )
    )

    # 3. The operating point: the enrolment's threshold at a 5 % FAR, by cross-fitting.
    _progress(3, "the operating point", start)
    refused = y == 0
    far = at_far[refused].mean()
    frr = 1.0 - at_far[~refused].mean()
    reading = (
        f"<p>Access control promises a false-acceptance rate. Each fold's enrolment "
        "chose its threshold for a target of 5 % on its own refused speakers, held out "
        "in turn (cross-fitting), and on the encoder's cohort of non-users when it has "
        f"one. On the impostors of the test folds, never heard, the realised FAR is "
        f"{claim('FAR at the 5 % target', 100 * far, '{:.1f}')} % and the allowed "
        f"speakers' FRR {claim('FRR at the 5 % target', 100 * frr, '{:.1f}')} %, from "
        f"{claim('impostor test recordings', int(refused.sum()), '{:d}')} impostor "
        "recordings: a promise measured on few voices has a wide margin.</p>"
    )
    sections.append(("The operating point: a 5 % false-acceptance target", reading))

    # 4. MC dropout against a deep ensemble, on the first fold; novelty.
    _progress(4, "MC dropout against a deep ensemble", start)
    net, train, test = first
    Xtr, Xte = [specs[i] for i in train], [specs[i] for i in test]
    mc = MCDropoutClassifier.from_fitted(net, n_passes=30, random_state=seed)
    ens = DeepEnsembleClassifier(
        CNNClassifier(**network),
        n_estimators=3,
        random_state=seed,
        verbose=True,
    )
    ens.fit(Xtr, y[train], groups=spk[train])
    unc_rows = []
    yt = y[test]
    unseen = yt == 0  # every test impostor of an open-set fold is unseen
    auroc = {}
    for name, model in [("MC dropout (30 passes)", mc), ("deep ensemble (3)", ens)]:
        proba, u = model.predict_proba(Xte, return_uncertainty=True)
        auroc[name] = (roc_auc_score(unseen, u.epistemic), roc_auc_score(unseen, u.novelty))
        unc_rows.append(
            {
                "model": name,
                "EER": round(equal_error_rate(yt, proba[:, 1]), 3),
                "epistemic, allowed": round(float(u.epistemic[~unseen].mean()), 4),
                "epistemic, unseen impostors": round(float(u.epistemic[unseen].mean()), 4),
                "AUROC unseen by epistemic": round(auroc[name][0], 3),
                "AUROC unseen by novelty": round(auroc[name][1], 3),
            }
        )
    print()
    _print_table(unc_rows)
    mc_name = "MC dropout (30 passes)"
    reading = (
        "<p>The spread of MC-dropout passes or ensemble members (epistemic) measures "
        "where the training data were ambiguous, not where they never were: it need "
        "not be higher for an impostor never heard. <em>novelty</em> (Mahalanobis "
        "distance of the embedding to the nearest training speaker, "
        "<code>CNNClassifier.novelty_score</code>) measures the latter. On this fold, "
        "unseen impostors are told from allowed speakers with an AUROC of "
        f"{claim('AUROC MC dropout epistemic', auroc[mc_name][0])} by MC dropout's "
        f"epistemic spread and {claim('AUROC novelty', auroc[mc_name][1])} by novelty "
        "(0.5: not at all)."
        + (
            " An AUROC below 0.5 is no bug: the spread is then lower on the impostors "
            "than on the allowed speakers (the network is sure of itself on voices it "
            "never heard), which is why the spread cannot flag them."
            if min(min(v) for v in auroc.values()) < 0.5
            else ""
        )
        + " The EER of this table is from this one fold only.</p>"
    )
    sections.append(
        (
            "Uncertainty: MC dropout against a deep ensemble (first fold)",
            table_html(unc_rows) + reading,
        )
    )

    # 5. Inside the network of the first fold.
    _progress(5, "inside the network", start)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4), layout="constrained")
    pos = [i for i in range(len(Xte)) if yt[i] == 1][0]
    GradCAMDisplay.from_estimator(net, Xte, index=pos, ax=axes[0])
    axes[0].set(title="Grad-CAM of an allowed test recording")
    FrequencyImportanceDisplay.from_estimator(
        net, Xtr, groups=spk[train], method="occlusion", ax=axes[1]
    )
    axes[1].set_xscale("linear")
    axes[1].set(xlabel="mel band", title="Occlusion importance per speaker")
    LayerDriftDisplay.from_estimator(net, ax=axes[2])
    how_to_read = (
        "<p><em>Left</em>: where in time and frequency the network's evidence for "
        "'allowed' lies on one recording of an allowed speaker it never heard this "
        "recording of (Grad-CAM on the last conv block). <em>Middle</em>: for each "
        "training speaker, how much the network's posterior for that speaker drops when "
        "one mel band is masked (occlusion); a peak is a band the network relies on. It "
        "explains the speaker posteriors of the head, which the cosine decision does not "
        "use directly. <em>Right</em>: how far each layer's weights moved from their "
        "initial values during training (relative norm of the change), one line per "
        "layer; layers that barely move learn little.</p>"
    )
    sections.append(("Inside the CNN", _savefig(fig, out / "inspection.png") + how_to_read))

    elapsed = time.perf_counter() - start
    intro = headline + (
        f"{claim('recordings', len(X), '{:d}')} recordings of "
        f"{claim('speakers', len(np.unique(spk)), '{:d}')} speakers, {what}; allowed: "
        f"{', '.join(allowed)}. Ran in {claim('seconds', elapsed, '{:.0f}')} s. Every "
        "number in the text is computed in this run and listed in summary.csv."
    )
    write_csv(out / "summary.csv", claim.csv_rows())
    title = "skvoice demo: " + ("synthetic voices" if synthetic else "real speech")
    return write_index(out, title, intro, sections)
