"""Matplotlib helpers shared by the Displays (matplotlib is imported lazily)."""


def axes_or_new(ax=None, figsize=None, ncols=1):
    """``(figure, ax)``: the given axes and their figure, or a new figure's axes."""
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    return plt.subplots(1, ncols, figsize=figsize, layout="constrained")
