"""The convolutional network on spectrograms (a plain torch module)."""

from collections import OrderedDict

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["ConvBlock", "SpectrogramCNN"]


class ConvBlock(nn.Module):
    """Conv 3x3 - batch norm - ReLU - 2x2 max pooling (skipped on a size-1 axis) - dropout.

    The building block of :class:`SpectrogramCNN`'s trunk. Its ``dropout`` is
    channel dropout (``Dropout2d``) after the pooling, an ``Identity`` at rate 0:
    the place where MC dropout samples the trunk.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input and of the output.
    kernel_size : int, default=3
        Size of the square kernel ("same" padding).
    dropout : float, default=0.0
        Rate of the channel dropout after the pooling.

    Examples
    --------
    >>> import torch
    >>> from skvoice.neural_network._module import ConvBlock
    >>> ConvBlock(1, 16)(torch.zeros(2, 1, 64, 100)).shape
    torch.Size([2, 16, 32, 50])
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, dropout=0.0):
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False
        )
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x):
        x = self.relu(self.bn(self.conv(x)))
        kh = 2 if x.shape[-2] >= 2 else 1
        kw = 2 if x.shape[-1] >= 2 else 1
        if kh > 1 or kw > 1:
            x = F.max_pool2d(x, (kh, kw))
        return self.dropout(x)


class SpectrogramCNN(nn.Module):
    """A small 2-D CNN for variable-length spectrograms.

    ``n_blocks`` conv blocks (filters doubling from ``n_filters``, capped at 8x),
    then the frequency axis is flattened into channels and pooled over time by
    mean and standard deviation (statistics pooling, so any length works), a
    linear embedding with batch norm and ReLU, dropout, and a linear head.

    Named submodules: ``blocks.block0`` ... (each with ``conv``, ``bn``),
    ``embedding``, ``dropout``, ``head``.

    Parameters
    ----------
    n_bins : int
        Frequency bins of the input.
    n_classes : int
        Output logits.
    n_channels : int, default=1
        Input channels.
    n_filters : int, default=16
        Filters of the first block.
    n_blocks : int, default=4
        Conv blocks.
    kernel_size : int, default=3
        Kernel size of the convolutions (odd).
    dropout : float, default=0.3
        Dropout before the head.
    block_dropout : float, default=0.0
        Channel dropout after every conv block (for MC dropout studies).
    embedding_dim : int, default=128
        Width of the embedding layer.
    """

    def __init__(
        self,
        n_bins,
        n_classes,
        n_channels=1,
        n_filters=16,
        n_blocks=4,
        kernel_size=3,
        dropout=0.3,
        block_dropout=0.0,
        embedding_dim=128,
    ):
        super().__init__()
        blocks = OrderedDict()
        c_in = n_channels
        h = n_bins
        for b in range(n_blocks):
            c_out = n_filters * 2 ** min(b, 3)
            blocks[f"block{b}"] = ConvBlock(c_in, c_out, kernel_size, block_dropout)
            c_in = c_out
            h = h // 2 if h >= 2 else h
        self.blocks = nn.Sequential(blocks)
        self.embedding = nn.Sequential(
            OrderedDict(
                linear=nn.Linear(2 * c_in * h, embedding_dim),
                bn=nn.BatchNorm1d(embedding_dim),
                relu=nn.ReLU(),
            )
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(embedding_dim, n_classes)

    @staticmethod
    def pool(z):
        """Statistics pooling: maps ``(B, C', F', T')`` -> mean and std over time."""
        z = z.flatten(1, 2)  # (B, C' * F', T')
        return torch.cat([z.mean(dim=-1), z.std(dim=-1, correction=0)], dim=1)

    def embed(self, x):
        """Embedding of a batch ``(B, C, n_bins, T)`` -> ``(B, embedding_dim)``."""
        return self.embedding(self.pool(self.blocks(x)))

    def forward(self, x):
        return self.head(self.dropout(self.embed(x)))
