"""Figures inside ipywidgets: the one way the course's interactive widgets show a matplotlib picture.

``FigureView`` renders a figure to PNG bytes and shows them in an ``ipywidgets.Image``; every redraw replaces the
bytes. It needs no output capture (``Output`` widgets, which notebook executors and Colab handle unevenly), behaves
the same under ipywidgets 7.7 (Colab) and 8, and a test reads the picture back as ``bytes(view.widget.value)``.
ipywidgets is imported when a ``FigureView`` is made, never when this module is imported.

Typical use inside a widget builder::

    view = FigureView(dpi=72)
    def redraw(change=None):
        view.show(plot_something(slider.value))   # a new figure each time; pyplot figures are closed
    slider.observe(redraw, names="value")
    redraw()
    return ipywidgets.VBox([slider, view.widget])
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from matplotlib.figure import Figure

from course_utils.validation import validate_instance, validate_int

if TYPE_CHECKING:
    import ipywidgets

__all__ = ["FigureView", "figure_png"]


def figure_png(figure: Figure, *, dpi: int = 72) -> bytes:
    """Render ``figure`` to PNG bytes, and close it if pyplot manages it (so no still copy appears in the notebook).

    Args:
        figure: a matplotlib ``Figure``, made with pyplot or directly as ``Figure(...)``.
        dpi: dots per inch of the PNG, an int >= 1.

    Returns:
        The PNG file's bytes.
    """
    validate_instance(figure, "figure", Figure, what="a matplotlib Figure")
    dpi = validate_int(dpi, "dpi", minimum=1)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    if figure.canvas.manager is not None:  # only pyplot's figures have a manager; Figure(...) needs no closing
        import matplotlib.pyplot as plt

        plt.close(figure)
    return buffer.getvalue()


class FigureView:
    """An ``ipywidgets.Image`` that shows one matplotlib figure at a time; ``show`` replaces it.

    Args:
        dpi: dots per inch of the rendered pictures, an int >= 1.

    Attributes:
        widget: the ``ipywidgets.Image`` (format ``"png"``) to place in a layout; empty until the first ``show``.
    """

    def __init__(self, *, dpi: int = 72) -> None:
        import ipywidgets

        self.dpi = validate_int(dpi, "dpi", minimum=1)
        self.widget: ipywidgets.Image = ipywidgets.Image(format="png")

    def show(self, figure: Figure) -> None:
        """Render ``figure`` into the widget, replacing the previous picture (see ``figure_png``).

        Args:
            figure: the figure to show; a pyplot figure is closed afterwards.
        """
        self.widget.value = figure_png(figure, dpi=self.dpi)
