"""A progress bar over training epochs, with the loss: the skorch callback the CLI uses."""

import sys

from skorch.callbacks import Callback

__all__ = ["EpochProgressBar", "FitCounter"]


class FitCounter:
    """How many fits of a run have begun: one object shared by every clone of a bar.

    A network that cross-fits clones itself, and its callbacks with it; the
    counter survives the copy (``deepcopy`` returns it), so each fit's bar can
    say "fit 3 of 6".

    Parameters
    ----------
    total : int
        Fits of the run (the final one and the cross-fitting's).
    """

    def __init__(self, total):
        self.total = int(total)
        self.begun = 0

    def __deepcopy__(self, memo):
        return self

    def next(self):
        """Count a fit that begins; return its number (from 1)."""
        self.begun += 1
        return self.begun


class EpochProgressBar(Callback):
    """One tqdm bar over the epochs of a fit, showing the last losses.

    skorch's own ``ProgressBar`` counts batches within each epoch; this one
    counts epochs, so a long fit shows how far it is and whether the loss still
    falls. Pass it in ``CNNClassifier(callbacks=[("progress", EpochProgressBar())])``.
    When standard error is not a terminal (a log file, a pipe) it prints one
    plain line per epoch instead of redrawing a bar with escape codes.

    Parameters
    ----------
    desc : str, default="Training"
        Label of the bar.
    fits : FitCounter or None, default=None
        Shared by the fits of one run (the final fit and the cross-fitting's
        clones): the label then says which fit it is, "fit 2 of 6".
    """

    def __init__(self, desc="Training", fits=None):
        self.desc = desc
        self.fits = fits

    def _label(self):
        if self.fits is None:
            return self.desc
        return f"{self.desc}, fit {self.fits.next()} of {self.fits.total}"

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        done = len(net.history)
        self.bar_ = None
        self.label_ = self._label()
        if sys.stderr.isatty():
            self.bar_ = tqdm(total=net.max_epochs, initial=done, desc=self.label_, unit="epoch")

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        shown = {k: f"{row[k]:.3f}" for k in ("train_loss", "valid_loss", "valid_eer") if k in row}
        if self.bar_ is None:
            losses = ", ".join(f"{k} {v}" for k, v in shown.items())
            print(
                f"{self.label_}: epoch {len(net.history)}/{net.max_epochs}, {losses}",
                file=sys.stderr,
            )
            return
        self.bar_.set_postfix(shown, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        if self.bar_ is not None:
            self.bar_.close()

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("bar_", None)  # a live bar is not picklable
        return state
