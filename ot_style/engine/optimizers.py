"""The two optimisers of the engine: SciPy's L-BFGS-B and TensorFlow's Adam, over the pixels.

:func:`ot_style.stylize` (in :mod:`ot_style.engine.synthesis`) builds, for each scale, a function from an
image tensor to a dict of named loss terms; this module minimises their sum over the pixels in [0, 1] and
does the bookkeeping both optimisers share (:class:`Tracker`): the history per term, the best image so
far, the per-scale budget of loss-and-gradient evaluations, and the :class:`Iterate` handed to the
callback.
Notebook 04 (``notebooks/04_style_transfer_playground.ipynb``) drives it through the playground widget.

One *step* is one evaluation of the loss and its gradient, for both optimisers: that is what costs
time (one VGG forward and backward pass), so a budget of steps is a budget of time. L-BFGS spends some
evaluations on line searches; Adam spends exactly one per update.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = ["Iterate", "Tracker", "StopRequested", "LossAndGradient", "float64_objective", "run_lbfgs",
           "run_adam"]


class StopRequested(Exception):
    """The callback returned False: unwinds through SciPy's loop to :func:`ot_style.stylize`."""


class _BudgetSpent(Exception):
    """This scale has used all its evaluations (stops L-BFGS in the middle of a line search too)."""


@dataclass(frozen=True)
class Iterate:
    """What the callback of :func:`ot_style.stylize` receives after every loss evaluation.

    Attributes
    ----------
    step : int
        Evaluations so far in the whole run, counting from 1 (a progress bar's value).
    scale : int
        Index of the current scale in ``scales`` (0 is the coarsest).
    size : tuple of int
        ``(height, width)`` of the image at this scale.
    losses : dict of str to float
        Every loss term of this evaluation and their sum under ``"total"``.
    elapsed : float
        Seconds since the run started.

    Methods
    -------
    image()
        The evaluated image, float32 (h, w, 3) in [0, 1] (with the colour post-processing of the run
        applied). It is computed only when called, so a callback that does not ask costs nothing; call
        it inside the callback (the optimiser moves on afterwards).
    """

    step: int
    scale: int
    size: tuple
    losses: dict
    elapsed: float
    _render: Callable[[], np.ndarray] = field(default=None, repr=False, compare=False)

    def image(self) -> np.ndarray:
        """The image this iterate's losses were measured on, float32 (h, w, 3)."""
        return self._render()


class Tracker:
    """History, best image, budget and callback, shared by both optimisers and all scales."""

    def __init__(self, *, callback=None, render=None, start: float | None = None):
        self.callback = callback
        self.render = render if render is not None else (lambda pixels: pixels)
        self.start = time.perf_counter() if start is None else start
        self.history: dict[str, list[float]] = {"total": []}
        self.evaluations = 0
        self.begin_scale(0, (0, 0), 0)

    def begin_scale(self, index: int, size: tuple, budget: int) -> None:
        # Losses at different scales are not comparable, so the best image is tracked per scale.
        self.scale, self.size, self.budget, self.used = index, tuple(size), int(budget), 0
        self.best_total, self.best_image = math.inf, None

    def check_budget(self) -> None:
        if self.used >= self.budget:
            raise _BudgetSpent

    def record(self, total: float, terms: dict, pixels: np.ndarray) -> None:
        """Log one evaluation of ``pixels`` (float32 (h, w, 3), not modified afterwards by the caller)."""
        self.used += 1
        self.evaluations += 1
        losses = {"total": total, **{name: value for name, value in terms.items() if name != "total"}}
        for name, value in losses.items():
            self.history.setdefault(name, []).append(value)
        if total < self.best_total:  # NaN never wins
            self.best_total, self.best_image = total, pixels
        if self.callback is not None:
            iterate = Iterate(step=self.evaluations, scale=self.scale, size=self.size, losses=losses,
                              elapsed=time.perf_counter() - self.start,
                              _render=lambda: self.render(pixels.copy()))
            if self.callback(iterate) is False:
                raise StopRequested


def _sum_terms(terms: dict):
    import tensorflow as tf

    return tf.add_n([tf.convert_to_tensor(value, tf.float32) for value in terms.values()])


class LossAndGradient:
    """Loss and gradient of ``loss_terms`` in ONE ``tf.function``, shared by every scale of a run.

    .. math:: f(x) = \\sum_t \\ell_t(x), \\qquad \\nabla f(x) \\text{ by reverse-mode autodiff}

    The value and the gradient come out of one graph (one forward and one backward pass). The style
    targets are arguments, not constants baked into the graph. Each image size gets its own trace, with
    static shapes, and AutoGraph is off (the code has no tensor-dependent Python control flow, and
    AutoGraph's source transformation cost more than the trace itself). Static shapes also let
    ``W2Loss`` choose its cheaper path in Python; one trace relaxed to every size
    (``reduce_retracing``) was slower to build, most of it the gradient of W2Loss's ``tf.cond``
    (``benchmarks/README.md``).

    Parameters
    ----------
    loss_terms : callable
        TensorFlow function ``(image (1, h, w, 3) float32, targets) -> dict of str to scalar tensors``.
    """

    def __init__(self, loss_terms: Callable):
        import tensorflow as tf

        def value_and_gradient(image, targets):
            with tf.GradientTape() as tape:
                tape.watch(image)
                terms = loss_terms(image, targets)
                total = _sum_terms(terms)
            return total, tape.gradient(total, image), terms

        self._graph = tf.function(value_and_gradient, autograph=False)
        self._loss_terms = loss_terms
        self._adam = {}  # image shape -> (variable, optimizer, traced step)

    def adam(self, shape: tuple, learning_rate: float):
        """The Adam step for images of ``shape`` (h, w, 3): ``(variable, step)``, where ``step(targets)``
        evaluates the loss at ``variable``, updates and clips it, and returns ``(total, terms, evaluated)``.

        Built and traced once per shape and kept: a later run of the same shape resets the optimiser's
        state (step count, moments) and reuses the trace.
        """
        import keras
        import tensorflow as tf

        key = tuple(int(n) for n in shape)
        if key not in self._adam:
            variable = tf.Variable(tf.zeros((1, *key), tf.float32))
            optimizer = keras.optimizers.Adam(learning_rate=float(learning_rate))
            loss_terms = self._loss_terms

            @tf.function(autograph=False)  # as the loss: no tensor-dependent Python control flow
            def step(targets):
                with tf.GradientTape() as tape:
                    terms = loss_terms(variable, targets)
                    total = _sum_terms(terms)
                gradient = tape.gradient(total, variable)
                evaluated = tf.identity(variable)  # the image the loss was measured on, before the update
                optimizer.apply_gradients([(gradient, variable)])
                variable.assign(tf.clip_by_value(variable, 0.0, 1.0))
                return total, terms, evaluated

            self._adam[key] = (variable, optimizer, step)
        variable, optimizer, step = self._adam[key]
        for state in optimizer.variables:  # a fresh start: no step taken, no moments
            if state.name == "learning_rate":
                state.assign(float(learning_rate))
            else:
                state.assign(tf.zeros_like(state))
        return variable, step

    def float64(self, shape: tuple, targets=None) -> Callable:
        """``x (h*w*3,) float64 -> (total float, gradient (h*w*3,) float64, terms dict of str to float)``,
        the form SciPy's L-BFGS-B wants; only the float64 <-> float32 casts happen in NumPy."""
        import tensorflow as tf

        def evaluate(x):
            image = tf.constant(np.asarray(x, np.float32).reshape((1, *shape)))
            total, grad, terms = self._graph(image, targets)
            return (float(total), grad.numpy().astype(np.float64).ravel(),
                    {name: float(value) for name, value in terms.items()})

        return evaluate


def float64_objective(loss_terms: Callable, shape: tuple, targets=None) -> Callable:
    """``LossAndGradient(loss_terms).float64(shape, targets)``: the L-BFGS wrapper for one image shape.

    Parameters
    ----------
    loss_terms : callable
        ``(image (1, h, w, 3) float32 tensor, targets) -> dict of str to scalar tensors``.
    shape : tuple of int
        ``(h, w, 3)``.
    targets : nested structure of tf.Tensor, optional
        Passed to ``loss_terms`` unchanged.
    """
    return LossAndGradient(loss_terms).float64(shape, targets)


def run_lbfgs(objective: LossAndGradient, targets, x0: np.ndarray, tracker: Tracker, *,
              first_step: float = 1.0) -> None:
    r"""Minimise over the pixels with SciPy's L-BFGS-B, bounds [0, 1], until the scale's budget is spent.

    If L-BFGS-B stops early (converged, or a line search failed) with budget left, it restarts from the
    best image once more; a restart that does not improve ends the scale. The best image is left in
    ``tracker.best_image``.

    **A bounded first step.** With every pixel boxed in [0, 1], L-BFGS-B's first trial point is the
    projected gradient step :math:`P(x_0 - g_0)`: in pixel units it moves a pixel by its gradient, which
    for a raw loss is far more than 1 (the whole picture was clipped to 0 or 1 and the loss jumped 7-500x
    at the start of every scale), and for a normalised one can be tiny. So the optimiser works on
    :math:`u = x / s` with :math:`s^2 = \delta / \max_i |g_{0,i}|` (over the pixels free to move),
    :math:`\delta` = ``first_step``: its first step :math:`\Delta u = -s g_0` is
    :math:`\Delta x = -s^2 g_0`, so the pixel with the largest gradient moves by exactly :math:`\delta`
    and no other by more (the same bound as Adam's first step with learning rate :math:`\delta`).
    Afterwards L-BFGS is unchanged by a uniform scaling of its variables (its curvature pairs rescale;
    no tolerance is used).
    """
    from ._lbfgsb import minimize_box

    shape = x0.shape
    evaluate = objective.float64(shape, targets)
    delta = float(first_step)
    if not (np.isfinite(delta) and delta > 0):
        raise ValueError(f"first_step must be a positive number of pixel units, got {first_step!r}.")

    def measure(x):
        tracker.check_budget()
        pixels = x.reshape(shape).astype(np.float32)  # a copy: SciPy reuses its buffer
        total, grad, terms = evaluate(pixels)
        tracker.record(total, terms, pixels)
        return total, grad

    x = np.asarray(x0, np.float64).ravel()
    try:
        total, grad = measure(x)
    except _BudgetSpent:
        return
    free = ~(((x <= 0.0) & (grad > 0)) | ((x >= 1.0) & (grad < 0)))  # pixels the first step can move
    largest = float(np.max(np.abs(grad[free]), initial=0.0))
    scale = np.sqrt(delta / largest) if np.isfinite(largest) and largest > 0 else 1.0
    cached = {"u": x / scale, "value": (total, scale * grad)}  # L-BFGS-B starts by asking for x0 again

    def fun(u):
        if cached and np.array_equal(u, cached["u"]):  # the start, already measured: answer it once
            value = cached["value"]
            cached.clear()
            return value
        value, g = measure(scale * u)
        return value, scale * g

    x = x / scale
    # SciPy's minimize converts bounds in Python loops over the variables (1.6 s per call at 256 px);
    # minimize_box drives the same L-BFGS-B routine with NumPy bounds (ot_style.engine._lbfgsb).
    while tracker.used < tracker.budget:
        best_before = tracker.best_total
        left = tracker.budget - tracker.used
        try:
            # No tolerance stops: the budget does. SciPy's defaults (gtol 1e-5 on the largest gradient
            # entry) are absolute, and a normalised loss's pixel gradients are far below them.
            minimize_box(fun, x, 0.0, 1.0 / scale, maxiter=left, maxfun=left, gtol=0.0, ftol=0.0)
        except _BudgetSpent:
            return
        if not tracker.best_total < best_before or tracker.best_image is None:
            return
        x = tracker.best_image.astype(np.float64).ravel() / scale


def run_adam(objective, targets, x0: np.ndarray, tracker: Tracker, *,
             learning_rate: float, evaluate: Callable | None = None) -> None:
    """Minimise with Adam (Kingma and Ba 2015) on a ``tf.Variable``, clipped to [0, 1] after each step.

    .. math:: x \\leftarrow \\operatorname{clip}_{[0,1]}\\big(x - \\eta\\, \\hat m / (\\sqrt{\\hat v}
              + \\epsilon)\\big)

    The update moves every pixel by about ``learning_rate`` per step at first (Adam normalises the
    gradient), so 0.01-0.05 suits images in [0, 1] whatever the loss's scale. One step is one
    ``tf.function`` call: loss, gradient, update and clipping in one graph, traced once per image shape
    and kept by ``objective`` (a :class:`LossAndGradient`, or a ``loss_terms`` function, wrapped anew).
    With ``evaluate``
    (``(image (h, w, 3), targets) -> (total, gradient, terms)``, the exact tiled evaluation of
    :mod:`ot_style.engine.tiled`) the loss and gradient come from it and only the update runs in TensorFlow.
    """
    import keras
    import tensorflow as tf

    if evaluate is not None:
        variable = tf.Variable(np.asarray(x0, np.float32)[None])
        optimizer = keras.optimizers.Adam(learning_rate=float(learning_rate))
        while tracker.used < tracker.budget:
            evaluated = variable.numpy()[0]
            total, gradient, terms = evaluate(evaluated, targets)
            optimizer.apply_gradients([(tf.constant(gradient[None], tf.float32), variable)])
            variable.assign(tf.clip_by_value(variable, 0.0, 1.0))
            tracker.record(float(total), dict(terms), evaluated)
        return
    if not isinstance(objective, LossAndGradient):
        objective = LossAndGradient(objective)
    variable, step = objective.adam(np.shape(x0), learning_rate)
    variable.assign(np.asarray(x0, np.float32)[None])
    while tracker.used < tracker.budget:
        total, terms, evaluated = step(targets)
        tracker.record(float(total), {name: float(value) for name, value in terms.items()},
                       evaluated.numpy()[0])
