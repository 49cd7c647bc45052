"""The Display base shared by skvoice's plots (matplotlib is imported lazily).

As in scikit-learn, a Display's constructor takes computed data, a ``from_*``
class method computes it (``from_estimator`` from a fitted model,
``from_recordings`` / ``from_labels`` from a corpus) and draws it, and
:meth:`Display.plot` draws it again, anywhere: every Display's ``plot`` takes
``(*, ax=None, name=None, **kwargs)`` and returns the Display with
``figure_`` and ``ax_`` (one panel) or ``axes_`` (a grid) set.
"""

__all__ = ["Display", "GridDisplay", "axes_or_new"]


def axes_or_new(ax=None, figsize=None, ncols=1):
    """``(figure, ax)``: the given axes and their figure, or a new figure's axes."""
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    return plt.subplots(1, ncols, figsize=figsize, layout="constrained")


class Display:
    """A one-panel plot.

    Subclasses set ``_figsize`` and implement ``_draw(ax, **kwargs)``, which
    draws on ``ax`` and returns the default title.
    """

    _figsize = (7, 3.5)

    def _figure_size(self):
        return self._figsize

    def plot(self, *, ax=None, name=None, **kwargs):
        """Draw the display.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None draws on a new figure.
        name : str, default=None
            Title of the panel; None keeps the display's own.
        **kwargs : dict
            Passed to the matplotlib call that draws the data (lines, bars,
            boxes or image), e.g. ``color``, ``alpha`` or ``cmap``.

        Returns
        -------
        self : Display
            With ``figure_`` and ``ax_`` set.
        """
        fig, ax = axes_or_new(ax, self._figure_size())
        title = self._draw(ax, **kwargs)
        ax.set_title(title if name is None else name)
        self.figure_, self.ax_ = fig, ax
        return self


class GridDisplay(Display):
    """A grid of panels, drawn in one figure.

    Subclasses implement ``_grid()`` -> ``(rows, cols)`` and ``_draw(axes, fig,
    **kwargs)`` on the 2-D array of axes.
    """

    def plot(self, *, ax=None, name=None, **kwargs):
        """Draw the display.

        Parameters
        ----------
        ax : matplotlib Figure or SubFigure, default=None
            Where the grid is drawn; None draws in a new figure.
        name : str, default=None
            Title of the whole grid (none by default).
        **kwargs : dict
            Passed to the matplotlib call that draws each panel's data (an
            image), e.g. ``cmap``.

        Returns
        -------
        self : GridDisplay
            With ``figure_`` and ``axes_`` (2-D array of axes) set.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            ax = plt.figure(figsize=self._figure_size(), layout="constrained")
        if not hasattr(ax, "subplots"):
            raise TypeError(
                f"{type(self).__name__} draws a grid: ax must be a matplotlib Figure or "
                f"SubFigure, got {type(ax).__name__}."
            )
        rows, cols = self._grid()
        axes = ax.subplots(rows, cols, squeeze=False)
        self._draw(axes, ax, **kwargs)
        if name is not None:
            ax.suptitle(name)
        self.figure_, self.axes_ = ax, axes
        return self
