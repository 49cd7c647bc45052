"""A progress bar over training epochs, with the loss: the skorch callback the CLI uses."""

import sys

from skorch.callbacks import Callback

__all__ = ["EpochProgressBar"]


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
    """

    def __init__(self, desc="Training"):
        self.desc = desc

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        done = len(net.history)
        self.bar_ = None
        if sys.stderr.isatty():
            self.bar_ = tqdm(total=net.max_epochs, initial=done, desc=self.desc, unit="epoch")

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        shown = {k: f"{row[k]:.3f}" for k in ("train_loss", "valid_loss", "valid_eer") if k in row}
        if self.bar_ is None:
            losses = ", ".join(f"{k} {v}" for k, v in shown.items())
            print(
                f"{self.desc}: epoch {len(net.history)}/{net.max_epochs}, {losses}",
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
