"""Exact and sliced optimal transport between samples, and what exact EMD would cost at image scale.

The paper replaces the exact Earth Mover's Distance between two feature clouds by the closed form
between their Gaussians (eq. 2). This module gives the learner the numbers behind that choice:

- :func:`emd_cost` reproduces the theory notebook's estimate for two 224x224 images at ``relu1_1``
  (644.5 GB for the pairwise difference tensor, 126.3 T operations for the assignment) and says
  what the closed form costs instead;
- :func:`empirical_w2` (exact, POT's network simplex) and :func:`sliced_w2` (POT's Monte Carlo
  sliced distance) are what notebook ``03_the_cost_of_exact_emd.ipynb`` times and compares with
  `ot_style.maths.gaussian.gaussian_w2`; notebook ``02_wasserstein_between_gaussians.ipynb`` shows
  ``empirical_w2`` converging to the closed form for Gaussian samples.

POT is imported inside the functions (:func:`ot_style.maths.pot.import_pot`), so ``import ot_style``
stays light.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..layers import VGG19_LAYERS, check_layers, layer_info, spatial_size
from .pot import import_pot

__all__ = ["EMDCost", "emd_cost", "emd_cost_table", "empirical_w2", "sliced_w2", "MAX_EMD_ENTRIES",
           "sample_points", "sample_pair"]

#: Largest cost matrix (n * m entries, float64) :func:`empirical_w2` agrees to build: 8e7 entries is
#: 640 MB. Beyond that the exact solver is the lesson of notebook 03, not a tool.
MAX_EMD_ENTRIES = 80_000_000


@dataclass(frozen=True)
class EMDCost:
    """What exact EMD between the feature clouds of two images at one VGG19 layer would cost.

    Attributes
    ----------
    layer : str
    height, width : int
        The input image size in pixels.
    samples : int
        Feature vectors per image, :math:`n = h' w'` (the layer's spatial size).
    channels : int
        Dimension :math:`c` of each feature vector.
    pairwise_bytes : int
        The theory notebook's estimate, :math:`c\\,n^2` numbers: every pairwise difference vector
        between the two clouds, stored before reducing it to a distance.
    distance_matrix_bytes : int
        :math:`n^2` numbers: the cost matrix an exact solver actually needs.
    assignment_ops : int
        :math:`n^3`: the order of the exact assignment (Hungarian / network simplex) on that matrix.
    gaussian_ops : int
        Floating-point operations of the closed form (eq. 2) instead: the two covariances
        (:math:`2 \\cdot 2nc^2`), the style square root by a symmetric eigendecomposition
        (:math:`\\approx 9c^3`), two products (:math:`4c^3`) and the eigenvalues of the symmetric middle
        matrix (:math:`\\approx \\tfrac43 c^3`).
    dtype_bytes : int
    """

    layer: str
    height: int
    width: int
    samples: int
    channels: int
    pairwise_bytes: int
    distance_matrix_bytes: int
    assignment_ops: int
    gaussian_ops: int
    dtype_bytes: int

    @property
    def pairwise_gb(self) -> float:
        """``pairwise_bytes`` in GB (10^9 bytes, as the theory notebook counts)."""
        return self.pairwise_bytes / 1e9

    @property
    def distance_matrix_gb(self) -> float:
        """``distance_matrix_bytes`` in GB (10^9 bytes)."""
        return self.distance_matrix_bytes / 1e9

    @property
    def speedup(self) -> float:
        """How many times fewer operations the closed form needs than the exact assignment."""
        return self.assignment_ops / self.gaussian_ops


def emd_cost(height: int, width: int, layer: str = "relu1_1", dtype_bytes: int = 4) -> EMDCost:
    r"""The memory and operation count of exact EMD between two images' features at ``layer``.

    .. math::

        n = h'w', \qquad
        \text{pairwise} = c\,n^2\,b, \qquad \text{distance matrix} = n^2 b, \qquad
        \text{assignment} \sim n^3

    with :math:`b` bytes per number. For 224x224 images at ``relu1_1`` (:math:`n = 50176`,
    :math:`c = 64`, float32) this is the theory notebook's 644.5 GB and 126.3 T operations.
    Explained in notebook ``03_the_cost_of_exact_emd.ipynb``.

    Parameters
    ----------
    height, width : int
        Image size in pixels (both images the same size).
    layer : str
        A VGG19 layer name (see :data:`ot_style.layers.VGG19_LAYERS`).
    dtype_bytes : int
        Bytes per number: 4 for float32, 8 for float64.

    Returns
    -------
    EMDCost
    """
    (name,) = check_layers((layer,))
    h, w = int(height), int(width)
    if h < 1 or w < 1:
        raise ValueError(f"The image size must be positive, got {height}x{width}.")
    if int(dtype_bytes) < 1:
        raise ValueError(f"dtype_bytes must be a positive number of bytes, got {dtype_bytes}.")
    hh, ww = spatial_size(h, w, name)
    n, c, b = hh * ww, layer_info(name).channels, int(dtype_bytes)
    if n < 1:
        raise ValueError(f"A {h}x{w} image has no spatial positions left at {name}; use a larger image.")
    gaussian_ops = 4 * n * c * c + 9 * c**3 + 4 * c**3 + (4 * c**3) // 3
    return EMDCost(layer=name, height=h, width=w, samples=n, channels=c, pairwise_bytes=c * n * n * b,
                   distance_matrix_bytes=n * n * b, assignment_ops=n**3, gaussian_ops=gaussian_ops,
                   dtype_bytes=b)


def emd_cost_table(height: int, width: int, layers=None, dtype_bytes: int = 4) -> list[EMDCost]:
    """:func:`emd_cost` for several layers (default: every ReLU layer of VGG19), in network order."""
    if layers is None:
        layers = tuple(name for name in VGG19_LAYERS if name.startswith("relu"))
    return [emd_cost(height, width, layer, dtype_bytes) for layer in check_layers(layers)]


def sample_points(x, name: str) -> np.ndarray:
    """``x`` as float64 points of shape (n, d), n >= 1 (a 1-D array is n points in one dimension); a
    ``ValueError`` naming ``name`` for another shape or a NaN. The check every sample-based function of
    :mod:`ot_style.maths` makes."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] < 1:
        raise ValueError(f"{name} must be samples of shape (n,) or (n, d) with n >= 1, got shape {np.shape(x)}.")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return a


def sample_pair(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Two samples (:func:`sample_points`) of the same dimension."""
    a, b = sample_points(x, "x"), sample_points(y, "y")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"x and y must have the same dimension, got {a.shape[1]} and {b.shape[1]}.")
    return a, b


def empirical_w2(x, y) -> float:
    r"""Exact L2-Wasserstein distance between two equally weighted samples (exact EMD).

    .. math::

        W_2(\hat\mu_x, \hat\mu_y)^2 = \min_{P \in U(a, b)} \sum_{ij} P_{ij}\,\lVert x_i - y_j\rVert^2,
        \qquad a = \tfrac1n \mathbf 1,\; b = \tfrac1m \mathbf 1

    solved by POT's network simplex (:func:`ot.emd2`) on the full :math:`n \times m` cost matrix, so
    memory grows as :math:`nm` and time roughly as :math:`n^3`; that growth is what notebook
    ``03_the_cost_of_exact_emd.ipynb`` measures. For samples of two Gaussians it converges to
    :func:`ot_style.maths.gaussian.gaussian_w2` as the sample size grows (notebook 02).

    Parameters
    ----------
    x : array_like, shape (n, d) or (n,)
    y : array_like, shape (m, d) or (m,)

    Returns
    -------
    float
    """
    ot = import_pot()

    a, b = sample_pair(x, y)
    if a.shape[0] * b.shape[0] > MAX_EMD_ENTRIES:
        raise ValueError(
            f"Exact EMD between {a.shape[0]} and {b.shape[0]} samples needs a {a.shape[0]}x{b.shape[0]} cost "
            f"matrix ({a.shape[0] * b.shape[0] * 8 / 1e9:.1f} GB); use at most {MAX_EMD_ENTRIES:,} pairs, or "
            "sliced_w2 / gaussian_w2, which is the point of notebook 03.")
    cost = ot.dist(a, b, metric="sqeuclidean")
    wa = np.full(a.shape[0], 1.0 / a.shape[0])
    wb = np.full(b.shape[0], 1.0 / b.shape[0])
    d2 = float(ot.emd2(wa, wb, cost, numItermax=max(100_000, 50 * (a.shape[0] + b.shape[0]) ** 2)))
    return float(np.sqrt(max(d2, 0.0)))


def sliced_w2(x, y, n_projections: int = 64, seed: int = 0) -> float:
    r"""Sliced L2-Wasserstein distance between two samples (Monte Carlo over random directions).

    .. math::

        SW_2(\hat\mu_x, \hat\mu_y)^2 = \frac1L \sum_{l=1}^{L} W_2\big(\theta_l^\top \hat\mu_x,
        \theta_l^\top \hat\mu_y\big)^2, \qquad \theta_l \sim \mathcal U(S^{d-1})

    Each 1-D distance is exact (sorted samples, quantile functions), so the cost is
    :math:`O(L\,n \log n)` instead of exact EMD's :math:`O(n^3)`. In one dimension every direction is
    :math:`\pm 1` and the result equals :func:`empirical_w2`. Computed by POT
    (:func:`ot.sliced_wasserstein_distance`); compared with the exact and closed forms in notebook
    ``03_the_cost_of_exact_emd.ipynb``. The ``"sliced"`` style loss is its TensorFlow twin.

    Parameters
    ----------
    x : array_like, shape (n, d) or (n,)
    y : array_like, shape (m, d) or (m,)
    n_projections : int
        Number of random directions :math:`L`.
    seed : int
        Seed of the directions; the same seed gives the same value.

    Returns
    -------
    float
    """
    ot = import_pot()

    a, b = sample_pair(x, y)
    if int(n_projections) < 1:
        raise ValueError(f"n_projections must be at least 1, got {n_projections}.")
    return float(ot.sliced_wasserstein_distance(a, b, n_projections=int(n_projections), p=2, seed=int(seed)))
