"""Notebook 00 (``00_the_course_and_a_picture_as_features``): a picture becoming a cloud of features.

The activations of each layer, reshaped to ``n x c`` (the paper's section 2), a table of ``n``, ``c`` and
the rank of eq. 1's covariance per layer and picture size, histograms of ReLU features against the
Gaussian with their mean and variance, and an explorer: a layer menu and two channel sliders that show
one channel's activation map, its histogram, and the cloud of two channels with the Gaussian's ellipse.

The mathematics is in :mod:`ot_style.maths.feature_stats` and :mod:`ot_style.maths.moments`; this module
draws. :class:`FeatureCloud` is the model the controls call, testable without a browser. Structure a
browser test can find: the dropdown ``Layer``, the sliders ``Channel`` and ``Second channel``, the
picture in ``img.ot-style-plot`` and the numbers in an HTML widget with class ``ot-style-numbers``
(``data-quantity="samples"``, ``"channels"``, ``"rank"``, ``"zero_fraction"``, ``"skewness"``, ...).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from .. import plotting
from ..maths.feature_stats import (covariance_rank, dead_channels, rank_bound, value_statistics,
                                   w2_to_fitted_gaussian)
from ..maths.moments import feature_moments
from ._ui import UI as _UI
from ._ui import numbers_html as _numbers_html

__all__ = ["activations", "LayerRow", "layer_row", "layer_table_html", "typical_channels", "activation_maps_figure",
           "draw_histogram", "histograms_figure", "FeatureCloud", "FeatureCloudUI", "feature_cloud_explorer"]

_SCATTER_POINTS = 3000  # the scatter draws at most this many samples (a seeded subset)
_BLAS = None  # threadpoolctl.ThreadpoolController, made on first use (it scans the loaded libraries)


@contextlib.contextmanager
def _one_blas_thread():
    # The ranks of c x c covariances (c <= 512) on one BLAS thread: after a forward pass, BLAS's default
    # threads competed with TensorFlow's thread pool on a 2-core machine and the table took several times
    # longer (ot_style.losses keeps its host work on one thread for the same reason).
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()
    with _BLAS.limit(limits=1, user_api="blas"):
        yield


def activations(extractor, image) -> dict:
    """One picture through a :class:`~ot_style.network.vgg.FeatureExtractor`, as NumPy arrays.

    Parameters
    ----------
    extractor : FeatureExtractor
    image : ndarray, shape (h, w, 3), float in [0, 1]

    Returns
    -------
    dict of str to ndarray, shape (h', w', c), float32
        One activation array per layer of ``extractor`` (the batch axis removed).
    """
    out = extractor(np.asarray(image, dtype=np.float32)[None])
    return {name: np.asarray(value)[0] for name, value in out.items()}


@dataclass(frozen=True)
class LayerRow:
    """One row of notebook 00's table: a layer's feature cloud for a picture of one size.

    Attributes
    ----------
    size : int
        Long side of the picture in pixels (a scale of the demo: 64, 128 or 256).
    layer : str
    height, width : int
        Spatial size ``h', w'`` of the activations.
    channels : int
        ``c``.
    samples : int
        ``n = h' w'``, the number of feature vectors.
    rank : int
        Numerical rank of eq. 1's covariance (:func:`~ot_style.maths.feature_stats.covariance_rank`).
    bound : int
        ``min(n - 1, c)`` (:func:`~ot_style.maths.feature_stats.rank_bound`).
    dead : int
        Channels that are 0 at every sample.
    """

    size: int
    layer: str
    height: int
    width: int
    channels: int
    samples: int
    rank: int
    bound: int
    dead: int

    @property
    def singular(self) -> bool:
        """Whether the covariance is rank-deficient (rank below ``c``): a flat Gaussian."""
        return self.rank < self.channels


def layer_row(layer: str, activation, size: int) -> LayerRow:
    """The :class:`LayerRow` of ``activation`` (shape ``(h', w', c)``) at ``layer`` for a ``size`` px picture."""
    a = np.asarray(activation)
    if a.ndim != 3:
        raise ValueError(f"An activation must have shape (h, w, c), not {a.shape}.")
    h, w, c = a.shape
    features = a.reshape(h * w, c)
    with _one_blas_thread():
        rank = covariance_rank(features)
    return LayerRow(int(size), layer, h, w, c, h * w, rank, rank_bound(h * w, c),
                    int(np.count_nonzero(dead_channels(features))))


def _verdict(row: LayerRow) -> str:
    if not row.singular:
        return "full rank"
    if row.samples - 1 < row.channels:
        return "<b>singular</b>: n - 1 < c"
    return "<b>singular</b>: dead channels" if row.dead else "<b>singular</b>"


def layer_table_html(rows) -> str:
    """The rows as an HTML table (class ``ot-style-feature-table``; ``<td data-rank="relu5_1-256">``)."""
    head = ("<tr><th>picture</th><th>layer</th><th>activation h' x w' x c</th><th>n = h'w'</th><th>c</th>"
            "<th>min(n-1, c)</th><th>rank Σ</th><th>dead channels</th><th>Σ</th></tr>")
    body = "".join(
        f"<tr><td>{r.size} px</td><td>{r.layer}</td><td>{r.height} x {r.width} x {r.channels}</td>"
        f"<td>{r.samples:,}</td><td>{r.channels}</td><td>{r.bound}</td>"
        f'<td data-rank="{r.layer}-{r.size}">{r.rank}</td><td>{r.dead}</td>'
        f"<td>{_verdict(r)}</td></tr>" for r in rows)
    style = ("<style>.ot-style-feature-table td, .ot-style-feature-table th {padding: 2px 10px; "
             "text-align: right}</style>")
    return f'{style}<table class="ot-style-feature-table">{head}{body}</table>'


def typical_channels(features, k: int = 2) -> list[int]:
    """The ``k`` live channels (not always 0) whose skewness is closest to the median skewness of the live
    channels: a typical channel, not the most striking one. All channels if every one is dead."""
    f = np.asarray(features, dtype=np.float64)
    live = np.flatnonzero(~dead_channels(f) & (np.ptp(f, axis=0) > 0))
    if live.size == 0:
        return list(range(min(k, f.shape[1]))) or [0]
    skew = value_statistics(f[:, live]).skewness
    order = np.argsort(np.abs(skew - np.median(skew)), kind="stable")
    return [int(live[i]) for i in order[:k]]


def _samples(activation) -> np.ndarray:
    a = np.asarray(activation, dtype=np.float64)
    return a.reshape(-1, a.shape[-1])


def activation_maps_figure(image, acts: dict, layers=None):
    """The picture and, for each layer, the activation map of a typical channel (:func:`typical_channels`).

    Each title gives the activation's shape ``h' x w' x c`` and the shape ``n x c`` of its feature
    matrix. Notebook 00.
    """
    layers = tuple(acts) if layers is None else tuple(layers)
    fig = plotting.new_figure(2.1 * (len(layers) + 1), 2.9)
    axes = np.atleast_1d(fig.subplots(1, len(layers) + 1))
    image = np.asarray(image)
    axes[0].imshow(np.clip(image, 0, 1))
    axes[0].set_title(f"picture\n{image.shape[0]} x {image.shape[1]} x 3", fontsize=9)
    for ax, name in zip(axes[1:], layers):
        a = np.asarray(acts[name])
        h, w, c = a.shape
        channel = typical_channels(a.reshape(h * w, c), 1)[0]
        ax.imshow(a[:, :, channel], cmap="magma", interpolation="nearest")
        ax.set_title(f"{name}, channel {channel}\n{h} x {w} x {c} -> F: {h * w} x {c}", fontsize=8)
    for ax in axes:
        ax.set(xticks=[], yticks=[])
    fig.tight_layout()
    return fig


def draw_histogram(ax, values, title: str = "") -> None:
    """Histogram of one channel's values against the Gaussian with their mean and variance (eq. 1).

    The exact zeros are drawn apart, as a spike whose label gives their fraction (a density cannot show an
    atom); the bars of the positive values have area ``1 - zero fraction``. The Gaussian's mass below 0,
    which a ReLU feature never takes, is shaded.
    """
    from scipy.stats import norm

    x = np.asarray(values, dtype=np.float64).ravel()
    s = value_statistics(x)
    positive = x[x > 0]
    top = 1.0
    if positive.size:
        counts, edges = np.histogram(positive, bins=40)
        density = counts / (x.size * np.diff(edges))
        ax.bar(edges[:-1], density, width=np.diff(edges), align="edge", color="tab:blue", alpha=0.6,
               label="feature values > 0")
        top = float(density.max())
    spread = s.std if s.std > 0 else 1.0
    grid = np.linspace(min(s.mean - 3.5 * spread, 0.0), max(s.mean + 3.5 * spread, x.max()), 400)
    pdf = norm.pdf(grid, s.mean, spread)
    ax.plot(grid, pdf, color="tab:red", lw=1.5, label="Gaussian, same mean and variance")
    ax.fill_between(grid, pdf, where=grid < 0, color="tab:red", alpha=0.2,
                    label=f"its mass below 0: {s.gaussian_negative_mass:.0%}")
    top = max(top, float(pdf.max()))
    ax.vlines(0.0, 0.0, 1.15 * top, color="black", lw=3)
    ax.annotate(f"spike: {s.zero_fraction:.0%}\nexactly 0", (0.0, 1.15 * top), xytext=(-5, 0),
                textcoords="offset points", fontsize=8, va="top", ha="right")
    ax.set_ylim(0, 1.6 * top)
    ax.set_xlabel("feature value")
    ax.set(yticks=[], ylabel="density")
    ax.legend(fontsize=7, loc="upper right", framealpha=0.9)
    if title:
        ax.set_title(f"{title}\nskewness {s.skewness:.2f}, excess kurtosis {s.excess_kurtosis:.2f}", fontsize=9)


def histograms_figure(acts: dict, layers=None):
    """One :func:`draw_histogram` per layer, of a typical channel (:func:`typical_channels`). Notebook 00."""
    layers = tuple(acts) if layers is None else tuple(layers)
    fig = plotting.new_figure(4.0 * len(layers), 3.4)
    axes = np.atleast_1d(fig.subplots(1, len(layers)))
    for ax, name in zip(axes, layers):
        features = _samples(acts[name])
        channel = typical_channels(features, 1)[0]
        draw_histogram(ax, features[:, channel], f"{name}, channel {channel}")
    fig.tight_layout(w_pad=2.5)  # room between one panel's last x tick and the next panel
    return fig


class FeatureCloud:
    """The explorer's model: one picture's activations, a chosen layer and two chosen channels.

    The UI's controls call :meth:`select`; :meth:`numbers` and :meth:`figure` are what it shows.

    Parameters
    ----------
    acts : dict of str to ndarray, shape (h', w', c)
        Activations of one picture (:func:`activations`).
    layer : str, optional
        The first layer shown (default: the first of ``acts``).
    """

    def __init__(self, acts: dict, layer: str | None = None):
        if not acts:
            raise ValueError("The explorer needs the activations of at least one layer.")
        self.acts = {name: np.asarray(a) for name, a in acts.items()}
        for name, a in self.acts.items():
            if a.ndim != 3:
                raise ValueError(f"The activation of {name} must have shape (h, w, c), not {a.shape}.")
        self.layers = tuple(self.acts)
        self._ranks: dict = {}
        self.layer, self.channel, self.other = None, 0, 0
        self.select(layer or self.layers[0])

    def features(self, layer: str | None = None) -> np.ndarray:
        """The ``n x c`` feature matrix of ``layer`` (default: the chosen one), float64."""
        return _samples(self.acts[layer or self.layer])

    def default_channels(self, layer: str) -> tuple[int, int]:
        """Two typical channels of ``layer`` (:func:`typical_channels`; the same one twice if ``c = 1``)."""
        best = typical_channels(self.features(layer), 2)
        return best[0], best[-1]

    def select(self, layer: str | None = None, channel: int | None = None, other: int | None = None) -> None:
        """Choose a layer and/or channels. A new layer starts at two typical channels; a channel
        outside ``0 .. c-1`` raises ``ValueError``."""
        if layer is not None and layer != self.layer:
            if layer not in self.acts:
                raise ValueError(f"No activations for layer {layer!r}; there are: {', '.join(self.layers)}.")
            self.layer = layer
            self.channel, self.other = self.default_channels(layer)
        c = self.acts[self.layer].shape[-1]
        for value in (channel, other):
            if value is not None and not 0 <= int(value) < c:
                raise ValueError(f"Layer {self.layer} has channels 0 to {c - 1}; got {value}.")
        if channel is not None:
            self.channel = int(channel)
        if other is not None:
            self.other = int(other)
        if self.layer not in self._ranks:
            with _one_blas_thread():
                self._ranks[self.layer] = covariance_rank(self.features())

    def numbers(self) -> dict:
        """What the explorer shows for the chosen layer and channel.

        Keys: ``samples`` (n), ``channels`` (c), ``rank`` and ``bound`` (of eq. 1's Σ), ``zero_fraction``,
        ``minimum``, ``skewness``, ``excess_kurtosis``, ``gaussian_negative_mass`` and ``w2_to_gaussian``
        (1-D W2 to the fitted Gaussian, divided by the channel's standard deviation) of the chosen channel,
        and ``on_an_axis``: the fraction of samples where the first or the second channel is exactly 0.
        """
        f = self.features()
        x = f[:, self.channel]
        s = value_statistics(x)
        w2 = w2_to_fitted_gaussian(x) / s.std if s.std > 0 else 0.0
        on_axis = float(np.mean((x == 0) | (f[:, self.other] == 0)))
        return {"samples": f.shape[0], "channels": f.shape[1], "rank": self._ranks[self.layer],
                "bound": rank_bound(*f.shape), "zero_fraction": s.zero_fraction, "minimum": s.minimum,
                "skewness": s.skewness, "excess_kurtosis": s.excess_kurtosis,
                "gaussian_negative_mass": s.gaussian_negative_mass, "w2_to_gaussian": float(w2),
                "on_an_axis": on_axis}

    def figure(self):
        """Three panels: the channel's activation map, its histogram, and the two channels' cloud with the
        2-standard-deviation ellipse of the Gaussian of eq. 1 (its 2 x 2 block of μ and Σ)."""
        a, f = self.acts[self.layer], self.features()
        i, j = self.channel, self.other
        fig = plotting.new_figure(12.0, 3.6)
        ax_map, ax_hist, ax_cloud = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1.3, 1.1]})
        ax_map.imshow(a[:, :, i], cmap="magma", interpolation="nearest")
        ax_map.set_title(f"{self.layer}, channel {i}: {a.shape[0]} x {a.shape[1]} map", fontsize=9)
        ax_map.set(xticks=[], yticks=[])
        draw_histogram(ax_hist, f[:, i], f"channel {i}")
        rng = np.random.default_rng(0)
        shown = rng.choice(f.shape[0], _SCATTER_POINTS, replace=False) if f.shape[0] > _SCATTER_POINTS else slice(None)
        ax_cloud.scatter(f[shown, i], f[shown, j], s=4, alpha=0.35, color="tab:blue", label="feature vectors")
        moments = feature_moments(f[:, [i, j]])
        plotting.draw_ellipse(ax_cloud, moments.mean, moments.cov, 2.0, color="tab:red", label="Gaussian, 2 sd")
        ax_cloud.axhline(0, color="grey", lw=0.8)
        ax_cloud.axvline(0, color="grey", lw=0.8)
        lo = np.minimum(moments.mean - 2.2 * np.sqrt(np.diag(moments.cov)), 0.0)
        hi = np.maximum(moments.mean + 2.2 * np.sqrt(np.diag(moments.cov)), f[:, [i, j]].max(axis=0))
        ax_cloud.set_xlim(lo[0], hi[0] * 1.05 + 1e-9)
        ax_cloud.set_ylim(lo[1], hi[1] * 1.05 + 1e-9)
        ax_cloud.set(xlabel=f"channel {i}", ylabel=f"channel {j}")
        on_axis = np.mean((f[:, i] == 0) | (f[:, j] == 0))
        ax_cloud.set_title(f"two channels of the cloud: {on_axis:.0%} of the\nvectors lie on an axis (a zero)",
                           fontsize=9)
        ax_cloud.legend(fontsize=7, loc="upper right")
        fig.tight_layout()
        return fig


class FeatureCloudUI(_UI):
    """Dropdown ``Layer``, sliders ``Channel`` and ``Second channel``, the figure and the numbers."""

    def __init__(self, cloud: FeatureCloud):
        import ipywidgets as w

        self.cloud = cloud
        wide = {"description_width": "110px"}
        self.layer = w.Dropdown(description="Layer", options=cloud.layers, value=cloud.layer, style=wide)
        self.channel = w.IntSlider(description="Channel", min=0, max=1, style=wide, continuous_update=False)
        self.other = w.IntSlider(description="Second channel", min=0, max=1, style=wide, continuous_update=False)
        self.image = w.Image(format="png")
        self.image.add_class("ot-style-plot")
        self.numbers = w.HTML()
        self.numbers.add_class("ot-style-numbers")
        self._syncing = False
        self._sync_sliders()
        self.layer.observe(lambda change: self.show(layer=change["new"]), names="value")
        self.channel.observe(lambda change: self.show(channel=change["new"]), names="value")
        self.other.observe(lambda change: self.show(other=change["new"]), names="value")
        self.widget = w.VBox([w.HBox([self.layer, self.channel, self.other]), self.numbers, self.image])
        self.widget.add_class("ot-style-feature-cloud")
        self.update()

    def _sync_sliders(self) -> None:
        # Set values inside a guard: moving the maximum can clamp a value, which would call show() again.
        self._syncing = True
        try:
            top = self.cloud.acts[self.cloud.layer].shape[-1] - 1
            for slider, value in ((self.channel, self.cloud.channel), (self.other, self.cloud.other)):
                slider.value = 0
                slider.max = max(top, 1)
                slider.value = value
        finally:
            self._syncing = False

    def show(self, layer: str | None = None, channel: int | None = None, other: int | None = None) -> None:
        """What moving a control does: select in the model, bring the controls in line, redraw."""
        if self._syncing:
            return
        self.cloud.select(layer, channel, other)
        if layer is not None:
            self._sync_sliders()
        self.update()

    def update(self) -> None:
        """Redraw the figure and the numbers for the model's state."""
        n = self.cloud.numbers()
        self.numbers.value = (
            f"{self.cloud.layer}: n = {n['samples']:,} samples of c = {n['channels']} channels, "
            f'rank Σ = <b data-quantity="rank">{n["rank"]}</b> (at most min(n-1, c) = {n["bound"]})<br>'
            + _numbers_html([("zero_fraction", "fraction exactly 0", n["zero_fraction"]),
                             ("skewness", "skewness", n["skewness"]),
                             ("excess_kurtosis", "excess kurtosis", n["excess_kurtosis"])]) + "<br>"
            + _numbers_html([("gaussian_negative_mass", "Gaussian's mass below 0", n["gaussian_negative_mass"]),
                             ("w2_to_gaussian", "W2 to the Gaussian / sd", n["w2_to_gaussian"])]))
        self.image.value = plotting.figure_png(self.cloud.figure())


def feature_cloud_explorer(acts: dict, layer: str | None = None) -> FeatureCloudUI:
    """Notebook 00: a layer menu and two channel sliders over one picture's activations (:func:`activations`)."""
    return FeatureCloudUI(FeatureCloud(acts, layer))
