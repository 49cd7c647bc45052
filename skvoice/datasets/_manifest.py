"""A file list: which recordings, whose, and (optionally) allowed or not."""

import csv
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._base import drop_duplicate_recordings, read_many, target_from

__all__ = ["load_manifest"]

_TRUE = {"1", "true", "yes", "allowed"}
_FALSE = {"0", "false", "no", "refused"}


def load_manifest(path, allowed=None, sr=16000, n_jobs=None, return_paths=False):
    """Load the recordings a CSV file lists, with their speakers and labels.

    The way to choose files without building folders: enrolment files apart
    from test files, a speaker left out, recordings from several places. Files
    whose content repeats an earlier one's are left out (see
    :func:`load_speaker_folder`).

    Parameters
    ----------
    path : str or path-like
        A CSV file with a header row naming the columns ``path`` (an audio
        file; relative to the manifest's folder unless absolute), ``speaker``
        and, optionally, ``label`` (``1``/``0``, ``true``/``false``,
        ``allowed``/``refused``). A ``.tsv`` file is read tab-separated.
    allowed : list of str or None, default=None
        The allowed speakers. Needed without a ``label`` column; with one, it
        must name the same speakers.
    sr : int, default=16000
        Sample rate of the returned waveforms.
    n_jobs : int, default=None
        Parallel readers.
    return_paths : bool, default=False
        Return the file paths in ``data`` instead of decoding them.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data``, ``target`` (1 allowed), ``speaker``, ``filename``, ``sr``,
        ``allowed`` and ``duplicates`` (as :func:`load_speaker_folder`).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, soundfile as sf
    >>> from skvoice.datasets import load_manifest
    >>> root = tempfile.mkdtemp()
    >>> for i, name in enumerate(["a1.wav", "a2.wav", "b1.wav"]):
    ...     sf.write(os.path.join(root, name), np.full(1600, 0.01 * (i + 1)), 16000)
    >>> with open(os.path.join(root, "files.csv"), "w") as fh:
    ...     _ = fh.write("path,speaker,label\\na1.wav,ann,1\\na2.wav,ann,1\\nb1.wav,bob,0\\n")
    >>> ds = load_manifest(os.path.join(root, "files.csv"))
    >>> ds.speaker.tolist(), ds.target.tolist()
    (['ann', 'ann', 'bob'], [1, 1, 0])
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Manifest not found: {str(path)!r}")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        columns = [c.strip().lower() for c in (reader.fieldnames or [])]
        missing = {"path", "speaker"} - set(columns)
        if missing:
            raise ValueError(
                f"{str(path)!r} needs a header row with the columns path and speaker "
                f"(and optionally label); missing: {sorted(missing)}."
            )
        rows = [{k.strip().lower(): (v or "").strip() for k, v in r.items() if k} for r in reader]
    if not rows:
        raise ValueError(f"{str(path)!r} lists no recordings.")
    files, speakers, labels = [], [], []
    for line, row in enumerate(rows, start=2):
        if not row["path"] or not row["speaker"]:
            raise ValueError(f"{str(path)!r}, line {line}: a path and a speaker are needed.")
        f = Path(row["path"])
        files.append(f if f.is_absolute() else path.parent / f)
        speakers.append(row["speaker"])
        if "label" in columns:
            label = row.get("label", "").lower()
            if label not in _TRUE | _FALSE:
                raise ValueError(
                    f"{str(path)!r}, line {line}: label {row.get('label')!r} is not one of "
                    "1/0, true/false, allowed/refused."
                )
            labels.append(label in _TRUE)
    absent = [str(f) for f in files if not f.is_file()]
    if absent:
        raise FileNotFoundError(
            f"{len(absent)} file(s) of {str(path)!r} do not exist, e.g. {absent[0]!r}."
        )
    speakers = np.array(speakers)
    if labels:
        labels = np.array(labels)
        mixed = sorted(set(speakers[labels]) & set(speakers[~labels]))
        if mixed:
            raise ValueError(f"Speaker(s) {mixed} are labelled both allowed and refused.")
        from_labels = sorted(set(speakers[labels]))
        if allowed is not None and sorted(str(a) for a in np.atleast_1d(allowed)) != from_labels:
            raise ValueError(
                f"allowed={sorted(np.atleast_1d(allowed).tolist())} disagrees with the "
                f"manifest's labels, which allow {from_labels}."
            )
        allowed = from_labels
    elif allowed is None:
        raise ValueError(
            f"{str(path)!r} has no label column: name the allowed speakers (allowed=)."
        )
    allowed = [str(a) for a in np.atleast_1d(allowed)]
    unknown = sorted(set(allowed) - set(speakers))
    if unknown:
        raise ValueError(f"Allowed speaker(s) {unknown} have no recordings in {str(path)!r}.")
    return drop_duplicate_recordings(
        Bunch(
            data=[str(f) for f in files] if return_paths else read_many(files, sr, n_jobs=n_jobs),
            target=target_from(speakers, allowed),
            speaker=speakers,
            filename=np.array([str(f) for f in files]),
            sr=sr,
            allowed=allowed,
        )
    )
