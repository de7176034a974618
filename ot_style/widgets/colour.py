"""Widgets of notebook 06: colour transfer, colour clouds, style mixing, texture synthesis, masks.

Everything a widget shows is computed by a plain function or class here, so the tests (and the
notebook's assert cells, which run headless and never fire a callback) call the same code a slider
calls: :class:`ColourTransferExplorer` (transfer both ways, the sliced W2 per iteration and how many
iterations raised it, the 3-D colour clouds), :func:`colour_mixing` (the W2 barycentre of two
palettes against the averaged moments and the averaged Gram matrix) and :class:`TextureMixer` (texture synthesis from the barycentre
target of two styles). The masks of the guided example are :func:`ot_style.pixels.masks.sky_ground_masks`.
ipywidgets and matplotlib are imported only inside the functions that build widgets or figures.

Explained in ``notebooks/06_colour_texture_and_mixing.ipynb``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..maths.gaussian import gaussian_barycenter, gaussian_w2
from ..maths.moments import Moments
from ..pixels.colour import (colour_moments, colour_pixels, colour_sliced_w2, iterate_sliced_transfer,
                             transfer_gaussian, transfer_to_gaussian)
from ..pixels.images import read_image

__all__ = ["load_picture", "subsample_colours", "colour_clouds_figure", "ColourTransferExplorer",
           "MixingComparison", "mix_gaussians", "colour_mixing", "TextureMixer",
           "colour_transfer_widget", "colour_mixing_widget", "texture_mixing_widget", "mixing_table_html",
           "texture_mixing_caption"]


def load_picture(source, max_size: int = 128) -> np.ndarray:
    """An image from an array, a path or a bundled asset name, long side at most ``max_size``
    (:func:`ot_style.pixels.images.read_image`)."""
    return read_image(source, max_size=max_size)


def subsample_colours(image, n_points: int = 1500, *, seed: int = 0) -> np.ndarray:
    """At most ``n_points`` pixel colours drawn without replacement (seeded), for a scatter plot.

    Returns
    -------
    ndarray, shape (min(n_points, h*w), 3), float64
    """
    pixels = colour_pixels(image)
    if pixels.shape[0] <= n_points:
        return pixels
    rng = np.random.default_rng(seed)
    return pixels[rng.choice(pixels.shape[0], n_points, replace=False)]


def colour_clouds_figure(panels, *, n_points: int = 1500, seed: int = 0, images: bool = True):
    """Each image above its colour cloud in RGB space (3-D scatter, each point drawn in its colour).

    Parameters
    ----------
    panels : sequence of (str, array_like (h, w, 3))
        Titles and images, one column each.
    n_points : int
        Pixels drawn per cloud (the same seed for every image, so clouds compare like with like).
    images : bool
        Draw the images in a first row.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..plotting import new_figure

    panels = list(panels)
    rows = 2 if images else 1
    fig = new_figure(3.0 * len(panels), 3.0 * rows)
    for column, (title, image) in enumerate(panels):
        if images:
            ax = fig.add_subplot(rows, len(panels), column + 1)
            ax.imshow(np.clip(np.asarray(image, dtype=np.float32), 0, 1))
            ax.set_title(title, fontsize=9)
            ax.set_axis_off()
        ax = fig.add_subplot(rows, len(panels), column + 1 + (len(panels) if images else 0), projection="3d")
        points = subsample_colours(image, n_points, seed=seed)
        ax.scatter(points[:, 0], points[:, 1], points[:, 2], c=np.clip(points, 0, 1), s=2, depthshade=False)
        ax.set(xlim=(0, 1), ylim=(0, 1), zlim=(0, 1), xticks=[0, 0.5, 1], yticks=[0, 0.5, 1], zticks=[0, 0.5, 1])
        ax.set_xlabel("R", labelpad=-6)
        ax.set_ylabel("G", labelpad=-6)
        ax.set_zlabel("B", labelpad=-6)
        ax.tick_params(labelsize=6, pad=-2)
        # a 3-D box fills its whole cell, so its axis labels fall outside and the next cell covers them:
        # shrink the box a little so that R, G and B stay inside
        ax.set_box_aspect(None, zoom=0.9)
        if not images:
            ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


class ColourTransferExplorer:
    """Colour transfer between two images, either way, at any number of sliced iterations.

    ``direction`` 0 recolours the first image with the second's colours, 1 the other way round.
    Iterates of :func:`ot_style.pixels.colour.iterate_sliced_transfer` are cached, so moving the slider back
    and forth costs nothing; the sliced W2 (:func:`ot_style.pixels.colour.colour_sliced_w2`, fixed seed) is
    measured after each iteration.

    Parameters
    ----------
    first, second : array_like, shape (h, w, 3)
    seed : int
        Seeds the random rotations.
    n_projections : int
        Directions of the sliced W2 yardstick.
    """

    def __init__(self, first, second, *, seed: int = 0, n_projections: int = 200):
        self.images = (np.asarray(first, dtype=np.float32), np.asarray(second, dtype=np.float32))
        for image in self.images:
            colour_pixels(image)  # refuse bad images now, not inside a slider callback
        self.seed = seed
        self.n_projections = n_projections
        self._iterates = {0: [], 1: []}
        self._steps = {}
        self._distances = {0: [], 1: []}

    def _pair(self, direction: int):
        if direction not in (0, 1):
            raise ValueError(f"direction must be 0 (first -> second) or 1 (second -> first), not {direction!r}.")
        return (self.images[0], self.images[1]) if direction == 0 else (self.images[1], self.images[0])

    def sliced(self, iterations: int, direction: int = 0) -> np.ndarray:
        """The content recoloured by ``iterations`` sliced iterations, clipped to [0, 1], float32."""
        content, style = self._pair(direction)
        if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 0:
            raise ValueError(f"iterations must be a whole number >= 0; got {iterations!r}.")
        if iterations == 0:
            return content.copy()
        cache = self._iterates[direction]
        if direction not in self._steps:
            self._steps[direction] = iterate_sliced_transfer(content, style, seed=self.seed)
        while len(cache) < iterations:
            cache.append(next(self._steps[direction]))
        return np.clip(cache[iterations - 1], 0, 1).reshape(content.shape).astype(np.float32)

    def gaussian(self, direction: int = 0) -> np.ndarray:
        """The Gaussian (Monge map) transfer, unclipped, so its colour moments are exactly the style's."""
        content, style = self._pair(direction)
        return transfer_gaussian(content, style)

    def sliced_w2_curve(self, iterations: int, direction: int = 0) -> np.ndarray:
        """Sliced W2 to the style's colours after 0, 1, ..., ``iterations`` iterations (float64)."""
        _, style = self._pair(direction)
        distances = self._distances[direction]
        while len(distances) <= iterations:
            recoloured = self.sliced(len(distances), direction)
            distances.append(colour_sliced_w2(recoloured, style, n_projections=self.n_projections, seed=1))
        return np.array(distances[: iterations + 1])

    def sliced_w2_rises(self, iterations: int, direction: int = 0) -> int:
        """How many of the first ``iterations`` iterations raised the sliced W2 instead of lowering it.

        Pitie's loop lowers the distance on average, not at every iteration: each rotation matches the
        1-D distributions along its own three axes exactly, while the yardstick looks along others
        (notebook 06 counts the rises).
        """
        return int(np.sum(np.diff(self.sliced_w2_curve(iterations, direction)) > 0))

    def figure(self, iterations: int, direction: int = 0, *, n_points: int = 1500):
        """Content, style, sliced result and Gaussian result with their colour clouds."""
        content, style = self._pair(direction)
        return colour_clouds_figure(
            [("content", content), ("style", style), (f"sliced, {iterations} it.", self.sliced(iterations, direction)),
             ("Gaussian map", np.clip(self.gaussian(direction), 0, 1))], n_points=n_points, seed=self.seed)


@dataclass(frozen=True)
class MixingComparison:
    """Three ways to mix two Gaussians with weights ``(1 - t, t)``, and their W2 to each one.

    Attributes
    ----------
    t : float
    barycentre, averaged_moments, averaged_gram : Moments
        The W2 barycentre; the average of the means and of the covariances; the Gaussian whose Gram
        matrix :math:`\\Sigma + \\mu\\mu^T` is the average of the two Gram matrices (what a Gram-based
        tool mixes), with the averaged mean.
    distance_between : float
        :math:`W_2(A, B)`.
    distances : dict of str to (float, float)
        For each mix, its W2 to A and to B. Only the barycentre gives ``(t W, (1 - t) W)``.
    """

    t: float
    barycentre: Moments
    averaged_moments: Moments
    averaged_gram: Moments
    distance_between: float
    distances: dict


def mix_gaussians(first: Moments, second: Moments, t: float) -> MixingComparison:
    """Compare the barycentre with averaged moments and averaged Gram matrices (see :class:`MixingComparison`)."""
    if not 0.0 <= float(t) <= 1.0:
        raise ValueError(f"The mixing weight t must lie between 0 and 1; got {t!r}.")
    w = np.array([1.0 - t, t])
    means = np.stack([first.mean, second.mean])
    covs = np.stack([first.cov, second.cov])
    bary = gaussian_barycenter(means, covs, w)
    mean = w @ means
    averaged = Moments(mean, np.einsum("i,ijk->jk", w, covs))
    grams = covs + np.einsum("ij,ik->ijk", means, means)
    gram_cov = np.einsum("i,ijk->jk", w, grams) - np.outer(mean, mean)
    averaged_gram = Moments(mean, 0.5 * (gram_cov + gram_cov.T))
    distances = {name: (gaussian_w2(g.mean, g.cov, first.mean, first.cov),
                        gaussian_w2(g.mean, g.cov, second.mean, second.cov))
                 for name, g in (("barycentre", bary), ("averaged moments", averaged),
                                 ("averaged Gram", averaged_gram))}
    return MixingComparison(float(t), bary, averaged, averaged_gram,
                            gaussian_w2(first.mean, first.cov, second.mean, second.cov), distances)


def colour_mixing(content, first_style, second_style, t: float):
    """Recolour ``content`` towards the W2 barycentre of two styles' colour Gaussians.

    Returns
    -------
    (ndarray (h, w, 3) float32, MixingComparison)
        The recoloured content (unclipped) and the comparison of the three mixes of the palettes.
    """
    comparison = mix_gaussians(colour_moments(first_style), colour_moments(second_style), t)
    return transfer_to_gaussian(content, *comparison.barycentre), comparison


class TextureMixer:
    """Texture synthesis from the W2 barycentre of two styles (``stylize`` with ``style_weights``).

    Results are cached per mixing weight, so a slider that comes back to a value shows it at once.

    Parameters
    ----------
    first, second : array_like, shape (h, w, 3)
    size, steps, weights, seed, config, extractor
        Passed to :func:`ot_style.stylize` (None: from the config).
    """

    def __init__(self, first, second, *, size=None, steps=None, weights=None, seed=None, config=None,
                 extractor=None):
        self.styles = [np.asarray(first, dtype=np.float32), np.asarray(second, dtype=np.float32)]
        self.options = dict(size=size, steps=steps, weights=weights, seed=seed, config=config,
                            extractor=extractor)
        self._results = {}

    def texture(self, t: float):
        """The :class:`ot_style.StyleResult` of a texture whose target is the barycentre at weight ``t``."""
        from ..engine.synthesis import stylize

        key = round(float(t), 6)
        if not 0.0 <= key <= 1.0:
            raise ValueError(f"The mixing weight t must lie between 0 and 1; got {t!r}.")
        if key not in self._results:
            self._results[key] = stylize(None, self.styles, loss="w2", style_weights=[1.0 - key, key],
                                         **self.options)
        return self._results[key]


def mixing_table_html(comparison: MixingComparison) -> str:
    """The W2 of each mix to the two styles as an HTML table with padded, right-aligned cells."""
    cell = "padding: 2px 12px; text-align: right; border-bottom: 1px solid #ddd"
    first = "padding: 2px 12px; text-align: left; border-bottom: 1px solid #ddd"
    head = (f"<tr><th style='{first}'>mix</th><th style='{cell}'>W2 to the first style</th>"
            f"<th style='{cell}'>W2 to the second style</th></tr>")
    rows = "".join(f"<tr><td style='{first}'>{name}</td><td style='{cell}'>{a:.4f}</td>"
                   f"<td style='{cell}'>{b:.4f}</td></tr>" for name, (a, b) in comparison.distances.items())
    return (f"<table style='border-collapse: collapse'>{head}{rows}</table>"
            f"<p>W2 between the two palettes: {comparison.distance_between:.4f}</p>")


# --- ipywidgets front ends (thin: every number they show comes from the functions above) ---------

def colour_transfer_widget(first="houses.png", second="swirls.png", *, max_size: int = 96,
                           max_iterations: int = 20, seed: int = 0, n_projections: int = 200,
                           n_points: int = 1000, explorer: ColourTransferExplorer | None = None):
    """Direction toggle + iterations slider; shows the images and their colour clouds.

    Pass an ``explorer`` to share its cached iterates and distances with the notebook's own cells
    (``first``, ``second``, ``seed`` and ``n_projections`` are then ignored).
    """
    import ipywidgets as widgets

    from ..plotting import figure_png

    if explorer is None:
        explorer = ColourTransferExplorer(load_picture(first, max_size), load_picture(second, max_size),
                                          seed=seed, n_projections=n_projections)
    direction = widgets.ToggleButtons(options=[("first -> second", 0), ("second -> first", 1)], value=0,
                                      description="Direction")
    iterations = widgets.IntSlider(value=5, min=0, max=max_iterations, description="Iterations")
    label = widgets.HTML()
    picture = widgets.Image(format="png")

    def update(_=None):
        curve = explorer.sliced_w2_curve(iterations.value, direction.value)
        rises = explorer.sliced_w2_rises(iterations.value, direction.value)
        label.value = (f"sliced W2 to the style's colours: {curve[0]:.4f} before, {curve[-1]:.4f} after "
                       f"{iterations.value} iterations ({100 * (1 - curve[-1] / curve[0]):.1f}% lower; "
                       f"{rises} of them raised it)")
        picture.value = figure_png(explorer.figure(iterations.value, direction.value, n_points=n_points))

    direction.observe(update, names="value")
    iterations.observe(update, names="value")
    update()
    box = widgets.VBox([widgets.HBox([direction, iterations]), label, picture])
    box.explorer = explorer
    return box


def colour_mixing_widget(content="houses.png", first="swirls.png", second="glyph_rain.png", *,
                         max_size: int = 96):
    """A mixing slider: the content recoloured towards the barycentre of two palettes."""
    import ipywidgets as widgets

    from ..plotting import figure_png

    images = [load_picture(source, max_size) for source in (content, first, second)]
    slider = widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="Mix t")
    label = widgets.HTML()
    picture = widgets.Image(format="png")

    def update(_=None):
        recoloured, comparison = colour_mixing(*images, slider.value)
        label.value = mixing_table_html(comparison)
        picture.value = figure_png(colour_clouds_figure(
            [("first style", images[1]), (f"mix t={slider.value:.2f}", np.clip(recoloured, 0, 1)),
             ("second style", images[2])]))

    slider.observe(update, names="value")
    update()
    return widgets.VBox([slider, label, picture])


def texture_mixing_caption(t: float) -> str:
    """The caption under the mixed texture at weight ``t`` (HTML)."""
    return (f"<b>Texture mixed at t = {t:.2f}</b>: synthesised from noise; the target at every layer is the W2 "
            f"barycentre of the two styles' Gaussians, weight {1 - t:.2f} on the first, {t:.2f} on the second.")


def texture_mixing_widget(mixer: TextureMixer, *, values=(0.0, 0.25, 0.5, 0.75, 1.0), width: int = 288):
    """A slider over a few mixing weights; each texture is synthesised on first view, then cached.

    The texture is shown ``width`` pixels wide (not stretched to the notebook's width), with a caption.
    """
    import ipywidgets as widgets

    from ..plotting import png_bytes

    slider = widgets.SelectionSlider(options=list(values), value=values[len(values) // 2], description="Mix t")
    picture = widgets.Image(format="png", layout=widgets.Layout(width=f"{int(width)}px"))
    caption = widgets.HTML(layout=widgets.Layout(width=f"{max(int(width), 420)}px"))

    def update(_=None):
        picture.value = png_bytes(mixer.texture(slider.value).image)
        caption.value = texture_mixing_caption(slider.value)

    slider.observe(update, names="value")
    update()
    box = widgets.VBox([slider, picture, caption])
    box.picture, box.caption = picture, caption
    return box
