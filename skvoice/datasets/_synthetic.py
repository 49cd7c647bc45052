"""Synthetic speakers from a source-filter model (the embedded default data set)."""

import numpy as np
from scipy import signal
from sklearn.utils import Bunch, check_random_state

__all__ = ["make_voices"]

# Formants (Hz) of six vowels for an adult male vocal tract (Peterson & Barney 1952).
_VOWELS = np.array(
    [
        [270.0, 2290.0, 3010.0],  # i
        [530.0, 1840.0, 2480.0],  # e
        [660.0, 1720.0, 2410.0],  # ae
        [730.0, 1090.0, 2440.0],  # a
        [570.0, 840.0, 2410.0],  # o
        [300.0, 870.0, 2240.0],  # u
    ]
)
_BANDWIDTHS = np.array([70.0, 100.0, 140.0, 200.0, 250.0])
_HIGH_FORMANTS = np.array([3500.0, 4500.0])  # F4, F5 (male), scaled per speaker
_RAMP_S = 0.012  # onset/offset ramp of a segment: no clicks, sharp voicing edges
_PULSE_TAPS = 8  # half-width of the windowed-sinc kernel of one glottal pulse

_DESCR = """\
Synthetic voices (skvoice.datasets.make_voices)
------------------------------------------------

Source-filter speech: a band-limited glottal pulse train (per-speaker mean F0,
F0 range, jitter, shimmer, spectral tilt, breathiness) shaped by five formant
resonators scaled by the speaker's vocal-tract length. An utterance is a
sequence of vowel-like voiced segments with rising or falling F0 contours,
unvoiced noise bursts and pauses, with silence of varied length at both ends,
in background noise at a set SNR. The true F0 of every frame is returned.

It is a test bed for the library, not a substitute for real recordings.
"""


def _speaker_identities(n_speakers, rng):
    # F0 on a continuous semitone scale (about 95-240 Hz): neighbours overlap
    # once the within-speaker range is added, so pitch alone is not enough.
    f0 = 95.0 * 2.0 ** (rng.permutation(np.linspace(0, 16, n_speakers)) / 12.0)
    f0 *= 2.0 ** (rng.uniform(-0.5, 0.5, n_speakers) / 12.0)
    # Shorter vocal tracts (higher formants) loosely go with higher voices.
    vtl = 1.0 + 0.6 * (np.log2(f0 / 150.0)) * 0.25 + rng.uniform(-0.06, 0.06, n_speakers)
    return {
        "f0_mean": f0,
        "f0_range": rng.uniform(2.0, 5.0, n_speakers),  # semitones
        "jitter": rng.uniform(0.001, 0.005, n_speakers),  # pulse-time std: 0.2-1 % local jitter
        "shimmer": rng.uniform(0.02, 0.08, n_speakers),
        "formant_scale": np.clip(vtl, 0.85, 1.25),
        "tilt": rng.uniform(0.80, 0.97, n_speakers),  # one-pole glottal lowpass
        "breathiness": rng.uniform(0.05, 0.35, n_speakers),
        "rate": rng.uniform(0.8, 1.25, n_speakers),  # segment duration scale
        # Idiosyncratic vowel targets (accent, anatomy): each formant of each vowel
        # shifted by a few per cent, fixed for the speaker.
        "vowel_shift": np.exp(rng.normal(0.0, 0.08, (n_speakers, len(_VOWELS), 5))),
        # A fixed extra resonance (nasal/sinus colouring) in the 1-4 kHz region.
        "colour_freq": rng.uniform(1000.0, 4000.0, n_speakers),
        "colour_gain": rng.uniform(3.0, 9.0, n_speakers),  # dB
    }


def _ramp_envelope(n, ramp):
    env = np.ones(n)
    r = min(ramp, n // 2)
    if r > 0:
        edge = 0.5 - 0.5 * np.cos(np.pi * (np.arange(r) + 0.5) / r)
        env[:r] = edge
        env[n - r :] = edge[::-1]
    return env


def _formant_sos(formants, sr):
    # Two-pole resonators in cascade, one per formant below Nyquist.
    sos = []
    for f, bw in zip(formants, _BANDWIDTHS):
        if f >= 0.48 * sr:
            continue
        r = np.exp(-np.pi * bw / sr)
        a1, a2 = -2.0 * r * np.cos(2.0 * np.pi * f / sr), r * r
        sos.append([1.0 + a1 + a2, 0.0, 0.0, 1.0, a1, a2])  # unit gain at DC
    return np.array(sos)


def _peaking(freq, gain_db, q, sr):
    """Biquad peaking equaliser (RBJ cookbook)."""
    amp = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * np.pi * min(freq, 0.45 * sr) / sr
    alpha = np.sin(w0) / (2.0 * q)
    b = np.array([1.0 + alpha * amp, -2.0 * np.cos(w0), 1.0 - alpha * amp])
    a = np.array([1.0 + alpha / amp, -2.0 * np.cos(w0), 1.0 - alpha / amp])
    return b / a[0], a / a[0]


def _glottal_pulses(f0, sr, jitter, shimmer, rng):
    """Band-limited pulse train following the F0 track ``f0`` (0 = unvoiced)."""
    n = f0.shape[0]
    phase = np.cumsum(f0) / sr  # in periods; flat where unvoiced
    k = np.arange(np.floor(phase[0]) + 1, np.floor(phase[-1]) + 1)
    out = np.zeros(n)
    if k.size == 0:
        return out
    idx = np.searchsorted(phase, k)  # first sample at or past each crossing
    prev = np.clip(idx - 1, 0, n - 1)
    step = np.maximum(phase[idx] - phase[prev], 1e-12)
    t = prev + (k - phase[prev]) / step  # fractional pulse times
    period = sr / np.maximum(f0[idx], 1.0)
    t = t + jitter * period * rng.standard_normal(k.size)
    amp = 1.0 + shimmer * rng.standard_normal(k.size)
    taps = np.arange(-_PULSE_TAPS, _PULSE_TAPS + 1)
    pos = np.floor(t).astype(int)[:, None] + taps
    frac = t[:, None] - pos
    # Windowed sinc at the fractional position: band-limited, no aliasing.
    kern = np.sinc(frac) * (0.5 + 0.5 * np.cos(np.pi * frac / (_PULSE_TAPS + 1)))
    ok = (pos >= 0) & (pos < n)
    np.add.at(out, pos[ok], (kern * amp[:, None])[ok])
    return out


def _utterance(spk, duration, sr, rng, snr_db):
    """One recording of speaker ``spk``: waveform, per-sample F0 and voicing."""
    n = int(round(duration * sr))
    f0 = np.zeros(n)
    voiced_env = np.zeros(n)
    noise_env = np.zeros(n)
    segments = []  # (start, stop, formant vector) of voiced segments
    ramp = int(_RAMP_S * sr)
    scale = spk["formant_scale"]
    t = int(rng.uniform(0.10, 0.40) * sr)  # leading silence
    end = n - int(rng.uniform(0.10, 0.40) * sr)  # trailing silence
    while t < end:
        kind = rng.choice(3, p=[0.6, 0.2, 0.2])  # voiced, unvoiced, pause
        if kind == 0:
            length = int(rng.uniform(0.12, 0.35) * spk["rate"] * sr)
        elif kind == 1:
            length = int(rng.uniform(0.04, 0.12) * sr)
        else:
            length = int(rng.uniform(0.05, 0.30) * sr)
        stop = min(t + length, end)
        m = stop - t
        if m < 2 * ramp + 4:
            break
        if kind == 0:
            centre = spk["f0_mean"] * 2.0 ** (rng.uniform(-0.5, 0.5) * spk["f0_range"] / 12)
            span = rng.uniform(0.3, 1.0) * spk["f0_range"] * rng.choice([-1.0, 1.0])
            semis = np.linspace(-span / 2, span / 2, m)
            # A rise or fall, sometimes with a bend in the middle.
            semis += rng.uniform(-1.0, 1.0) * np.sin(np.linspace(0, np.pi, m))
            f0[t:stop] = centre * 2.0 ** (semis / 12.0)
            voiced_env[t:stop] = _ramp_envelope(m, ramp) * rng.uniform(0.6, 1.0)
            v = rng.randint(len(_VOWELS))
            fv = np.concatenate([_VOWELS[v], _HIGH_FORMANTS]) * spk["vowel_shift"][v]
            segments.append((t, stop, fv * scale))
        elif kind == 1:
            noise_env[t:stop] = _ramp_envelope(m, ramp) * rng.uniform(0.15, 0.4)
        t = stop

    pulses = _glottal_pulses(f0, sr, spk["jitter"], spk["shimmer"], rng)
    source = signal.lfilter([1.0 - spk["tilt"]], [1.0, -spk["tilt"]], pulses)
    voiced = voiced_env > 0
    rms = np.sqrt(np.mean(source[voiced] ** 2)) if voiced.any() else 1.0
    # Aspiration noise relative to the source's own level (breathiness ~ 1:10-1:100).
    source = source + spk["breathiness"] * rms * rng.standard_normal(n) * voiced
    speech = np.zeros(n)
    for start, stop, fv in segments:
        seg = signal.sosfilt(_formant_sos(fv, sr), source[start:stop])
        speech[start:stop] = seg / max(np.abs(seg).max(), 1e-12) * voiced_env[start:stop]
    # The speaker's fixed colouring: a peaking filter on the voiced speech.
    b, a = _peaking(spk["colour_freq"], spk["colour_gain"], 2.0, sr)
    speech = signal.lfilter(b, a, speech)
    if noise_env.any():
        # Fricative noise: high-passed, its band scaled by the vocal tract.
        hp = signal.butter(4, min(2500.0 * scale, 0.4 * sr), "highpass", fs=sr, output="sos")
        fric = signal.sosfilt(hp, rng.standard_normal(n))
        speech += fric / max(np.abs(fric).max(), 1e-12) * noise_env
    speech *= 0.5 / max(np.abs(speech).max(), 1e-12)
    active = (voiced_env > 0) | (noise_env > 0)
    if snr_db is not None:
        p_speech = np.mean(speech[active] ** 2) if active.any() else 1e-6
        noise = rng.standard_normal(n) * np.sqrt(p_speech / 10.0 ** (snr_db / 10.0))
        speech = speech + noise
    speech = np.clip(speech, -1.0, 1.0)
    return speech.astype(np.float32), f0 * (voiced_env >= 0.5)


def make_voices(
    n_speakers=10,
    n_recordings=20,
    duration=3.0,
    sr=16000,
    allowed=None,
    snr_db=30.0,
    hop_length=256,
    random_state=None,
):
    """Generate synthetic speakers for access-control experiments.

    Each speaker has an identity in pitch (mean F0, F0 range, jitter, shimmer)
    and in timbre (formants scaled by vocal-tract length, spectral tilt,
    breathiness). Utterances are sequences of voiced vowel-like segments with
    rising and falling F0, unvoiced noise bursts and pauses, with silence of
    varied length at the start and end, in white background noise.

    Parameters
    ----------
    n_speakers : int, default=10
        Number of speakers (at least 2).
    n_recordings : int, default=20
        Recordings per speaker.
    duration : float, default=3.0
        Mean length of a recording in seconds; each recording's length is drawn
        uniformly within +-25 % of it, so the batch is ragged as real data is.
    sr : int, default=16000
        Sample rate in Hz.
    allowed : array-like of int or str, default=None
        The allowed speakers, by index or by name (``"s00"``, ``"s01"``, ...).
        ``None`` picks a third of the speakers (at least one) at random.
    snr_db : float or None, default=30.0
        Signal-to-noise ratio of the background noise over the speech; ``None``
        adds no noise.
    hop_length : int, default=256
        Hop of the returned F0 tracks, in samples (frames centred, as librosa).
    random_state : int, RandomState instance or None, default=None
        Seed; the same seed gives identical data.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (list of 1-D float32 waveforms), ``target`` (1 = allowed,
        0 = refused), ``speaker`` (name per recording), ``sr``, ``f0`` (true F0
        per frame, Hz, NaN where unvoiced), ``f0_hop_length``, ``allowed``
        (names of the allowed speakers), ``speaker_params`` (the identity of each
        speaker) and ``DESCR``.

    Examples
    --------
    >>> from skvoice.datasets import make_voices
    >>> voices = make_voices(n_speakers=3, n_recordings=2, duration=1.0, random_state=0)
    >>> len(voices.data), voices.sr, sorted(set(voices.speaker.tolist()))
    (6, 16000, ['s00', 's01', 's02'])
    """
    if int(n_speakers) != n_speakers or n_speakers < 2:
        raise ValueError(f"n_speakers must be an integer >= 2, got {n_speakers!r}.")
    if int(n_recordings) != n_recordings or n_recordings < 1:
        raise ValueError(f"n_recordings must be a positive integer, got {n_recordings!r}.")
    if not duration > 0.3:
        raise ValueError(f"duration must be more than 0.3 seconds, got {duration!r}.")
    if int(sr) != sr or sr < 4000:
        raise ValueError(f"sr must be an integer of at least 4000 Hz, got {sr!r}.")
    n_speakers, n_recordings, sr = int(n_speakers), int(n_recordings), int(sr)
    rng = check_random_state(random_state)
    names = np.array([f"s{i:02d}" for i in range(n_speakers)])
    ident = _speaker_identities(n_speakers, rng)
    if allowed is None:
        n_allowed = max(1, round(n_speakers / 3))
        allowed_idx = np.sort(rng.choice(n_speakers, n_allowed, replace=False))
    else:
        allowed_idx = []
        for a in np.atleast_1d(allowed):
            if isinstance(a, (str, np.str_)):
                if a not in names:
                    raise ValueError(f"Unknown speaker {a!r} in allowed; names are s00..")
                allowed_idx.append(int(np.flatnonzero(names == a)[0]))
            elif 0 <= int(a) < n_speakers:
                allowed_idx.append(int(a))
            else:
                raise ValueError(f"allowed index {a!r} outside [0, {n_speakers}).")
        allowed_idx = np.unique(allowed_idx)

    data, f0s, speakers = [], [], []
    for s in range(n_speakers):
        spk = {key: val[s] for key, val in ident.items()}
        for _ in range(n_recordings):
            dur = duration * rng.uniform(0.75, 1.25)
            y, f0 = _utterance(spk, dur, sr, rng, snr_db)
            # True F0 at the centre sample of each frame (center=True framing).
            centres = np.minimum(np.arange(1 + len(y) // hop_length) * hop_length, len(y) - 1)
            track = f0[centres]
            data.append(y)
            f0s.append(np.where(track > 0, track, np.nan).astype(np.float32))
            speakers.append(names[s])
    speakers = np.array(speakers)
    target = np.isin(speakers, names[allowed_idx]).astype(np.int64)
    params = {key: dict(zip(names, np.round(val, 6).tolist())) for key, val in ident.items()}
    return Bunch(
        data=data,
        target=target,
        speaker=speakers,
        sr=sr,
        f0=f0s,
        f0_hop_length=hop_length,
        allowed=names[allowed_idx].tolist(),
        speaker_params=params,
        DESCR=_DESCR,
    )
