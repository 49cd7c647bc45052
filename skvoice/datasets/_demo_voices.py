"""The real speech that ships with skvoice for its demo: 24 speakers of speechocean762."""

from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params

from ._speechocean import load_speechocean762

__all__ = ["DEMO_ALLOWED_SPEAKERS", "load_demo_voices"]

_ROOT = Path(__file__).resolve().parent / "data" / "demo_voices"

#: The demo's allowed users: 3 women and 3 men (the first of each in id order).
DEMO_ALLOWED_SPEAKERS = ("0036", "0135", "0813", "0560", "0960", "1012")


@validate_params(
    {"allowed": ["array-like", None], "sr": [Interval(Integral, 1, None, closed="left")]},
    prefer_skip_nested_validation=True,
)
def load_demo_voices(*, allowed=None, sr=16000):
    """Real speech for the demo and the examples: 192 utterances of 24 speakers.

    Adult speakers of speechocean762's ``train/`` list (12 women, 12 men; non-native
    English read speech, mostly Mandarin first-language speakers), 8 utterances of
    2-3.5 s each, as 16-bit FLAC inside the package (10 MB). They are speakers that
    neither the shipped encoders nor any shipped cohort was built from (those come
    from ``test/``), so the demo is fair to both. Made by
    ``tools/make_speechocean762_subset.py --demo``.

    speechocean762 (Junbo Zhang et al., Interspeech 2021,
    https://github.com/jimbozhang/speechocean762) is licensed CC BY 4.0; so are
    these utterances, with this attribution.

    Parameters
    ----------
    allowed : sequence of str, default=None
        Speakers whose target is 1; default :data:`DEMO_ALLOWED_SPEAKERS` (3 women
        and 3 men).
    sr : int, default=16000
        Sample rate of the returned waveforms (resampled with soxr if needed).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        As :func:`load_speechocean762`: ``data`` (waveforms), ``target``,
        ``speaker``, ``gender``, ``age``, ``text``, ``utterance``, ``filename``,
        ``sr``, ``allowed`` and ``DESCR``.

    Examples
    --------
    >>> from skvoice.datasets import load_demo_voices
    >>> demo = load_demo_voices()
    >>> len(demo.data), len(set(demo.speaker)), int(demo.target.sum())
    (192, 24, 48)
    """
    allowed = DEMO_ALLOWED_SPEAKERS if allowed is None else allowed
    unknown = sorted(set(np.asarray(allowed).astype(str)) - set(_speakers()))
    if unknown:
        raise ValueError(f"Unknown demo speaker(s) {unknown}: the demo has {_speakers()}.")
    data = load_speechocean762(_ROOT, subset="train", allowed=list(allowed), sr=sr)
    data.DESCR = load_demo_voices.__doc__.split("\n\n")[1]
    return data


def _speakers():
    lines = (_ROOT / "train" / "spk2gender").read_text().split("\n")
    return sorted(line.split()[0] for line in lines if line.strip())
