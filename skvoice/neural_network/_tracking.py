"""A skorch callback that records the network's parameters during training."""

from skorch.callbacks import Callback

__all__ = ["LayerRecorder"]


class LayerRecorder(Callback):
    """Copy every parameter at initialisation (epoch 0) and after chosen epochs.

    Parameters
    ----------
    epochs : True or list of int
        ``True`` records after every epoch; a list records after those epochs
        (1-based) only.
    """

    def __init__(self, epochs=True):
        self.epochs = epochs

    def initialize(self):
        self.snapshots_ = {}
        return self

    def _snapshot(self, net):
        return {name: p.detach().cpu().clone() for name, p in net.module_.named_parameters()}

    def on_train_begin(self, net, **kwargs):
        if 0 not in self.snapshots_:
            self.snapshots_[0] = self._snapshot(net)

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        if self.epochs is True or epoch in list(self.epochs):
            self.snapshots_[epoch] = self._snapshot(net)

    def state_dict(self):
        """What a checkpoint keeps, so that a resumed fit has the whole history."""
        return {"snapshots_": self.snapshots_}

    def load_state_dict(self, state):
        self.snapshots_ = dict(state["snapshots_"])
