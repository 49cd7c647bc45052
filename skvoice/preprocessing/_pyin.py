"""Probabilistic YIN (Mauch & Dixon 2014), vectorised, with a sparse banded Viterbi.

The steps follow the reference pYIN software (and ``librosa.pyin``):

1. the YIN cumulative-mean-normalised difference of every frame, for all frames
   at once through one batched FFT autocorrelation;
2. for each frame, each trough of that function gets the probability that it is
   the period, summed over a beta-distributed prior on the YIN threshold with a
   Boltzmann prior favouring short periods;
3. a hidden Markov model over (voiced, unvoiced) x pitch bins, decoded by Viterbi.

The decoding is where ``librosa.pyin`` spends its time: it multiplies a dense
``2n x 2n`` transition matrix every frame. Two facts make that unnecessary and
keep the decoding exact: a voiced state's emission is zero outside the few
candidate pitches of the frame (so only those voiced states can be on a path),
and pitch moves at most ``h`` bins per frame (the transition is a band). The
voiced part therefore costs ``O(candidates x h)`` per frame and only the dense
unvoiced block costs ``O(n x h)``.
"""

from functools import lru_cache

import numba
import numpy as np
import scipy.fft
import scipy.stats

__all__ = ["pyin", "yin", "cmnd", "transition_log_band"]

_TINY = np.finfo(np.float64).tiny


def cmnd(y, frame_length, hop_length, min_period, max_period):
    """YIN cumulative-mean-normalised difference of centred frames.

    Returns an array of shape ``(n_frames, max_period - min_period + 1)``.
    """
    y = np.asarray(y, dtype=np.float32)
    pad = frame_length // 2
    yp = np.pad(y, (pad, pad))
    frames = np.lib.stride_tricks.sliding_window_view(yp, frame_length)[::hop_length]
    n_fft = scipy.fft.next_fast_len(2 * frame_length - 1, real=True)
    spec = scipy.fft.rfft(frames, n=n_fft, axis=1)
    acf = scipy.fft.irfft(spec.real**2 + spec.imag**2, n=n_fft, axis=1)[:, : max_period + 1]
    energy = np.cumsum(frames[:, :max_period] ** 2, axis=1)
    diff = 2.0 * (acf[:, :1] - acf[:, 1:]) - energy  # d(tau) for tau = 1..max_period
    cum_mean = np.cumsum(diff, axis=1) / np.arange(1, max_period + 1)
    num = diff[:, min_period - 1 :]
    den = cum_mean[:, min_period - 1 :]
    return (num / (den + np.finfo(den.dtype).tiny)).astype(np.float32)


def parabolic_shifts(x):
    """Offset of the parabola through each point and its neighbours (0 at the ends)."""
    out = np.zeros_like(x)
    left, mid, right = x[:, :-2], x[:, 1:-1], x[:, 2:]
    a = right + left - 2 * mid
    b = (right - left) / 2
    ok = np.abs(b) < np.abs(a)
    out[:, 1:-1] = np.where(ok, -b / np.where(ok, a, 1.0), 0.0)
    return out


@numba.njit(cache=True, nogil=True)
def _trough_probs(yin_frames, thresholds, beta_probs, boltzmann, no_trough_prob):
    """Probability of each trough being the period (per frame), as pYIN's reference."""
    n_frames, n_lags = yin_frames.shape
    n_thr = beta_probs.shape[0]
    probs = np.zeros((n_frames, n_lags))
    idx = np.empty(n_lags, dtype=np.int64)
    lam = boltzmann
    for t in range(n_frames):
        x = yin_frames[t]
        n_tr = 0
        if n_lags > 1 and x[0] < x[1]:
            idx[n_tr] = 0
            n_tr += 1
        for i in range(1, n_lags):
            right = x[i + 1] if i + 1 < n_lags else x[i]
            if x[i] < x[i - 1] and x[i] <= right:
                idx[n_tr] = i
                n_tr += 1
        if n_tr == 0:
            continue
        gmin = 0
        for k in range(1, n_tr):
            if x[idx[k]] < x[idx[gmin]]:
                gmin = k
        for k in range(n_thr):
            thr = thresholds[k + 1]
            n_below = 0
            for m in range(n_tr):
                if x[idx[m]] < thr:
                    n_below += 1
            if n_below == 0:
                continue
            norm = (1.0 - np.exp(-lam)) / (1.0 - np.exp(-lam * n_below))
            pos = 0
            for m in range(n_tr):
                if x[idx[m]] < thr:
                    probs[t, idx[m]] += beta_probs[k] * norm * np.exp(-lam * pos)
                    pos += 1
        below_min = 0.0
        for k in range(n_thr):
            if not (x[idx[gmin]] < thresholds[k + 1]):
                below_min += beta_probs[k]
        probs[t, idx[gmin]] += no_trough_prob * below_min
    return probs


@lru_cache(maxsize=16)
def transition_log_band(n_bins, half_width):
    """Log transition weights ``log T[i, i+d]`` of librosa's local triangle, by offset.

    Returns ``(log_tri, log_norm)``: ``log_tri[d + h]`` is the log weight of a
    move of ``d`` bins and ``log_norm[i]`` the log of row ``i``'s sum (rows near
    the edges are cut and renormalised, as ``transition_local(wrap=False)``).
    """
    h = half_width
    d = np.arange(-h, h + 1)
    tri = (h + 1 - np.abs(d)) / (h + 1.0)
    cums = np.concatenate([[0.0], np.cumsum(tri)])
    i = np.arange(n_bins)
    lo = np.maximum(0, i - h) - (i - h)  # first valid offset index
    hi = np.minimum(n_bins - 1, i + h) - (i - h) + 1
    return np.log(tri), np.log(cums[hi] - cums[lo])


@numba.njit(cache=True, nogil=True)
def _best_predecessor(
    j, U, cand_bin, cand_val, p0, p1, n, h, log_tri, log_norm, from_voiced, from_unvoiced
):
    """Best score of reaching bin ``j`` from the previous frame, and from which state.

    Voiced candidates are tried first, then the unvoiced band, with strict ``>``:
    ties go to the lowest state index, as a dense argmax would.
    """
    best = -np.inf
    arg = -1
    for k in range(p0, p1):
        i = cand_bin[k]
        d = j - i
        if -h <= d <= h:
            v = cand_val[k] + log_tri[d + h] - log_norm[i] + from_voiced
            if v > best:
                best = v
                arg = i
    for i in range(max(0, j - h), min(n - 1, j + h) + 1):
        v = U[i] + log_tri[j - i + h] - log_norm[i] + from_unvoiced
        if v > best:
            best = v
            arg = n + i
    return best, arg


@numba.njit(cache=True, nogil=True)
def _viterbi_sparse(
    cand_ptr, cand_bin, cand_logp, log_unv, n, h, log_tri, log_norm, log_stay, log_switch, log_init
):
    """Exact Viterbi over 2n states using candidate sparsity and the band.

    States 0..n-1 voiced (pitch bin), n..2n-1 unvoiced. Ties go to the lowest
    state index, as a dense argmax would.
    """
    n_frames = log_unv.shape[0]
    neg = -np.inf
    U = np.empty(n)
    U_new = np.empty(n)
    bp_unv = np.empty((n_frames, n), dtype=np.int32)
    bp_cand = np.empty(cand_bin.shape[0], dtype=np.int32)
    cand_val = np.empty(cand_bin.shape[0])
    for j in range(n):
        U[j] = log_init + log_unv[0]
    for k in range(cand_ptr[0], cand_ptr[1]):
        cand_val[k] = log_init + cand_logp[k]
    for t in range(1, n_frames):
        p0, p1 = cand_ptr[t - 1], cand_ptr[t]
        c0, c1 = cand_ptr[t], cand_ptr[t + 1]
        # Unvoiced states: from voiced candidates (switch) and unvoiced band (stay).
        for j in range(n):
            best, arg = _best_predecessor(
                j, U, cand_bin, cand_val, p0, p1, n, h, log_tri, log_norm, log_switch, log_stay
            )
            U_new[j] = best + log_unv[t]
            bp_unv[t, j] = arg
        # Voiced candidates: from previous candidates (stay) and unvoiced (switch).
        for k in range(c0, c1):
            best, arg = _best_predecessor(
                cand_bin[k],
                U,
                cand_bin,
                cand_val,
                p0,
                p1,
                n,
                h,
                log_tri,
                log_norm,
                log_stay,
                log_switch,
            )
            cand_val[k] = best + cand_logp[k]
            bp_cand[k] = arg
        for j in range(n):
            U[j] = U_new[j]
    # Best final state (voiced candidates come first in state order).
    states = np.empty(n_frames, dtype=np.int64)
    best = neg
    state = -1
    last0, last1 = cand_ptr[n_frames - 1], cand_ptr[n_frames]
    for k in range(last0, last1):
        if cand_val[k] > best:
            best = cand_val[k]
            state = cand_bin[k]
    for j in range(n):
        if U[j] > best:
            best = U[j]
            state = n + j
    states[n_frames - 1] = state
    for t in range(n_frames - 1, 0, -1):
        s = states[t]
        if s >= n:
            states[t - 1] = bp_unv[t, s - n]
        else:
            for k in range(cand_ptr[t], cand_ptr[t + 1]):
                if cand_bin[k] == s:
                    states[t - 1] = bp_cand[k]
                    break
    return states


def _yin_setup(sr, fmin, fmax, frame_length):
    if not 0 < fmin < fmax <= sr / 2:
        raise ValueError(f"Need 0 < fmin < fmax <= sr / 2; got fmin={fmin}, fmax={fmax}, sr={sr}.")
    min_period = int(np.floor(sr / fmax))
    max_period = min(int(np.ceil(sr / fmin)), frame_length - 1)
    if max_period <= min_period + 1:
        raise ValueError(
            f"frame_length={frame_length} is too short for fmin={fmin} at sr={sr}: "
            f"it must exceed {int(np.ceil(sr / fmin)) + 1} samples."
        )
    return min_period, max_period


def yin(y, *, sr, fmin, fmax, frame_length=1024, hop_length=256, trough_threshold=0.1):
    """YIN F0 of centred frames (de Cheveigné & Kawahara 2002), as ``librosa.yin``.

    Returns an array of ``1 + len(y) // hop_length`` frequencies in Hz.
    """
    min_period, max_period = _yin_setup(sr, fmin, fmax, frame_length)
    x = cmnd(y, frame_length, hop_length, min_period, max_period)
    shifts = parabolic_shifts(x)
    is_trough = np.zeros_like(x, dtype=bool)
    is_trough[:, 1:-1] = (x[:, 1:-1] < x[:, :-2]) & (x[:, 1:-1] <= x[:, 2:])
    is_trough[:, 0] = x[:, 0] < x[:, 1]
    below = is_trough & (x < trough_threshold)
    first = np.where(below.any(axis=1), below.argmax(axis=1), x.argmin(axis=1))
    rows = np.arange(x.shape[0])
    period = min_period + first + shifts[rows, first]
    return sr / period


def pyin(
    y,
    *,
    sr,
    fmin,
    fmax,
    frame_length=1024,
    hop_length=256,
    n_thresholds=100,
    beta_parameters=(2, 18),
    boltzmann_parameter=2.0,
    resolution=0.1,
    max_transition_rate=35.92,
    switch_prob=0.01,
    no_trough_prob=0.01,
):
    """pYIN F0 track of one waveform; parameters and frames as ``librosa.pyin``.

    Returns
    -------
    f0 : ndarray of shape (n_frames,)
        Hz, NaN where unvoiced.
    voiced_flag : ndarray of bool
    voiced_prob : ndarray of float
    """
    min_period, max_period = _yin_setup(sr, fmin, fmax, frame_length)
    x = cmnd(y, frame_length, hop_length, min_period, max_period)
    shifts = parabolic_shifts(x)
    thresholds = np.linspace(0, 1, n_thresholds + 1)
    beta_probs = np.diff(scipy.stats.beta.cdf(thresholds, *beta_parameters))
    probs = _trough_probs(
        x, thresholds, beta_probs, float(boltzmann_parameter), float(no_trough_prob)
    )

    bins_per_semitone = int(np.ceil(1.0 / resolution))
    n = int(np.floor(12 * bins_per_semitone * np.log2(fmax / fmin))) + 1
    frame, lag = np.nonzero(probs)  # row-major: by frame, then by increasing lag
    period = min_period + lag + shifts[frame, lag]
    bins = np.clip(np.round(12 * bins_per_semitone * np.log2(sr / period / fmin)), 0, n)
    bins = bins.astype(np.int64)
    p = probs[frame, lag]
    # Several troughs may fall in one bin: the longest lag wins (as an indexed
    # assignment would), and bin n (above fmax) is no voiced state.
    key = frame * (n + 1) + bins
    last = np.r_[key[1:] != key[:-1], True][: key.size]
    frame, bins, p = frame[last], bins[last], p[last]
    keep = bins < n
    frame, bins, p = frame[keep], bins[keep], p[keep]
    n_frames = x.shape[0]
    voiced_prob = np.clip(np.bincount(frame, weights=p, minlength=n_frames), 0.0, 1.0)
    cand_ptr = np.searchsorted(frame, np.arange(n_frames + 1)).astype(np.int64)
    log_unv = np.log((1.0 - voiced_prob) / n + _TINY)

    h = (round(max_transition_rate * 12 * hop_length / sr) * bins_per_semitone + 1) // 2
    log_tri, log_norm = transition_log_band(n, h)
    states = _viterbi_sparse(
        cand_ptr,
        bins.astype(np.int64),
        np.log(p + _TINY),
        log_unv,
        n,
        h,
        log_tri,
        log_norm,
        np.log(1.0 - switch_prob),
        np.log(switch_prob),
        np.log(1.0 / (2 * n)),
    )
    freqs = fmin * 2.0 ** (np.arange(n) / (12 * bins_per_semitone))
    voiced = states < n
    f0 = np.where(voiced, freqs[states % n], np.nan)
    return f0, voiced, voiced_prob
