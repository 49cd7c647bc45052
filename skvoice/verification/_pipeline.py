"""The quickest access-control model: a pretrained encoder and enrolment, no training."""

import os
from numbers import Integral

from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .._measured import warn_outside_measured
from ..decisions import EnrollmentVerifier
from ..neural_network import SpeakerEmbedder, default_cohort, encoder_card
from ..preprocessing import LevelNormalizer, Resampler, SilenceTrimmer, SpectrogramExtractor

__all__ = ["make_enrollment_pipeline"]


@validate_params(
    {
        "pretrained": [str, os.PathLike],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "device": [str, None],
        "cohort": [StrOptions({"shipped"}), tuple, None],
    },
    prefer_skip_nested_validation=True,
)
def make_enrollment_pipeline(
    pretrained="speechocean762-distilled", sr=16000, device=None, cohort=None, **verifier_params
):
    """Waveforms to an access decision with a pretrained encoder: nothing to train.

    The pipeline resamples the input to the encoder's rate when ``sr`` differs
    (soxr), trims silence, computes the encoder's spectrogram front-end, embeds
    each recording with :class:`~skvoice.neural_network.SpeakerEmbedder` and
    scores it against the enrolled users with :class:`EnrollmentVerifier`.
    ``fit`` only enrols: the allowed speakers' recordings make their centroids,
    the refused speakers' recordings calibrate the scores (and, with
    ``target_far``, set the threshold). Pass the speaker of each recording as
    ``enrollmentverifier__groups``.

    Parameters
    ----------
    pretrained : str or path-like, default="speechocean762-distilled"
        A name from :func:`skvoice.neural_network.available_encoders`, or a
        ``.pt`` file written by ``tools/pretrain_encoder.py``. The default is
        the better of the two encoders inside skvoice (it learnt the
        speechocean762 speakers and GE2E's embeddings); ``"ge2e"``, with
        ``pip install "skvoice[ge2e]"``, measures better still, and
        ``"speechocean762"`` is the first shipped encoder (see the pretrained
        encoder guide).
    sr : int, default=16000
        Sample rate of the recordings the pipeline will be given (8000 for
        telephone audio, 44100, 48000, ...).
    device : str or None, default=None
        Where the encoder runs (``"cuda"`` on a GPU machine); None: the CPU.
        See :class:`~skvoice.neural_network.SpeakerEmbedder`.
    cohort : "shipped", tuple (embeddings, speakers) or None, default=None
        The verifier's impostor cohort (see :class:`EnrollmentVerifier`): with
        ``target_far`` or ``cv``, it joins the refused speakers in the
        calibration and the threshold. ``"shipped"``: the cohort that ships for
        the encoder (:func:`~skvoice.neural_network.default_cohort`: read speech
        of speechocean762's ``test/`` speakers, for ``"ge2e"``). Use it only on
        audio like it: on isolated words from other microphones it pulled the
        threshold down and the realised FAR at a 5 % target rose from 6.6 to
        17.0 % (see the decisions guide). None: no cohort.
    **verifier_params
        Parameters of the :class:`EnrollmentVerifier` (``pos_label``,
        ``target_far``, ``cv``, ``score_norm``, ...).

    Returns
    -------
    pipeline : Pipeline
        Steps ``resampler`` (only when ``sr`` differs from the encoder's rate),
        ``silencetrimmer``, ``spectrogramextractor`` (``levelnormalizer`` at
        -30 dBFS for ``"ge2e"``, which computes its own front-end),
        ``speakerembedder``, ``enrollmentverifier``; it can be saved with
        :func:`skvoice.save_model`.

    Examples
    --------
    >>> from skvoice.datasets import make_voices
    >>> from skvoice.verification import make_enrollment_pipeline
    >>> v = make_voices(n_speakers=4, n_recordings=3, duration=1.0, random_state=0)
    >>> pipe = make_enrollment_pipeline(sr=v.sr)
    >>> pipe = pipe.fit(v.data, v.target, enrollmentverifier__groups=v.speaker)
    >>> pipe.predict_proba(v.data[:2]).shape
    (2, 2)
    """
    if isinstance(cohort, str):
        cohort = default_cohort(pretrained)
        if cohort is None:
            raise ValueError(f"No cohort ships for the encoder {pretrained!r}; pass your own.")
    card = encoder_card(pretrained)
    front = card["frontend"]
    rate = int(front["sr"])
    # Narrow-band input: said here as the command line says it (one place).
    warn_outside_measured([], [], lowest_rate=sr, encoder=str(pretrained))
    steps = []
    if sr != rate:
        steps.append(("resampler", Resampler(sr=sr, target_sr=rate)))
    steps.append(("silencetrimmer", SilenceTrimmer(sr=rate)))
    if card.get("input") == "waveform":
        # The encoder computes its own front-end; its power spectrogram keeps the
        # level, so every recording is brought to the level it was trained at.
        steps.append(
            ("levelnormalizer", LevelNormalizer(sr=rate, target_dbfs=front["level_dbfs"]))
        )
    else:
        steps.append(("spectrogramextractor", SpectrogramExtractor(**front)))
    steps += [
        ("speakerembedder", SpeakerEmbedder(pretrained=pretrained, device=device)),
        ("enrollmentverifier", EnrollmentVerifier(cohort=cohort, **verifier_params)),
    ]
    return Pipeline(steps)
