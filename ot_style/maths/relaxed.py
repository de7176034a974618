r"""STROTSS's building blocks in NumPy: cost matrices, relaxed EMD, exact EMD with its plan, self-similarity.

Kolkin, Salavon and Shakhnarovich (2019) compare two feature clouds with the *relaxed* Earth Mover's
Distance: each point is sent to its nearest neighbour in the other cloud, in both directions, and the
larger of the two mean costs is kept,

.. math::

    R(A, B) = \max\Big(\frac1n\sum_{i}\min_j C_{ij},\ \frac1m\sum_{j}\min_i C_{ij}\Big).

Each side is a lower bound on the exact transport cost with the same cost matrix (a plan sends the
mass :math:`1/n` of row :math:`i` somewhere, at a cost of at least :math:`\min_j C_{ij}`), so
:math:`R \le \operatorname{EMD}`. What the relaxation drops is the mass constraint: many points may
share one nearest neighbour. This module is the NumPy reference of the TensorFlow code in
:mod:`ot_style.losses.strotss` (``cosine_cost``, ``euclidean_cost``, ``relaxed_emd``,
``self_similarity``, ``sample_bilinear``, ``hypercolumns``); a test binds each pair. Notebook
``08_strotss_and_optimal_textures.ipynb`` teaches it on 2-D clouds.

POT is imported inside :func:`exact_emd` (:func:`ot_style.maths.pot.import_pot`), so importing this
module stays light.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .emd import MAX_EMD_ENTRIES, sample_pair, sample_points
from .pot import import_pot

__all__ = ["sqeuclidean_cost", "euclidean_cost", "cosine_cost", "RelaxedEMD", "relaxed_emd", "ExactEMD",
           "exact_emd", "self_similarity", "self_similarity_loss", "sample_bilinear", "hypercolumns"]


def sqeuclidean_cost(x, y) -> np.ndarray:
    r"""Squared Euclidean cost matrix :math:`C_{ij} = \lVert x_i - y_j\rVert^2`.

    With this cost the exact EMD between uniform samples is :math:`W_2^2`
    (:func:`ot_style.maths.emd.empirical_w2` squared). Notebook ``08_strotss_and_optimal_textures``.

    Parameters
    ----------
    x : array_like, shape (n, d)
    y : array_like, shape (m, d)

    Returns
    -------
    ndarray, shape (n, m)
    """
    a, b = sample_pair(x, y)
    return np.sum((a[:, None, :] - b[None, :, :]) ** 2, axis=-1)


def euclidean_cost(x, y) -> np.ndarray:
    r"""Euclidean cost matrix :math:`C_{ij} = \lVert x_i - y_j\rVert_2`: STROTSS's palette cost.

    The NumPy twin of :func:`ot_style.losses.strotss.euclidean_cost`. Notebook ``08``.

    Parameters
    ----------
    x : array_like, shape (n, d)
    y : array_like, shape (m, d)

    Returns
    -------
    ndarray, shape (n, m)
    """
    return np.sqrt(sqeuclidean_cost(x, y))


def _unit_rows(a: np.ndarray) -> np.ndarray:
    # As tf.math.l2_normalize(epsilon=1e-12): a zero row stays zero (its cosine cost to anything is 1).
    return a / np.sqrt(np.maximum(np.sum(a * a, axis=1, keepdims=True), 1e-12))


def cosine_cost(x, y) -> np.ndarray:
    r"""Cosine cost matrix :math:`C_{ij} = 1 - \dfrac{x_i\cdot y_j}{\lVert x_i\rVert\,\lVert y_j\rVert}`, in [0, 2].

    STROTSS's feature cost. It only sees directions: scaling any row by a positive number does not
    change it, which is why STROTSS adds a moment term that sees magnitudes. The NumPy twin of
    :func:`ot_style.losses.strotss.cosine_cost`. Notebook ``08``.

    Parameters
    ----------
    x : array_like, shape (n, d)
    y : array_like, shape (m, d)

    Returns
    -------
    ndarray, shape (n, m)
    """
    a, b = sample_pair(x, y)
    # Clipped so that rounding cannot make a cost a hair below 0 (identical directions) or above 2.
    return np.clip(1.0 - _unit_rows(a) @ _unit_rows(b).T, 0.0, 2.0)


@dataclass(frozen=True)
class RelaxedEMD:
    """The relaxed EMD and the nearest-neighbour matchings behind each of its two sides.

    Attributes
    ----------
    value : float
        ``max(x_to_y, y_to_x)``.
    x_to_y : float
        :math:`\\frac1n\\sum_i \\min_j C_{ij}`: every point of x to its nearest point of y.
    y_to_x : float
        :math:`\\frac1m\\sum_j \\min_i C_{ij}`: every point of y to its nearest point of x.
    match_x : ndarray of int, shape (n,)
        For each point of x, the index of its nearest point of y.
    match_y : ndarray of int, shape (m,)
        For each point of y, the index of its nearest point of x.
    """

    value: float
    x_to_y: float
    y_to_x: float
    match_x: np.ndarray
    match_y: np.ndarray

    def largest_share(self) -> tuple[int, int]:
        """How many points of x share one nearest point of y, and of y one of x (the worst "hub" each way).

        An exact plan between two clouds of the same size is a permutation: 1 and 1.
        """
        return (int(np.bincount(self.match_x).max()), int(np.bincount(self.match_y).max()))


def relaxed_emd(cost) -> RelaxedEMD:
    r"""Relaxed EMD of Kolkin et al. (2019) from a cost matrix.

    .. math:: R = \max\Big(\frac1n\sum_{i=1}^n\min_j C_{ij},\ \frac1m\sum_{j=1}^m\min_i C_{ij}\Big)

    The NumPy twin of :func:`ot_style.losses.strotss.relaxed_emd`; it also returns the matchings.
    Notebook ``08_strotss_and_optimal_textures.ipynb``.

    Parameters
    ----------
    cost : array_like, shape (n, m)

    Returns
    -------
    RelaxedEMD
    """
    c = np.asarray(cost, dtype=np.float64)
    if c.ndim != 2 or min(c.shape) < 1:
        raise ValueError(f"cost must be an (n, m) matrix with n, m >= 1, got shape {c.shape}.")
    if not np.all(np.isfinite(c)):
        raise ValueError("cost contains NaN or infinite values.")
    match_x, match_y = np.argmin(c, axis=1), np.argmin(c, axis=0)
    x_to_y = float(np.mean(c[np.arange(c.shape[0]), match_x]))
    y_to_x = float(np.mean(c[match_y, np.arange(c.shape[1])]))
    return RelaxedEMD(max(x_to_y, y_to_x), x_to_y, y_to_x, match_x, match_y)


@dataclass(frozen=True)
class ExactEMD:
    """The exact transport cost between two uniform clouds and the optimal plan.

    Attributes
    ----------
    value : float
        :math:`\\min_P \\sum_{ij} P_{ij} C_{ij}`.
    plan : ndarray, shape (n, m)
        The optimal plan: rows sum to 1/n, columns to 1/m.
    """

    value: float
    plan: np.ndarray

    def arrows(self) -> tuple[np.ndarray, np.ndarray]:
        """``(i, j)`` index arrays of the plan's non-zero entries: where the mass of x goes."""
        i, j = np.nonzero(self.plan > 1e-12 * self.plan.max())
        return i, j


def exact_emd(cost) -> ExactEMD:
    r"""Exact EMD between uniform weights :math:`a = \tfrac1n\mathbf 1`, :math:`b = \tfrac1m\mathbf 1`.

    .. math:: \operatorname{EMD}(C) = \min_{P \ge 0,\; P\mathbf 1 = a,\; P^\top\mathbf 1 = b}\ \sum_{ij} P_{ij} C_{ij}

    solved by POT's network simplex (:func:`ot.emd`). With :func:`sqeuclidean_cost` it is
    :math:`W_2^2` between the samples. Notebook ``08_strotss_and_optimal_textures.ipynb``.

    Parameters
    ----------
    cost : array_like, shape (n, m)

    Returns
    -------
    ExactEMD
    """
    ot = import_pot()
    c = np.asarray(cost, dtype=np.float64)
    if c.ndim != 2 or min(c.shape) < 1:
        raise ValueError(f"cost must be an (n, m) matrix with n, m >= 1, got shape {c.shape}.")
    if c.size > MAX_EMD_ENTRIES:
        raise ValueError(f"A {c.shape[0]}x{c.shape[1]} cost matrix is too large for the exact solver "
                         f"(at most {MAX_EMD_ENTRIES:,} entries); compare fewer points.")
    if not np.all(np.isfinite(c)):
        raise ValueError("cost contains NaN or infinite values.")
    a, b = np.full(c.shape[0], 1.0 / c.shape[0]), np.full(c.shape[1], 1.0 / c.shape[1])
    plan = np.asarray(ot.emd(a, b, c, numItermax=max(100_000, 50 * (c.shape[0] + c.shape[1]) ** 2)))
    return ExactEMD(float(np.sum(plan * c)), plan)


def self_similarity(x) -> np.ndarray:
    r"""STROTSS's self-similarity matrix: cosine distances within one cloud, each column divided by its sum.

    .. math:: S_{ij} = \frac{D_{ij}}{\sum_k D_{kj}}, \qquad D = \texttt{cosine\_cost}(x, x)

    It records which places look alike, not what they look like: an orthogonal transform or a
    positive scaling of the features leaves it unchanged. The NumPy twin of
    :func:`ot_style.losses.strotss.self_similarity`. Notebook ``08``.

    Parameters
    ----------
    x : array_like, shape (N, c)

    Returns
    -------
    ndarray, shape (N, N)
    """
    d = cosine_cost(x, x)
    return d / np.maximum(np.sum(d, axis=0, keepdims=True), np.finfo(np.float64).tiny)


def self_similarity_loss(x, content) -> float:
    r"""STROTSS's content term :math:`l_c` between the features of the output and of the content.

    .. math:: l_c = \frac{1}{N^2}\sum_{i,j}\big|S^x_{ij} - S^c_{ij}\big|

    with :math:`S` from :func:`self_similarity`, at the same ``N`` locations in both images
    (:class:`ot_style.losses.content.SelfSimilarityLoss` is the TensorFlow twin, before its weight).

    Parameters
    ----------
    x, content : array_like, shape (N, c)

    Returns
    -------
    float
    """
    a, b = sample_pair(x, content)
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"Both clouds must be sampled at the same N locations, got {a.shape[0]} and {b.shape[0]}.")
    return float(np.mean(np.abs(self_similarity(a) - self_similarity(b))))


def sample_bilinear(feature_map, coords) -> np.ndarray:
    r"""Bilinear samples of one feature map at normalised locations (align-corners).

    Location :math:`(r, q) \in [0, 1]^2` is the point :math:`(r(h-1), q(w-1))` in pixel units, so 0 is the
    first pixel centre and 1 the last at every layer: the same coordinates address the same place in
    maps of different sizes. The NumPy twin of :func:`ot_style.losses.strotss.sample_bilinear`.

    Parameters
    ----------
    feature_map : array_like, shape (h, w, c) or (1, h, w, c)
    coords : array_like, shape (N, 2)
        (row, column) in [0, 1].

    Returns
    -------
    ndarray, shape (N, c)
    """
    f = np.asarray(feature_map, dtype=np.float64)
    if f.ndim == 4 and f.shape[0] == 1:
        f = f[0]
    if f.ndim != 3:
        raise ValueError(f"feature_map must have shape (h, w, c), got {np.shape(feature_map)}.")
    p = np.asarray(coords, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"coords must have shape (N, 2), got {p.shape}.")
    h, w = f.shape[:2]
    y, x = p[:, 0] * (h - 1), p[:, 1] * (w - 1)
    y0 = np.clip(np.floor(y), 0, h - 1).astype(int)
    x0 = np.clip(np.floor(x), 0, w - 1).astype(int)
    wy, wx = (y - y0)[:, None], (x - x0)[:, None]
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    return ((1 - wy) * ((1 - wx) * f[y0, x0] + wx * f[y0, x1])
            + wy * ((1 - wx) * f[y1, x0] + wx * f[y1, x1]))


def hypercolumns(feature_maps, coords) -> np.ndarray:
    r"""STROTSS's hypercolumns: every map sampled at the same locations, concatenated along channels.

    .. math:: \bar\varphi(p) = \big(\varphi_1(p), \varphi_2(p), \dots, \varphi_L(p)\big) \in \mathbb R^{c_1+\dots+c_L}

    Parameters
    ----------
    feature_maps : sequence of array_like, each shape (h_l, w_l, c_l)
        Maps of any sizes (a network's layers, from fine to coarse).
    coords : array_like, shape (N, 2)
        (row, column) in [0, 1], see :func:`sample_bilinear`.

    Returns
    -------
    ndarray, shape (N, sum of c_l)
    """
    maps = list(feature_maps)
    if not maps:
        raise ValueError("hypercolumns needs at least one feature map.")
    return np.concatenate([sample_bilinear(m, coords) for m in maps], axis=1)
