"""Optimal transport between Gaussians in closed form (NumPy reference).

The paper's style distance (eq. 2) is the L2-Wasserstein distance between the Gaussians fitted to two
feature clouds; eq. 4 is the Gram-matrix loss of Gatys et al. it replaces, and :func:`moment_distance`
is STROTSS's entry-by-entry comparison of the same two moments. This module also gives the
optimal (Monge) map between two Gaussians and their Wasserstein barycentre (used to mix styles).
Notebooks: ``01_gram_is_not_a_metric.ipynb`` (eq. 2 vs eq. 4),
``02_wasserstein_between_gaussians.ipynb`` (eq. 2 step by step, the Monge map, the geodesic between two
Gaussians), ``06_colour_texture_and_mixing.ipynb`` (the barycentre, to mix styles) and
``08_strotss_and_optimal_textures.ipynb`` (STROTSS's moment distance).

Numerical rules (also followed by the TensorFlow twin in :mod:`ot_style.losses.w2`): matrices are
symmetrised and decomposed with ``eigh`` in float64, and eigenvalues are clamped at zero, so
singular (positive semi-definite) covariances are handled exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .moments import Moments

__all__ = ["sqrtm_psd", "gaussian_w2", "gatys_style_loss", "moment_distance", "MongeMap", "gaussian_monge_map",
           "gaussian_barycenter"]


def _as_cov(cov, name: str) -> np.ndarray:
    c = np.asarray(cov, dtype=np.float64)
    if c.ndim == 0:
        c = c.reshape(1, 1)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"{name} must be a square (c, c) matrix, but it has shape {c.shape}.")
    if not np.all(np.isfinite(c)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    scale = max(1.0, float(np.max(np.abs(c), initial=0.0)))
    if np.max(np.abs(c - c.T), initial=0.0) > 1e-6 * scale:
        raise ValueError(f"{name} must be symmetric (a covariance matrix).")
    return 0.5 * (c + c.T)


def _as_gaussian(mean, cov, which: str) -> tuple[np.ndarray, np.ndarray]:
    c = _as_cov(cov, f"cov_{which}")
    # ravel accepts the theory notebook's (1, c) row vectors as well as (c,).
    m = np.asarray(mean, dtype=np.float64).ravel()
    if m.shape[0] != c.shape[0]:
        raise ValueError(
            f"mean_{which} has {m.shape[0]} components but cov_{which} is {c.shape[0]}x{c.shape[0]}."
        )
    if not np.all(np.isfinite(m)):
        raise ValueError(f"mean_{which} contains NaN or infinite values.")
    return m, c


def _as_gaussian_pair(mean_x, cov_x, mean_y, cov_y):
    """Both Gaussians checked by :func:`_as_gaussian`, and in the same dimension."""
    mx, cx = _as_gaussian(mean_x, cov_x, "x")
    my, cy = _as_gaussian(mean_y, cov_y, "y")
    if mx.shape != my.shape:
        raise ValueError(f"The two Gaussians live in different dimensions ({mx.size} and {my.size}).")
    return mx, cx, my, cy


def _clamp_eigenvalues(lam: np.ndarray, scale: float | None = None) -> np.ndarray:
    # Eigenvalues within rounding of zero (below c * eps * scale, the np.linalg.matrix_rank threshold
    # with scale = the matrix norm) are not known even in sign; setting them to 0 rather than keeping
    # their square roots (~1e-8 each) makes singular covariances exact and the distance symmetric.
    if scale is None:
        scale = float(np.max(np.abs(lam), initial=0.0))
    tol = lam.shape[0] * np.finfo(np.float64).eps * scale
    return np.where(lam > tol, lam, 0.0)


def _eigh_psd(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lam, vec = np.linalg.eigh(0.5 * (c + c.T))
    return _clamp_eigenvalues(lam), vec


def sqrtm_psd(cov) -> np.ndarray:
    r"""Symmetric square root of a symmetric positive semi-definite matrix.

    .. math::

        C = V \operatorname{diag}(\lambda) V^T \;\Rightarrow\;
        C^{1/2} = V \operatorname{diag}(\sqrt{\max(\lambda, 0)}) V^T

    computed with ``eigh`` of the symmetrised matrix in float64; eigenvalues below the rounding level
    :math:`c\,\varepsilon\,\lambda_{max}` (negative ones included) count as 0. Unlike ``scipy.linalg.sqrtm`` it
    is real and symmetric by construction and exact for singular matrices. Notebook
    ``02_wasserstein_between_gaussians.ipynb``.

    Parameters
    ----------
    cov : array_like, shape (c, c)

    Returns
    -------
    ndarray, shape (c, c)
    """
    lam, vec = _eigh_psd(_as_cov(cov, "cov"))
    root = (vec * np.sqrt(lam)) @ vec.T
    return 0.5 * (root + root.T)


def _pinv_sqrt(lam: np.ndarray, vec: np.ndarray) -> np.ndarray:
    # (C^+)^{1/2}: inverse square root on the support of C (eigenvalues already clamped by
    # _clamp_eigenvalues), zero on its null space.
    inv = np.zeros_like(lam)
    support = lam > 0
    inv[support] = 1.0 / np.sqrt(lam[support])
    out = (vec * inv) @ vec.T
    return 0.5 * (out + out.T)


def gaussian_w2(mean_x, cov_x, mean_y, cov_y, *, squared: bool = False) -> float:
    r"""L2-Wasserstein distance between two Gaussians (eq. 2 of the paper).

    .. math::

        W_2^2 = \lVert\mu_x-\mu_y\rVert^2 + \operatorname{tr}\Sigma_x + \operatorname{tr}\Sigma_y
                - 2\operatorname{tr}\big((\Sigma_y^{1/2}\Sigma_x\Sigma_y^{1/2})^{1/2}\big)

    The last trace is the sum of the square roots of the eigenvalues (clamped at 0, and set to 0
    below the rounding level :math:`c\,\varepsilon\,\lambda_{max}`) of the symmetric
    matrix :math:`\Sigma_y^{1/2}\Sigma_x\Sigma_y^{1/2}`; no ``eigvals`` of the non-symmetric
    product and no rounding (the theory notebook's ``np.round(..., 5)`` loses about seven digits).
    A tiny negative :math:`W_2^2` from rounding is clamped to 0 before the square root.
    :math:`W_2^2` is exact to about :math:`\varepsilon\,(\operatorname{tr}\Sigma_x+\operatorname{tr}\Sigma_y)`;
    :math:`W_2` itself, being its square root, only to the square root of that near zero: for
    ``C = diag(1, 1e-10)``, ``gaussian_w2(m, C, m, C)`` is ``1.4e-5`` (an eigenvalue of 1e-20 is below
    float64's resolution of the middle matrix). Use ``squared=True`` when that matters. Explained in notebook
    ``02_wasserstein_between_gaussians.ipynb``; compared with eq. 4 in ``01_gram_is_not_a_metric``.

    Parameters
    ----------
    mean_x, mean_y : array_like, shape (c,)
    cov_x, cov_y : array_like, shape (c, c)
        Symmetric positive semi-definite (singular is fine).
    squared : bool
        Return :math:`W_2^2` (what eq. 3 sums over layers) instead of :math:`W_2`.

    Returns
    -------
    float
    """
    mx, cx, my, cy = _as_gaussian_pair(mean_x, cov_x, mean_y, cov_y)
    lam_y, vec_y = _eigh_psd(cy)
    root_y = (vec_y * np.sqrt(lam_y)) @ vec_y.T
    middle = root_y @ cx @ root_y
    # The rounding level of `middle` is set by the norms of its factors, not by its own eigenvalues
    # (which may all be rounding noise, e.g. when the supports of cov_x and cov_y are orthogonal).
    scale = float(np.max(lam_y, initial=0.0)) * float(np.linalg.norm(cx))
    lam = _clamp_eigenvalues(np.linalg.eigvalsh(0.5 * (middle + middle.T)), scale)
    cross = float(np.sum(np.sqrt(lam)))
    d2 = float(np.sum((mx - my) ** 2) + np.trace(cx) + np.trace(cy) - 2.0 * cross)
    d2 = max(d2, 0.0)
    return d2 if squared else float(np.sqrt(d2))


def gatys_style_loss(mean_x, cov_x, mean_y, cov_y) -> float:
    r"""The Gram-matrix style loss of Gatys et al. written with moments (eq. 4 of the paper).

    .. math::

        \mathcal{G} = \lVert \Sigma_x + \mu_x\mu_x^T - \Sigma_y - \mu_y\mu_y^T \rVert_F^2

    It is blind to any change that keeps :math:`\Sigma + \mu\mu^T` fixed, so it is not a metric
    (``ot_style.maths.counterexamples.PAIRS``). Explained in notebook ``01_gram_is_not_a_metric.ipynb``.

    Parameters
    ----------
    mean_x, mean_y : array_like, shape (c,)
    cov_x, cov_y : array_like, shape (c, c)

    Returns
    -------
    float
    """
    mx, cx, my, cy = _as_gaussian_pair(mean_x, cov_x, mean_y, cov_y)
    diff = cx + np.outer(mx, mx) - cy - np.outer(my, my)
    return float(np.sum(diff**2))


def moment_distance(mean_x, cov_x, mean_y, cov_y) -> float:
    r"""STROTSS's moment-matching distance :math:`l_m` (Kolkin et al. 2019), the NumPy reference.

    .. math::

        l_m = \frac{1}{C}\lVert\mu_x-\mu_y\rVert_1 + \frac{1}{C^2}\lVert\Sigma_x-\Sigma_y\rVert_1

    with :math:`C` channels and the entry-wise 1-norm: the mean absolute difference of the means plus
    that of the covariances. Unlike :func:`gaussian_w2` it compares the two
    summaries entry by entry, with no transport between them. The ``"moments"`` style loss
    (:class:`ot_style.losses.moments.MomentsLoss`) is its TensorFlow twin; notebook
    ``05_losses_side_by_side.ipynb`` measures every result with it.

    Parameters
    ----------
    mean_x, mean_y : array_like, shape (c,)
    cov_x, cov_y : array_like, shape (c, c)

    Returns
    -------
    float
    """
    mx, cx, my, cy = _as_gaussian_pair(mean_x, cov_x, mean_y, cov_y)
    return float(np.mean(np.abs(mx - my)) + np.mean(np.abs(cx - cy)))


@dataclass(frozen=True)
class MongeMap:
    r"""The affine map :math:`T(x) = A x + b` that transports one Gaussian onto another.

    Attributes
    ----------
    matrix : ndarray, shape (c, c)
        :math:`A`, symmetric positive semi-definite.
    offset : ndarray, shape (c,)
        :math:`b = \mu_y - A\mu_x`.
    """

    matrix: np.ndarray
    offset: np.ndarray

    def __call__(self, samples) -> np.ndarray:
        """Apply the map to samples of shape (n, c) (or one point of shape (c,))."""
        x = np.asarray(samples, dtype=np.float64)
        if x.shape[-1:] != self.offset.shape or x.ndim > 2:
            raise ValueError(
                f"Samples must have shape (n, {self.offset.size}), but they have shape {x.shape}."
            )
        return x @ self.matrix.T + self.offset


def gaussian_monge_map(mean_x, cov_x, mean_y, cov_y) -> MongeMap:
    r"""The optimal transport map from :math:`N(\mu_x,\Sigma_x)` to :math:`N(\mu_y,\Sigma_y)`.

    .. math::

        T(x) = \mu_y + A(x-\mu_x), \qquad
        A = \Sigma_x^{-1/2}\big(\Sigma_x^{1/2}\Sigma_y\Sigma_x^{1/2}\big)^{1/2}\Sigma_x^{-1/2}

    :math:`A` is symmetric positive semi-definite, so :math:`T` is the gradient of a convex function
    and (Brenier) the optimal map; its cost :math:`E\lVert x-T(x)\rVert^2` equals ``gaussian_w2``
    squared. Explained (arrows between samples) in notebook ``02_wasserstein_between_gaussians``.

    Singular :math:`\Sigma_x`: the source lives on the affine subspace
    :math:`\mu_x + \operatorname{range}\Sigma_x`, and :math:`\Sigma_x^{-1/2}` is replaced by the
    pseudo-inverse square root (inverse on that support, zero on the null space). With :math:`P` the
    orthogonal projector onto :math:`\operatorname{range}\Sigma_x`, the returned map pushes the source
    onto :math:`N(\mu_y, P\Sigma_y P)`. That is the target exactly when
    :math:`\operatorname{range}\Sigma_y \subseteq \operatorname{range}\Sigma_x`, and then the map is
    optimal. Otherwise no affine map of this kind reaches the target (an optimal *map* need not exist
    at all: a point mass, ``PAIRS["WZ"].mean_x``, cannot be sent onto a spread-out Gaussian by any
    map), and what you get is the optimal map onto the target's projection :math:`P\Sigma_y P`;
    :func:`gaussian_w2` stays exact in every case.

    Parameters
    ----------
    mean_x, mean_y : array_like, shape (c,)
    cov_x, cov_y : array_like, shape (c, c)

    Returns
    -------
    MongeMap
    """
    mx, cx, my, cy = _as_gaussian_pair(mean_x, cov_x, mean_y, cov_y)
    lam, vec = _eigh_psd(cx)
    root_x = (vec * np.sqrt(lam)) @ vec.T
    inv_root_x = _pinv_sqrt(lam, vec)
    middle = sqrtm_psd(0.5 * ((root_x @ cy @ root_x) + (root_x @ cy @ root_x).T))
    a = inv_root_x @ middle @ inv_root_x
    a = 0.5 * (a + a.T)
    return MongeMap(matrix=a, offset=my - a @ mx)


def gaussian_barycenter(means, covs, weights=None, *, tol: float = 1e-10,
                        max_iter: int = 1000, objective_tol: float | None = None) -> Moments:
    r"""Wasserstein barycentre of Gaussians (used to mix several styles).

    The barycentre of :math:`N(\mu_i,\Sigma_i)` with weights :math:`w_i` is :math:`N(\mu,\Sigma)` with
    :math:`\mu = \sum_i w_i\mu_i` and :math:`\Sigma` the fixed point of (Alvarez-Esteban, del Barrio,
    Cuesta-Albertos and Matran, 2016, Theorem 4.2)

    .. math::

        \Sigma \leftarrow \Sigma^{-1/2}\Big(\sum_i w_i\big(\Sigma^{1/2}\Sigma_i\Sigma^{1/2}\big)^{1/2}
        \Big)^2\Sigma^{-1/2}

    started from :math:`\sum_i w_i\Sigma_i` and stopped when the relative Frobenius change is below
    ``tol``. The theory (convergence, uniqueness) assumes at least one positive definite
    :math:`\Sigma_i` with positive weight; with only singular ones the pseudo-inverse square root is
    used on the current support. With exactly two positive weights :math:`(1-t, t)` the barycentre is
    the point at :math:`t` on the W2 geodesic, computed in closed form (exact even for singular
    covariances, where the iteration is slow). Explained, and used for style mixing, in notebook
    ``06_colour_texture_and_mixing.ipynb``; the two-Gaussian case is the geodesic drawn in notebook
    ``02_wasserstein_between_gaussians.ipynb``.

    Parameters
    ----------
    means : array_like, shape (k, c)
    covs : array_like, shape (k, c, c)
    weights : array_like, shape (k,), optional
        Non-negative, not all zero; normalised to sum to 1. Equal weights by default.
    tol : float
        Stop when :math:`\lVert\Sigma_{new}-\Sigma\rVert_F \le tol\,\max(1, \lVert\Sigma\rVert_F)`.
    max_iter : int
        Raise ``ValueError`` if the iteration has not converged after this many steps.
    objective_tol : float, optional
        Also stop when one step lowers the barycentric cost
        :math:`\sum_i w_i W_2^2(N(0,\Sigma), N(0,\Sigma_i))` by at most ``objective_tol`` times its value
        (the cost comes free with the step). With three or more singular covariances (deep layers of
        small images) the matrix converges slowly, linearly at a rate near 0.95 per step, while the
        cost settles much sooner: three covariances of rank 64 in 256 channels needed more than 1000
        steps for ``tol=1e-10``; with ``objective_tol=1e-7`` the cost is within 2e-7 of the value at
        ``1e-8`` long before the matrix settles. The style-mixing loss uses ``1e-7``; ``None`` (the default) stops on
        ``tol`` only.

    Returns
    -------
    Moments
        ``(mean (c,), cov (c, c))``.
    """
    m = np.asarray(means, dtype=np.float64)
    cs = np.asarray(covs, dtype=np.float64)
    if m.ndim != 2 or cs.ndim != 3 or cs.shape[1:] != (m.shape[1], m.shape[1]):
        raise ValueError(
            f"means must have shape (k, c) and covs (k, c, c); got {m.shape} and {cs.shape}."
        )
    if m.shape[0] != cs.shape[0] or m.shape[0] == 0:
        raise ValueError(f"There must be as many means as covariances (got {m.shape[0]} and {cs.shape[0]}).")
    k = m.shape[0]
    w = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if w.shape != (k,):
        raise ValueError(f"There must be one weight per Gaussian: {k} Gaussians but {w.size} weights.")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("Weights must be finite, non-negative and not all zero.")
    w = w / w.sum()
    cs = np.stack([_as_cov(c, f"covs[{i}]") for i, c in enumerate(cs)])
    mean = w @ m
    positive = np.flatnonzero(w > 0)
    if positive.size == 2:
        # Two Gaussians (the usual style mix): the point at t = w_j on the W2 geodesic, in closed form,
        # the law of w_i X + w_j Y under the optimal coupling, whose cross-covariance is
        # K = A^1/2 V U^T B^1/2 with B^1/2 A^1/2 = U S V^T (tr K = tr S, the maximum). Exact also for
        # singular covariances (small images, deep layers), where the fixed point below crawls (hundreds
        # of slow steps at 512 channels) and the barycentre need not be unique (any optimal coupling
        # gives one). Equals the fixed point to ~1e-11 for positive definite ones (tests/test_mixing.py).
        i, j = positive
        root_i, root_j = sqrtm_psd(cs[i]), sqrtm_psd(cs[j])
        u, _, vt = np.linalg.svd(root_j @ root_i)
        cross = root_i @ vt.T @ u.T @ root_j
        cov = w[i] ** 2 * cs[i] + w[j] ** 2 * cs[j] + w[i] * w[j] * (cross + cross.T)
        return Moments(mean, 0.5 * (cov + cov.T))
    cov = np.einsum("i,ijk->jk", w, cs)
    fixed = float(sum(wi * np.trace(ci) for wi, ci in zip(w, cs)))
    previous = np.inf
    for _ in range(max_iter):
        lam, vec = _eigh_psd(cov)
        root = (vec * np.sqrt(lam)) @ vec.T
        inv_root = _pinv_sqrt(lam, vec)
        inner = sum(wi * sqrtm_psd(root @ ci @ root) for wi, ci in zip(w, cs) if wi > 0)
        # sum_i w_i W2^2(cov, cov_i), centred: tr cov + sum w_i tr cov_i - 2 tr inner
        cost = float(np.sum(lam)) + fixed - 2.0 * float(np.trace(inner))
        new = inv_root @ inner @ inner @ inv_root
        new = 0.5 * (new + new.T)
        change = np.linalg.norm(new - cov)
        cov = new
        if change <= tol * max(1.0, float(np.linalg.norm(cov))):
            return Moments(mean, cov)
        if objective_tol is not None and previous - cost <= objective_tol * max(abs(cost), np.finfo(float).tiny):
            return Moments(mean, cov)
        previous = cost
    raise ValueError(
        f"The barycentre iteration did not converge within max_iter={max_iter} steps; "
        "increase max_iter or tol."
    )
