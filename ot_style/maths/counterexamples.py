"""The two pairs of Gaussians that show the Gram loss is not a metric (the theory notebook's examples).

Each pair has different means and covariances but the *same* raw second moment
:math:`\\Sigma + \\mu\\mu^\\top` (the Gram matrix a feature cloud converges to), so Gatys' loss (eq. 4)
between them is zero while their Wasserstein distance (eq. 2) is not:

- ``"XY"``: two 3-D Gaussians; the covariance of Y is singular (its first component has zero variance).
- ``"WZ"``: W is the point mass at (1, 1, 1) (zero covariance), Z is N(0, 11^T) (all three channels the
  same standard normal). Both have Gram matrix 11^T; :math:`W_2(W, Z) = \\sqrt 6`.

Read as colours (RGB), samples of the two members of a pair look nothing alike, which notebook
``01_gram_is_not_a_metric.ipynb`` shows as colour patches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["GaussianPair", "PAIRS", "pair"]


@dataclass(frozen=True)
class GaussianPair:
    """Two Gaussians with equal Gram matrices (see the module docstring).

    Attributes
    ----------
    name : str
        ``"XY"`` or ``"WZ"``.
    mean_x, mean_y : ndarray, shape (3,)
    cov_x, cov_y : ndarray, shape (3, 3)
        Symmetric positive semi-definite; singular ones are part of the point.
    """

    name: str
    mean_x: np.ndarray
    cov_x: np.ndarray
    mean_y: np.ndarray
    cov_y: np.ndarray

    @property
    def gram_x(self) -> np.ndarray:
        """The analytic Gram matrix of the first Gaussian, :math:`\\Sigma_x + \\mu_x\\mu_x^\\top`."""
        return self.cov_x + np.outer(self.mean_x, self.mean_x)

    @property
    def gram_y(self) -> np.ndarray:
        """The analytic Gram matrix of the second Gaussian, :math:`\\Sigma_y + \\mu_y\\mu_y^\\top`."""
        return self.cov_y + np.outer(self.mean_y, self.mean_y)

    def sample(self, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` samples of each Gaussian with a seeded generator.

        Singular covariances are sampled exactly (through a symmetric square root, not a Cholesky
        factor, which would fail on them).

        Parameters
        ----------
        n : int
            Number of samples of each member, at least 1.
        seed : int
            Seed of :func:`numpy.random.default_rng`; the same seed gives the same samples.

        Returns
        -------
        x, y : ndarray, shape (n, 3)
        """
        from .gaussian import sqrtm_psd

        n = int(n)
        if n < 1:
            raise ValueError(f"The number of samples must be at least 1, got {n}.")
        rng = np.random.default_rng(seed)
        z = rng.standard_normal((2, n, self.mean_x.size))
        x = self.mean_x + z[0] @ sqrtm_psd(self.cov_x)
        y = self.mean_y + z[1] @ sqrtm_psd(self.cov_y)
        return x, y


def _covariance(sigma, corr) -> np.ndarray:
    # As in the theory notebook: cov = sigma^T * corr * sigma (element-wise), PSD by construction.
    sigma = np.asarray(sigma, dtype=np.float64)
    return np.outer(sigma, sigma) * np.asarray(corr, dtype=np.float64)


_R = -0.25 / np.sqrt(1.25)

PAIRS: dict[str, GaussianPair] = {
    "XY": GaussianPair(
        name="XY",
        mean_x=np.array([0.0, -0.5, 0.5]),
        cov_x=_covariance([1.0, 1.0, 1.0], [[1.0, -0.5, 0.0], [-0.5, 1.0, 0.0], [0.0, 0.0, 1.0]]),
        mean_y=np.array([1.0, -0.5, 0.0]),
        cov_y=_covariance([0.0, 1.0, np.sqrt(1.25)], [[1.0, 0.0, -0.5], [0.0, 1.0, _R], [-0.5, _R, 1.0]]),
    ),
    "WZ": GaussianPair(
        name="WZ",
        mean_x=np.ones(3),
        cov_x=np.zeros((3, 3)),
        mean_y=np.zeros(3),
        cov_y=np.ones((3, 3)),
    ),
}


def pair(name: str) -> GaussianPair:
    """The counterexample pair called ``name`` (``"XY"`` or ``"WZ"``), with a clear error otherwise."""
    try:
        return PAIRS[name]
    except KeyError:
        raise ValueError(f"There is no counterexample pair {name!r}; choose one of {sorted(PAIRS)}.") from None
