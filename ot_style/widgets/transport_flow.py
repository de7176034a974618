"""Notebook 02b (``02b_the_gradient_is_a_transport_plan``): a 2-D cloud flowing under gradient descent on W2^2.

:class:`TransportFlow` is the model (no ipywidgets): a cloud of samples, a target Gaussian, a step size
and a number of steps; it follows :func:`ot_style.maths.flow.w2_gradient_flow` and draws the flowed cloud
beside the closed-form Monge map's image :math:`T(y)` and the curve of W2 against the step.
:func:`transport_flow_explorer` puts sliders on it.

The step size is given as a fraction ``t`` of the Monge step :math:`(n-1)/2`
(:func:`ot_style.maths.flow.monge_step`): ``t = 1`` lands every centred sample on its Monge image in
one step, ``t < 1`` covers that fraction of every arrow per step, ``t > 1`` overshoots.

Structure a browser test can find: sliders ``Step (t)`` and ``Steps``, a ``Play`` button driving
``Steps``; the numbers in an HTML widget with class ``ot-style-numbers`` (``data-quantity="w2"``,
``"w2_start"``, ``"to_map"``, ``"step"``), the picture in ``img.ot-style-plot``, the whole box with class
``ot-style-transport-flow``.
"""

from __future__ import annotations

import numpy as np

from .. import plotting
from ..maths.flow import monge_step, w2_gradient_flow
from ..maths.gaussian import gaussian_monge_map, sqrtm_psd
from ..maths.moments import feature_moments
from ._ui import UI as _UI
from ._ui import numbers_html as _numbers_html

__all__ = ["TransportFlow", "TransportFlowUI", "transport_flow_explorer", "SOURCE", "TARGET"]

#: The default start Gaussian (mean, covariance) of the cloud, and the target it flows to.
SOURCE = (np.array([-1.6, -0.4]), np.array([[1.0, 0.55], [0.55, 0.6]]))
TARGET = (np.array([1.4, 0.6]), np.array([[0.35, -0.3], [-0.3, 1.3]]))


class TransportFlow:
    """A 2-D cloud under gradient descent on W2^2 to a target Gaussian, and the Monge map. Notebook 02b.

    Parameters
    ----------
    n : int
        Number of samples (drawn once, seeded, from ``source``).
    source, target : (mean (2,), cov (2, 2))
        The Gaussian the cloud is drawn from, and the one it flows to.
    fraction : float
        ``t``: the step size as a fraction of :func:`ot_style.maths.flow.monge_step`.
    steps : int
        How many steps are shown.
    max_steps : int
        The most steps the model computes (the ``Steps`` slider's end).
    centre : bool
        Shift the cloud so that its sample mean is the target's before the flow (then ``t = 1`` lands
        exactly on ``T(y)``).
    seed : int
    """

    def __init__(self, *, n: int = 300, source=SOURCE, target=TARGET, fraction: float = 0.25, steps: int = 4,
                 max_steps: int = 30, centre: bool = False, seed: int = 0):
        if int(n) < 3:
            raise ValueError(f"The cloud needs at least 3 samples in 2-D, got {n}.")
        self.target = (np.asarray(target[0], float), np.asarray(target[1], float))
        mean, cov = np.asarray(source[0], float), np.asarray(source[1], float)
        start = mean + np.random.default_rng(seed).standard_normal((int(n), 2)) @ sqrtm_psd(cov)
        if centre:
            start = start - start.mean(axis=0) + self.target[0]
        self.start = start
        self.max_steps = int(max_steps)
        self.fraction, self.steps = 0.25, 0
        self._cache = {}
        self.set(fraction=fraction, steps=steps)

    @property
    def n(self) -> int:
        return self.start.shape[0]

    @property
    def step(self) -> float:
        """The step size :math:`\\eta = t\\,(n-1)/2`."""
        return self.fraction * monge_step(self.n)

    def set(self, *, fraction: float | None = None, steps: int | None = None) -> None:
        """Change the step fraction ``t`` (in (0, 2)) and/or the number of steps shown (0 to ``max_steps``)."""
        if fraction is not None:
            if not 0.0 < float(fraction) < 2.0:
                raise ValueError(f"The step fraction t must lie strictly between 0 and 2, got {fraction}.")
            self.fraction = float(fraction)
        if steps is not None:
            if not 0 <= int(steps) <= self.max_steps:
                raise ValueError(f"steps must be between 0 and {self.max_steps}, got {steps}.")
            self.steps = int(steps)

    def flow(self):
        """The whole flow at the current step size, ``max_steps`` steps (computed once per step size)."""
        key = round(self.fraction, 12)
        if key not in self._cache:
            self._cache[key] = w2_gradient_flow(self.start, *self.target, step=self.step, steps=self.max_steps)
        return self._cache[key]

    def cloud(self) -> np.ndarray:
        """The samples after :attr:`steps` steps, shape (n, 2)."""
        return self.flow().path[self.steps]

    def monge_map(self):
        """The Monge map from the start cloud's Gaussian (eq. 1 moments) to the target."""
        mean, cov = feature_moments(self.start)
        return gaussian_monge_map(mean, cov, *self.target)

    def mapped(self) -> np.ndarray:
        """:math:`T(y_i)` for every start sample, shape (n, 2)."""
        return self.monge_map()(self.start)

    def numbers(self) -> dict[str, float]:
        """``w2`` now and ``w2_start``, ``to_map`` (the mean distance of each sample to its Monge image
        :math:`T(y_i)`) and ``step`` (:math:`\\eta`)."""
        w2 = self.flow().w2_squared
        gap = np.linalg.norm(self.cloud() - self.mapped(), axis=1)
        return {"w2": float(np.sqrt(w2[self.steps])), "w2_start": float(np.sqrt(w2[0])),
                "to_map": float(np.mean(gap)), "step": self.step}

    def figure(self, *, tracks: int = 25):
        """Left: the flowed cloud and the tracks of some samples; middle: the closed-form map's arrows
        y -> T(y); right: W2 against the step. The orange ellipse is the target (2 standard deviations)."""
        y0, now, mapped = self.start, self.cloud(), self.mapped()
        path = self.flow().path[: self.steps + 1]
        fig = plotting.new_figure(10.5, 3.5)
        grid = fig.add_gridspec(1, 3, width_ratios=[1, 1, 0.85])
        left, middle, right = (fig.add_subplot(grid[i]) for i in range(3))
        k = min(int(tracks), self.n)
        left.scatter(y0[:, 0], y0[:, 1], s=4, color="lightgray", label="start y")
        for i in range(k):
            left.plot(path[:, i, 0], path[:, i, 1], color="tab:gray", lw=0.7)
        steps = f"{self.steps} step" + ("" if self.steps == 1 else "s")
        left.scatter(now[:, 0], now[:, 1], s=5, color="tab:blue", label=f"after {steps}")
        left.set_title(f"gradient descent, t = {self.fraction:.2f}, {steps}", fontsize=9)
        middle.scatter(y0[:, 0], y0[:, 1], s=4, color="lightgray", label="start y")
        middle.quiver(y0[:k, 0], y0[:k, 1], mapped[:k, 0] - y0[:k, 0], mapped[:k, 1] - y0[:k, 1], angles="xy",
                      scale_units="xy", scale=1, width=0.004, color="tab:gray")
        middle.scatter(mapped[:, 0], mapped[:, 1], s=5, color="tab:orange", label="T(y), closed form")
        middle.set_title("the Monge map of notebook 02", fontsize=9)
        everything = np.concatenate([y0, mapped, now])
        finite = everything[np.all(np.isfinite(everything), axis=1)]
        # One square window for both panels, so that the two clouds can be compared by eye.
        centre = 0.5 * (finite.min(axis=0) + finite.max(axis=0))
        half = 0.5 * float(np.max(finite.max(axis=0) - finite.min(axis=0))) + 0.4
        for ax in (left, middle):
            plotting.draw_ellipse(ax, *self.target, edgecolor="tab:orange", lw=1.5, label="target (2 std)")
            ax.set_xlim(centre[0] - half, centre[0] + half)
            ax.set_ylim(centre[1] - half, centre[1] + half)
            ax.set_aspect("equal", adjustable="box")
            ax.legend(fontsize=7, loc="upper left")
        w2 = np.sqrt(self.flow().w2_squared)
        right.plot(np.arange(w2.size), w2, marker=".", color="tab:blue")
        right.plot([self.steps], [w2[self.steps]], marker="o", ms=8, color="tab:red")
        right.set_xlabel("step")
        right.set_ylabel("W2 to the target")
        right.set_ylim(bottom=0)
        right.set_title(f"W2 = {w2[self.steps]:.3g} (start {w2[0]:.3g})", fontsize=9)
        fig.tight_layout()
        return fig


class TransportFlowUI(_UI):
    """Sliders ``Step (t)`` (``.fraction``) and ``Steps`` (``.steps``), a ``Play`` button (``.play``)
    driving ``Steps``, the numbers (``.numbers``) and the picture (``.plot``); ``.model``."""

    def __init__(self, model: TransportFlow):
        import ipywidgets as w

        self.model = model
        style = {"description_width": "70px"}
        self.fraction = w.FloatSlider(description="Step (t)", value=model.fraction, min=0.05, max=1.5, step=0.05,
                                      style=style, tooltip="step size as a fraction of (n-1)/2")
        self.steps = w.IntSlider(description="Steps", value=model.steps, min=0, max=model.max_steps, style=style)
        self.play = w.Play(value=model.steps, min=0, max=model.max_steps, interval=400, description="Play")
        w.jslink((self.play, "value"), (self.steps, "value"))
        self.fraction.observe(self._moved, names="value")
        self.steps.observe(self._moved, names="value")
        self.numbers = w.HTML()
        self.plot = w.Image(format="png", layout=w.Layout(width="900px"))
        self.numbers.add_class("ot-style-numbers")
        self.plot.add_class("ot-style-plot")
        self.widget = w.VBox([w.HBox([self.fraction, self.steps, self.play]), self.numbers, self.plot])
        self.widget.add_class("ot-style-transport-flow")
        self.update()

    def _moved(self, change) -> None:
        self.model.set(fraction=self.fraction.value, steps=self.steps.value)
        self.update()

    def update(self) -> None:
        """Redraw the picture and the numbers from the model."""
        self.plot.value = plotting.figure_png(self.model.figure())  # picture first, numbers last
        n = self.model.numbers()
        self.numbers.value = _numbers_html([("w2", "W2 now", n["w2"]), ("w2_start", "W2 at the start", n["w2_start"]),
                                            ("to_map", "mean |y - T(y)|", n["to_map"]),
                                            ("step", "step size (n-1)/2 * t", n["step"])])


def transport_flow_explorer(**kwargs) -> TransportFlowUI:
    """Notebook 02b: the cloud flowing to the target under gradient steps, beside the Monge map."""
    return TransportFlowUI(TransportFlow(**kwargs))
