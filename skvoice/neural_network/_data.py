"""Spectrogram batches for the networks: validation, random crops, sliding windows."""

import numpy as np
import torch

__all__ = ["check_spectrograms", "CropDataset", "sliding_windows"]


def check_spectrograms(X, *, n_bins=None, n_channels=None, owner=None):
    """Validate time-frequency images; return a list of float32 ``(C, n_bins, T)`` tensors.

    Accepts a list (or object array) of 2-D ``(n_bins, T_i)`` or 3-D
    ``(C, n_bins, T_i)`` arrays, a dense 3-D ``(n, n_bins, T)`` or 4-D
    ``(n, C, n_bins, T)`` array, or a 2-D ``(n, n_bins)`` array read as one frame per
    recording (feature vectors). Raises ``ValueError`` naming the recording for
    NaN/inf, wrong rank, mixed channel counts or a different number of bins (in
    scikit-learn's words when ``owner``, the fitted estimator's name, is given).
    """
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise TypeError("Sparse input is not supported: pass dense spectrograms.")
    if not isinstance(X, (list, tuple, np.ndarray)) and hasattr(X, "__array__"):
        X = np.asarray(X)
    if isinstance(X, (list, tuple)) and X and all(np.ndim(x) == 1 for x in X):
        # Rows of numbers: a table (n, n_bins) of one-frame images.
        if len({len(x) for x in X}) == 1:
            X = np.asarray(X)
    if isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 2:
        X = X.astype(np.float64)
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim == 1:
            raise ValueError(
                f"Expected a batch of spectrograms, got a 1-D array of shape {X.shape}. "
                "Reshape your data: a list of (n_bins, n_frames) arrays or a 2-D (n, n_bins)."
            )
        if X.ndim == 2:
            if X.shape[1] == 0:
                raise ValueError(
                    f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 "
                    "is required."
                )
            X = X[:, None, :, None]  # (n, n_bins) -> n images of n_bins x 1 frame
        elif X.ndim == 3:
            X = X[:, None]
        elif X.ndim != 4:
            raise ValueError(f"Expected a 2-D, 3-D or 4-D array, got shape {X.shape}.")
        items = list(X)
    elif isinstance(X, (list, tuple, np.ndarray)):
        items = list(X)
    else:
        raise TypeError(f"Expected spectrograms as a list or an array, got {type(X).__name__}.")
    if not items:
        raise ValueError("Expected at least one spectrogram, got an empty batch.")
    out = []
    for i, x in enumerate(items):
        arr = np.asarray(x)
        if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
            raise ValueError(f"Recording {i}: expected numeric values, got dtype {arr.dtype}.")
        if np.iscomplexobj(arr):
            raise ValueError(f"Recording {i}: Complex data not supported.")
        if arr.ndim == 2:
            arr = arr[None]
        if arr.ndim != 3:
            raise ValueError(
                f"Recording {i}: expected a (n_bins, n_frames) or (n_channels, n_bins, "
                f"n_frames) image, got shape {arr.shape}."
            )
        if arr.shape[1] == 0 or arr.shape[2] == 0:
            raise ValueError(f"Recording {i}: empty image of shape {arr.shape}.")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"Recording {i}: the spectrogram contains NaN or infinite values.")
        if n_channels is None:
            n_channels = arr.shape[0]
        elif arr.shape[0] != n_channels:
            raise ValueError(
                f"Recording {i}: {arr.shape[0]} channel(s), expected {n_channels} like the others."
            )
        if n_bins is None:
            n_bins = arr.shape[1]
        elif arr.shape[1] != n_bins:
            if owner is not None:
                raise ValueError(
                    f"X has {arr.shape[1]} features, but {owner} is expecting {n_bins} "
                    f"features as input (frequency bins; recording {i})."
                )
            raise ValueError(f"Recording {i}: {arr.shape[1]} frequency bins, expected {n_bins}.")
        out.append(torch.from_numpy(np.array(arr, dtype=np.float32)))  # a copy
    return out


def _loop_to(x, width):
    """Repeat ``x`` along time until it is at least ``width`` frames long."""
    t = x.shape[-1]
    if t >= width:
        return x
    return x.repeat(1, 1, -(-width // t))[..., :width]


class CropDataset(torch.utils.data.Dataset):
    """Random fixed-width crops of recordings (looped when shorter), one per item.

    ``train=False`` gives the deterministic centre crop (for validation).
    Augmentation (SpecAugment-style masks and a random level offset) draws from
    the dataset's own generator so that runs are reproducible.
    """

    def __init__(self, specs, y, width, *, train=True, augment=False, seed=0):
        self.specs = [_loop_to(s, width) for s in specs]
        self.y = None if y is None else torch.as_tensor(y, dtype=torch.long)
        self.width = width
        self.train = train
        self.augment = augment
        self.generator = torch.Generator().manual_seed(int(seed))

    def __len__(self):
        return len(self.specs)

    def _augment(self, x):
        g = self.generator
        c, f, t = x.shape
        x = x.clone()
        fw = int(torch.randint(0, max(1, f // 8) + 1, (1,), generator=g))
        f0 = int(torch.randint(0, f - fw + 1, (1,), generator=g))
        tw = int(torch.randint(0, max(1, t // 10) + 1, (1,), generator=g))
        t0 = int(torch.randint(0, t - tw + 1, (1,), generator=g))
        fill = x.mean()
        x[:, f0 : f0 + fw, :] = fill
        x[:, :, t0 : t0 + tw] = fill
        # Random level: an offset of up to +-0.5 (in units of the input's spread).
        return x + (torch.rand(1, generator=g) - 0.5) * x.std(correction=0)

    def __getitem__(self, i):
        x = self.specs[i]
        t = x.shape[-1]
        if self.train:
            start = int(torch.randint(0, t - self.width + 1, (1,), generator=self.generator))
        else:
            start = (t - self.width) // 2
        crop = x[..., start : start + self.width]
        if self.train and self.augment:
            crop = self._augment(crop)
        y = self.y[i] if self.y is not None else torch.tensor(0)
        return crop, y


def sliding_windows(specs, width, hop):
    """All windows of every recording, and the recording each comes from.

    Windows of ``width`` frames start every ``hop`` frames; one more window ends
    at the last frame so the whole recording is covered. Shorter recordings are
    looped to ``width`` and give one window.

    Returns
    -------
    windows : Tensor of shape (n_windows, C, n_bins, width)
    owner : LongTensor of shape (n_windows,)
    """
    windows, owner = [], []
    for i, x in enumerate(specs):
        x = _loop_to(x, width)
        t = x.shape[-1]
        w = x.unfold(-1, width, hop)  # (C, F, n, width), a view
        starts = list(range(0, t - width + 1, hop))
        w = w.permute(2, 0, 1, 3)
        if starts[-1] != t - width:  # cover the tail
            w = torch.cat([w, x[None, ..., t - width :]], dim=0)
        windows.append(w)
        owner.append(torch.full((w.shape[0],), i, dtype=torch.long))
    return torch.cat(windows), torch.cat(owner)
