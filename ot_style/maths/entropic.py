r"""Entropic optimal transport (Cuturi 2013): Sinkhorn's plan between two uniform clouds.

Exact EMD solves a linear programme whose cost grows roughly as :math:`n^3`. Adding an entropy term
makes the problem strictly convex and solvable by alternately rescaling the rows and the columns of a
matrix (Sinkhorn's iterations), each step a matrix-vector product of cost :math:`nm`:

.. math::

    P_\varepsilon = \operatorname*{arg\,min}_{P \in U(a, b)} \langle P, C\rangle - \varepsilon H(P),
    \qquad H(P) = -\sum_{ij} P_{ij}\log P_{ij},

with :math:`U(a, b)` the couplings of the uniform weights :math:`a = \tfrac1n\mathbf 1`,
:math:`b = \tfrac1m\mathbf 1`. As :math:`\varepsilon \to 0` the transport cost
:math:`\langle P_\varepsilon, C\rangle` decreases to the exact EMD cost and the entropy
:math:`H(P_\varepsilon)` decreases to that of an optimal plan; as :math:`\varepsilon \to \infty` the plan
becomes the independent coupling :math:`ab^\top`. Notebook ``03_the_cost_of_exact_emd.ipynb`` teaches it
(with a slider on :math:`\varepsilon`) next to exact EMD and the Gaussian closed form.

POT (:func:`ot.sinkhorn`) does the iterations; it is imported inside :func:`sinkhorn_plan`
(:func:`ot_style.maths.pot.import_pot`), so importing this module stays light.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .emd import MAX_EMD_ENTRIES
from .pot import import_pot

__all__ = ["EntropicPlan", "plan_entropy", "sinkhorn_plan"]

# exp(-x) is 0 in float64 once x > 745: a column (or row) of the Gibbs kernel exp(-C / eps) that is all
# zero makes Sinkhorn's scaling divide by 0, so such problems go to POT's log-domain iterations.
_UNDERFLOW = 700.0


@dataclass(frozen=True)
class EntropicPlan:
    """Sinkhorn's answer for one :math:`\\varepsilon`.

    Attributes
    ----------
    plan : ndarray, shape (n, m)
        :math:`P_\\varepsilon`; rows sum to :math:`1/n`, columns to :math:`1/m` (up to ``marginal_error``).
    cost : float
        :math:`\\langle P_\\varepsilon, C\\rangle`, the transport cost of the plan without the entropy
        term: the number :func:`ot.sinkhorn2` returns.
    entropy : float
        :math:`H(P_\\varepsilon) = -\\sum P_{ij}\\log P_{ij}`, between :math:`\\log\\max(n, m)` and
        :math:`\\log(nm)` (the independent coupling).
    epsilon : float
    iterations : int
        Sinkhorn iterations done (grows roughly like :math:`1/\\varepsilon`).
    marginal_error : float
        :math:`\\lVert P\\mathbf 1 - a\\rVert_1 + \\lVert P^\\top\\mathbf 1 - b\\rVert_1`.
    converged : bool
        Whether POT's stopping test (column marginals within ``tol``) was met before ``max_iter``.
    """

    plan: np.ndarray
    cost: float
    entropy: float
    epsilon: float
    iterations: int
    marginal_error: float
    converged: bool


def plan_entropy(plan) -> float:
    r"""Entropy of a transport plan, :math:`H(P) = -\sum_{ij} P_{ij}\log P_{ij}` (with :math:`0\log 0 = 0`).

    Notebook ``03_the_cost_of_exact_emd.ipynb``.

    Parameters
    ----------
    plan : array_like, shape (n, m)
        Non-negative entries (a coupling sums to 1).

    Returns
    -------
    float
    """
    p = np.asarray(plan, dtype=np.float64)
    if np.any(p < 0) or not np.all(np.isfinite(p)):
        raise ValueError("A transport plan must have finite, non-negative entries.")
    q = p[p > 0]
    return float(-np.sum(q * np.log(q)))


def sinkhorn_plan(cost, epsilon: float, *, max_iter: int = 10_000, tol: float = 1e-7) -> EntropicPlan:
    r"""Entropic transport plan between uniform weights by Sinkhorn's iterations (Cuturi 2013).

    .. math::

        P_\varepsilon = \operatorname{diag}(u)\,e^{-C/\varepsilon}\operatorname{diag}(v), \qquad
        u \leftarrow a \oslash (K v), \quad v \leftarrow b \oslash (K^\top u)

    minimises :math:`\langle P, C\rangle - \varepsilon H(P)` over the couplings of
    :math:`a = \tfrac1n\mathbf 1` and :math:`b = \tfrac1m\mathbf 1`. Subtracting a constant from a row of
    :math:`C` changes :math:`\langle P, C\rangle` by the same amount for every coupling, so the plan is
    computed from :math:`C_{ij} - \min_k C_{ik}` (no row of the kernel underflows); when a column still
    would, POT's log-domain iterations are used instead (slower, same plan). ``epsilon`` has the units
    of the cost (squared distances for :math:`W_2^2`). Notebook ``03_the_cost_of_exact_emd.ipynb``.

    Parameters
    ----------
    cost : array_like, shape (n, m)
        Finite cost matrix, e.g. squared distances :math:`\lVert x_i - y_j\rVert^2`.
    epsilon : float
        Strength :math:`\varepsilon > 0` of the entropy term.
    max_iter : int
        Most Sinkhorn iterations; a plan that has not met ``tol`` by then comes back with
        ``converged=False``.
    tol : float
        Stop when the column marginals are within ``tol`` (Euclidean norm) of :math:`b`.

    Returns
    -------
    EntropicPlan
    """
    ot = import_pot()
    c = np.asarray(cost, dtype=np.float64)
    if c.ndim != 2 or min(c.shape) < 1:
        raise ValueError(f"cost must be an (n, m) matrix with n, m >= 1, got shape {np.shape(cost)}.")
    if c.size > MAX_EMD_ENTRIES:
        raise ValueError(f"A {c.shape[0]}x{c.shape[1]} cost matrix is too large (at most {MAX_EMD_ENTRIES:,} "
                         "entries); compare fewer points.")
    if not np.all(np.isfinite(c)):
        raise ValueError("cost contains NaN or infinite values.")
    eps = float(epsilon)
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"epsilon must be a positive number, got {epsilon}.")
    if int(max_iter) < 1 or not float(tol) > 0:
        raise ValueError(f"max_iter must be at least 1 and tol positive, got {max_iter} and {tol}.")
    n, m = c.shape
    a, b = np.full(n, 1.0 / n), np.full(m, 1.0 / m)
    reduced = c - c.min(axis=1, keepdims=True)  # the same plan; every row of exp(-reduced/eps) has a 1
    unsafe = bool(np.any(reduced.min(axis=0) / eps > _UNDERFLOW))
    plan = log = None
    for method in (("sinkhorn_log",) if unsafe else ("sinkhorn", "sinkhorn_log")):
        with warnings.catch_warnings(record=True) as caught, np.errstate(divide="ignore", invalid="ignore",
                                                                         over="ignore", under="ignore"):
            warnings.simplefilter("always")
            plan, log = ot.sinkhorn(a, b, reduced, eps, method=method, numItermax=int(max_iter),
                                    stopThr=float(tol), log=True, warn=False)
        plan = np.asarray(plan, dtype=np.float64)
        numerical = any("numerical error" in str(w.message).lower() for w in caught)
        if not numerical and np.all(np.isfinite(plan)):
            break
    if plan is None or not np.all(np.isfinite(plan)):
        raise ValueError(f"Sinkhorn failed numerically at epsilon = {eps:g}; use a larger epsilon.")
    iterations = int(log["niter"]) + 1
    converged = bool(log["err"]) and float(log["err"][-1]) < float(tol)
    error = float(np.abs(plan.sum(axis=1) - a).sum() + np.abs(plan.sum(axis=0) - b).sum())
    return EntropicPlan(plan=plan, cost=float(np.sum(plan * c)), entropy=plan_entropy(plan), epsilon=eps,
                        iterations=iterations, marginal_error=error, converged=converged)
