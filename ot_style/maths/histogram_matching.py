r"""Sliced optimal transport by histogram matching (Pitié 2007, Optimal Textures), in NumPy.

In one dimension optimal transport is sorting: the sample of rank :math:`k` goes to the target's sample
of rank :math:`k`. In :math:`d` dimensions, Pitié, Kokaram and Dahyot (2007) and Risser's *Optimal
Textures* (2020) repeat one step: rotate both clouds by a random rotation :math:`R`, match the 1-D
histogram of every rotated axis exactly, rotate back,

.. math:: x \leftarrow R\,\big(T_1(R^\top x)_1, \dots, T_d(R^\top x)_d\big),

which drives the sliced Wasserstein distance to the target towards 0. Optimal Textures does this on a
network's features, after a PCA of the style's features, and decodes the result to pixels; the
``"sliced"`` style loss of this package (:class:`ot_style.losses.sliced.SlicedLoss`) instead
backpropagates the same 1-D comparison to the pixels. This module also shows what a *fixed* set of
directions cannot see (:func:`blind_direction`). Notebook ``08_strotss_and_optimal_textures.ipynb``.

(:mod:`ot_style.pixels.colour` runs the same loop on the three colour channels of pictures.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .emd import sample_points

__all__ = ["random_rotation", "random_directions", "match_sorted", "sliced_w2_along", "blind_direction",
           "PCABasis", "pca_basis", "SlicedMatching", "sliced_histogram_matching"]


def _same_size(x, y) -> tuple[np.ndarray, np.ndarray]:
    a, b = sample_points(x, "x"), sample_points(y, "y")
    if a.shape != b.shape:
        raise ValueError(f"Sort-and-match pairs points one to one: x and y must have the same shape, got "
                         f"{a.shape} and {b.shape}.")
    return a, b


def random_rotation(dim: int, rng: np.random.Generator) -> np.ndarray:
    """A rotation drawn uniformly (Haar measure) from SO(dim): QR of a Gaussian matrix, signs fixed.

    Parameters
    ----------
    dim : int
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, shape (dim, dim)
        Orthonormal columns, determinant +1.
    """
    q, r = np.linalg.qr(rng.standard_normal((int(dim), int(dim))))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def random_directions(dim: int, k: int, rng: np.random.Generator) -> np.ndarray:
    r"""``k`` independent unit directions, uniform on the sphere :math:`S^{d-1}` (not orthogonal to each other).

    The recipe of :class:`ot_style.losses.sliced.SlicedLoss`: normalised standard Gaussian columns.

    Returns
    -------
    ndarray, shape (dim, k)
    """
    theta = rng.standard_normal((int(dim), int(k)))
    return theta / np.linalg.norm(theta, axis=0, keepdims=True)


def match_sorted(values, reference) -> np.ndarray:
    r"""Exact 1-D optimal transport between two samples of the same size: sort and match.

    .. math:: T(v_{(k)}) = r_{(k)}

    The value of rank :math:`k` is replaced by the reference value of rank :math:`k`. The monotone map
    is optimal for every convex cost; for the squared cost its mean squared displacement is
    :math:`W_2^2 = \frac1n\sum_k (v_{(k)} - r_{(k)})^2`.

    Parameters
    ----------
    values, reference : array_like, shape (n,) or (n, d)
        With ``d`` columns, each column is matched to the same column of ``reference``.

    Returns
    -------
    ndarray, the shape of ``values``
    """
    v, r = _same_size(values, reference)
    order = np.argsort(v, axis=0, kind="stable")
    out = np.empty_like(v)
    np.put_along_axis(out, order, np.sort(r, axis=0), axis=0)
    return out.reshape(np.shape(values))


def sliced_w2_along(x, y, directions) -> float:
    r"""Squared sliced Wasserstein distance along *given* directions (two samples of the same size).

    .. math:: SW_2^2 = \frac1L\sum_{l=1}^L \frac1n\sum_{k=1}^n
              \big(\operatorname{sort}(X\theta_l)_k - \operatorname{sort}(Y\theta_l)_k\big)^2

    The quantity :class:`ot_style.losses.sliced.SlicedLoss` scores, with its directions fixed.

    Parameters
    ----------
    x, y : array_like, shape (n, d)
    directions : array_like, shape (d, L)
        Unit columns :math:`\theta_l`.

    Returns
    -------
    float
    """
    a, b = _same_size(x, y)
    theta = np.asarray(directions, dtype=np.float64)
    if theta.ndim != 2 or theta.shape[0] != a.shape[1]:
        raise ValueError(f"directions must have shape ({a.shape[1]}, L), got {theta.shape}.")
    return float(np.mean((np.sort(a @ theta, axis=0) - np.sort(b @ theta, axis=0)) ** 2))


def blind_direction(directions, rng: np.random.Generator) -> np.ndarray:
    r"""A random unit vector orthogonal to every column of ``directions``: what those slices cannot see.

    .. math:: u = \frac{(I - QQ^\top) g}{\lVert (I - QQ^\top) g\rVert}, \quad g \sim \mathcal N(0, I),

    with :math:`Q` an orthonormal basis of the directions' span. Moving a cloud along :math:`u` changes
    no projection :math:`x\cdot\theta_l`, so the sliced distance along those directions stays 0.

    Parameters
    ----------
    directions : array_like, shape (d, L), L < d
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, shape (d,)
    """
    theta = np.asarray(directions, dtype=np.float64)
    if theta.ndim != 2 or theta.shape[1] >= theta.shape[0]:
        raise ValueError(f"L directions in d dimensions leave a blind subspace only when L < d; got shape "
                         f"{theta.shape}.")
    q, _ = np.linalg.qr(theta)
    g = rng.standard_normal(theta.shape[0])
    u = g - q @ (q.T @ g)
    return u / np.linalg.norm(u)


@dataclass(frozen=True)
class PCABasis:
    """The principal axes of a cloud that keep a given fraction of its variance.

    Attributes
    ----------
    mean : ndarray, shape (d,)
    components : ndarray, shape (d, k)
        Orthonormal columns, by decreasing variance.
    variances : ndarray, shape (d,)
        All eigenvalues of the (biased) covariance, decreasing.
    kept : float
        Fraction of the total variance the ``k`` components keep.
    """

    mean: np.ndarray
    components: np.ndarray
    variances: np.ndarray
    kept: float

    def project(self, x) -> np.ndarray:
        """Coordinates in the basis, shape (n, k)."""
        return (np.asarray(x, dtype=np.float64) - self.mean) @ self.components

    def reconstruct(self, z) -> np.ndarray:
        """Points back in the full space, shape (n, d); what lay outside the basis is gone."""
        return self.mean + np.asarray(z, dtype=np.float64) @ self.components.T


def pca_basis(y, variance: float = 0.9) -> PCABasis:
    r"""The fewest principal axes of ``y`` whose eigenvalues add up to at least ``variance`` of the total.

    .. math:: k = \min\Big\{k : \sum_{i\le k}\lambda_i \ge v \sum_i \lambda_i\Big\}

    Optimal Textures keeps 90% of the style features' variance and matches histograms in those axes.

    Parameters
    ----------
    y : array_like, shape (n, d)
    variance : float in (0, 1]

    Returns
    -------
    PCABasis
    """
    b = sample_points(y, "y")
    if not 0.0 < float(variance) <= 1.0:
        raise ValueError(f"variance must be a fraction in (0, 1], got {variance}.")
    mean = b.mean(axis=0)
    lam, vec = np.linalg.eigh(np.cov(b - mean, rowvar=False, bias=True).reshape(b.shape[1], b.shape[1]))
    lam, vec = np.clip(lam[::-1], 0.0, None), vec[:, ::-1]
    total = float(lam.sum())
    if total == 0.0:
        raise ValueError("y has no variance: all its points coincide.")
    k = int(np.searchsorted(np.cumsum(lam) / total, float(variance) - 1e-12) + 1)
    k = min(k, b.shape[1])
    return PCABasis(mean, vec[:, :k], lam, float(lam[:k].sum() / total))


@dataclass(frozen=True)
class SlicedMatching:
    """The iterates of :func:`sliced_histogram_matching`.

    Attributes
    ----------
    iterates : list of ndarray, each shape (n, d)
        ``iterates[0]`` is the start, ``iterates[t]`` the cloud after ``t`` rotations.
    pca : PCABasis or None
        The target's basis the matching ran in, when ``variance`` was given.
    """

    iterates: list
    pca: PCABasis | None


def sliced_histogram_matching(x, y, iterations: int, *, seed: int = 0,
                              variance: float | None = None) -> SlicedMatching:
    r"""Move ``x`` onto ``y`` by iterated random-rotation histogram matching (no gradient, no loss).

    .. math:: x \leftarrow R_t\,\texttt{match\_sorted}(R_t^\top x,\ R_t^\top y), \quad R_t \text{ a fresh random rotation}

    With ``variance`` (e.g. 0.9) both clouds are first expressed in the principal axes of ``y``
    (:func:`pca_basis`) and matched there, as Optimal Textures does with VGG features; the result is
    mapped back to the full space, so what lies outside those axes is dropped. Each step is the exact
    1-D transport along every axis of :math:`R_t`; the sliced distance falls towards 0.

    Parameters
    ----------
    x, y : array_like, shape (n, d)
        The same number of points (sort-and-match pairs them one to one).
    iterations : int
    seed : int
        Seeds the rotations.
    variance : float in (0, 1], optional

    Returns
    -------
    SlicedMatching
    """
    a, b = _same_size(x, y)
    if isinstance(iterations, bool) or int(iterations) != iterations or iterations < 0:
        raise ValueError(f"iterations must be a whole number >= 0, got {iterations!r}.")
    basis = None if variance is None else pca_basis(b, variance)
    z, target = (a, b) if basis is None else (basis.project(a), basis.project(b))
    rng = np.random.default_rng(seed)
    back = (lambda c: c) if basis is None else basis.reconstruct
    iterates = [a.copy()]
    for _ in range(int(iterations)):
        rotation = random_rotation(z.shape[1], rng)
        z = match_sorted(z @ rotation, target @ rotation) @ rotation.T
        iterates.append(back(z))
    return SlicedMatching(iterates, basis)
