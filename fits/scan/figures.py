"""Figures of scans: the tested points of each method, as in figure 2 of arXiv:1708.06615."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from surrogates.space import ParameterSpace  # noqa: E402

__all__ = ["plot_tested_points"]


def plot_tested_points(
    tested: dict[str, pd.DataFrame],
    space: ParameterSpace,
    axes: tuple[str, str] | None = None,
    observable: str | None = None,
) -> plt.Figure:
    """One panel per method: tested points, in the target region or not.

    Parameters
    ----------
    tested : dict of str to DataFrame
        Method name -> tested points (parameter columns and ``in_target``).
    space : ParameterSpace
    axes : (str, str), optional
        Parameters on the x and y axes; default the first two. For spaces of more than two
        dimensions the panels are projections; with ``observable`` a second row shows the
        histogram of that observable over the tested points.
    observable : str, optional
    """
    x, y = axes or (space.names[0], space.names[1 % space.n_dim])
    n = len(tested)
    rows = 2 if observable else 1
    fig, ax = plt.subplots(rows, n, figsize=(3.3 * n, 3.2 * rows), squeeze=False)
    for j, (name, frame) in enumerate(tested.items()):
        inside = frame["in_target"].to_numpy(bool)
        a = ax[0, j]
        a.scatter(frame.loc[~inside, x], frame.loc[~inside, y], s=3, c="0.6", label="outside")
        a.scatter(frame.loc[inside, x], frame.loc[inside, y], s=3, c="C3", label="in target")
        a.set_xlim(space.low[space.index(x)], space.high[space.index(x)])
        a.set_ylim(space.low[space.index(y)], space.high[space.index(y)])
        a.set_xlabel(space.parameters[space.index(x)].latex or x)
        a.set_ylabel(space.parameters[space.index(y)].latex or y)
        a.set_title(f"{name}\n{inside.mean():.1%} of {len(frame)} in target", fontsize=9)
        a.set_aspect("auto")
        if observable:
            values = frame[observable].to_numpy(float)
            values = values[np.isfinite(values)]
            ax[1, j].hist(values, bins=60, color="C0")
            ax[1, j].set_xlabel(observable)
            ax[1, j].set_yscale("log")
    ax[0, 0].legend(fontsize=7, markerscale=3, loc="upper right")
    fig.tight_layout()
    return fig
