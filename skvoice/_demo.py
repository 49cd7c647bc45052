"""``skvoice demo``: the whole study on the embedded synthetic voices."""

import time
from pathlib import Path

import numpy as np

__all__ = ["run_demo"]


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


def run_demo(out, seed=0, n_speakers=10, n_recordings=20, epochs=12, quick=False):
    """Run the study and write the report; return the path of ``index.html``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    from tqdm.auto import tqdm

    from . import __version__
    from ._report import table_html, write_csv, write_index
    from .datasets import make_voices
    from .eda import ClassSpectrogramDisplay, plot_corpus
    from .inspection import FrequencyImportanceDisplay, LayerDriftDisplay
    from .metrics import acceptance_by_speaker, equal_error_rate, far_at_frr
    from .model_selection import OpenSetGroupKFold
    from .neural_network import CNNClassifier
    from .preprocessing import F0Extractor, MFCCStatistics, SilenceTrimmer, SpectrogramExtractor
    from .uncertainty import DeepEnsembleClassifier, MCDropoutClassifier

    start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"skvoice {__version__}: demo on synthetic voices (seed {seed})")
    voices = make_voices(n_speakers=n_speakers, n_recordings=n_recordings, random_state=seed)
    X, y, spk, sr = voices.data, voices.target, voices.speaker, voices.sr
    sections = []

    # 1. The corpus and the trimming.
    trimmer = SilenceTrimmer(sr=sr).fit(X)
    durations = trimmer.durations(X)
    rows = []
    for name in np.unique(spk):
        mask = spk == name
        f0 = np.concatenate([voices.f0[i] for i in np.flatnonzero(mask)])
        rows.append(
            {
                "speaker": str(name),
                "allowed": bool(y[mask][0]),
                "recordings": int(mask.sum()),
                "duration_s": round(float(durations[mask, 0].mean()), 2),
                "trimmed_s": round(float(durations[mask, 1].mean()), 2),
                "median_f0_hz": round(float(np.nanmedian(f0)), 1),
            }
        )
    _print_table(rows)
    write_csv(out / "summary.csv", rows)
    fig = plot_corpus(X, spk, y, sr)
    examples = ClassSpectrogramDisplay.from_recordings(
        X, y, sr, random_state=seed, groups=spk
    ).figure_
    sections.append(
        (
            "Corpus",
            table_html(rows)
            + _savefig(fig, out / "corpus.png")
            + _savefig(examples, out / "spectrograms_per_class.png"),
        )
    )

    # 2. Open-set evaluation: CNN against an MFCC + F0 statistics SVM.
    speech = trimmer.transform(X)
    specs = SpectrogramExtractor(sr=sr).fit_transform(speech)
    stats = make_union(F0Extractor(sr=sr, output="stats"), MFCCStatistics(sr=sr))
    feats = stats.fit_transform(speech)
    cv = OpenSetGroupKFold(3 if quick else 4)
    folds = list(cv.split(specs, y, spk))
    cnn_name = "CNN (speakers, cosine scoring)"
    scores = {cnn_name: np.zeros(len(y)), "F0+MFCC SVM": np.zeros(len(y))}
    decided = {cnn_name: np.zeros(len(y), dtype=int), "F0+MFCC SVM": np.zeros(len(y), dtype=int)}
    first = None
    for k, (train, test) in enumerate(tqdm(folds, desc="Open-set folds")):
        # Dropout inside the trunk too, so that MC dropout (section 3) samples the
        # embedding the cosine decision is made on.
        net = CNNClassifier(
            max_epochs=epochs, module__block_dropout=0.1, track_layers=k == 0, random_state=seed
        )
        net.fit([specs[i] for i in train], y[train], groups=spk[train])
        Xte = [specs[i] for i in test]
        scores[cnn_name][test] = net.predict_proba(Xte)[:, 1]
        decided[cnn_name][test] = net.predict(Xte)
        svm = make_pipeline(StandardScaler(), SVC(class_weight="balanced")).fit(
            feats[train], y[train]
        )
        scores["F0+MFCC SVM"][test] = svm.decision_function(feats[test])
        decided["F0+MFCC SVM"][test] = svm.predict(feats[test])
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
    cnn_eer, svm_eer = (equal_error_rate(y, s) for s in scores.values())
    verdict = (
        f"On this run the CNN <strong>loses</strong> to the F0+MFCC baseline (EER {cnn_eer:.3f} "
        f"against {svm_eer:.3f})."
        if cnn_eer > svm_eer
        else f"On this run the CNN beats the F0+MFCC baseline (EER {cnn_eer:.3f} against "
        f"{svm_eer:.3f})."
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
    reading = (
        f"<p>{verdict} The CNN learns the training speakers and scores a recording by the "
        "cosine of its embedding to the allowed speakers' centroids (calibrated; decided "
        "at probability 0.5). Every impostor of a test fold was never heard in training, "
        "so each impostor's acceptance below is a false-acceptance rate, and each allowed "
        "speaker's is one minus a false-rejection rate (95 % bootstrap intervals over "
        "their recordings).</p>"
    )
    sections.append(
        (
            f"Open-set evaluation ({cv.n_splits} folds, every test impostor unseen)",
            table_html(eval_rows) + reading + table_html(per_speaker),
        )
    )

    # 3. MC dropout against a deep ensemble, on the first fold.
    net, train, test = first
    Xtr, Xte = [specs[i] for i in train], [specs[i] for i in test]
    mc = MCDropoutClassifier(net, n_passes=30, random_state=seed)
    mc.estimator_, mc.classes_ = net, net.classes_
    ens = DeepEnsembleClassifier(
        # The networks of the folds, scored by cosine like MC dropout's passes.
        CNNClassifier(max_epochs=epochs, module__block_dropout=0.1),
        n_estimators=3,
        random_state=seed,
        verbose=True,
    )
    ens.fit(Xtr, y[train], groups=spk[train])
    from sklearn.metrics import roc_auc_score

    unc_rows = []
    for name, model in [("MC dropout (30 passes)", mc), ("deep ensemble (3)", ens)]:
        proba, u = model.predict_proba(Xte, return_uncertainty=True)
        yt = y[test]
        unseen = yt == 0  # every test impostor of an open-set fold is unseen
        unc_rows.append(
            {
                "model": name,
                "EER": round(equal_error_rate(yt, proba[:, 1]), 3),
                "epistemic, allowed": round(float(u.epistemic[~unseen].mean()), 4),
                "epistemic, unseen impostors": round(float(u.epistemic[unseen].mean()), 4),
                "AUROC unseen by epistemic": round(roc_auc_score(unseen, u.epistemic), 3),
                "AUROC unseen by novelty": round(roc_auc_score(unseen, u.novelty), 3),
            }
        )
    print()
    _print_table(unc_rows)
    reading = (
        "<p>The spread of MC-dropout passes or ensemble members (epistemic) measures "
        "where the training data were ambiguous, not where they never were: it need "
        "not be higher for an impostor never heard. <em>novelty</em> (Mahalanobis "
        "distance of the embedding to the nearest training speaker, "
        "<code>CNNClassifier.novelty_score</code>) measures the latter. The AUROC "
        "columns say how well each separates unseen impostors from allowed speakers "
        "(0.5: not at all). The EER of this table is from this one fold only.</p>"
    )
    sections.append(
        (
            "Uncertainty: MC dropout against a deep ensemble (first fold)",
            table_html(unc_rows) + reading,
        )
    )

    # 4. Inside the network of the first fold.
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
    FrequencyImportanceDisplay.from_estimator(
        net, Xtr, groups=spk[train], method="occlusion", ax=axes[0]
    )
    axes[0].set_xscale("linear")
    axes[0].set(xlabel="mel band", title="Occlusion importance per speaker")
    LayerDriftDisplay.from_estimator(net, ax=axes[1])
    how_to_read = (
        "<p><em>Left</em>: for each training speaker, how much the network's posterior "
        "for that speaker drops when one mel band is masked (occlusion); a peak is a "
        "band the network relies on to recognise the speaker. It explains the speaker "
        "posteriors of the head, which the cosine decision does not use directly.</p>"
        "<p><em>Right</em>: how far each layer's weights moved from their initial values "
        "during training (relative norm of the change), one line per layer; layers that "
        "barely move learn little and could be frozen or removed.</p>"
    )
    sections.append(("Inside the CNN", _savefig(fig, out / "inspection.png") + how_to_read))

    elapsed = time.perf_counter() - start
    intro = (
        f"{len(X)} synthetic recordings of {n_speakers} speakers; allowed: "
        f"{', '.join(voices.allowed)}. Ran in {elapsed:.0f} s."
    )
    index = write_index(out, "skvoice demo: synthetic voices", intro, sections)
    return index
