"""A PyTorch twin of ot-style's hot loop, for benchmarks/transfer.py (benchmark-only; needs ``torch``).

Same computation as the TensorFlow engine, step for step, so the timing ratio compares frameworks and
not algorithms:

- VGG19 to the deepest requested layer: 3x3 'same' convolutions + ReLU, 2x2 stride-2 max pooling,
  input x 255, RGB -> BGR, Caffe mean removed; the kernels are ot-style's own seeded He-normal random
  weights (``ot_style.network.weights.load_weights("random")``) transposed to PyTorch's (out, in, h, w), held
  as plain tensors without ``requires_grad`` (only the input gradient is computed, as in TF).
- W2 loss (eq. 3): unbiased moments (eq. 1) of each layer's features; style mean, covariance and its
  square root computed once in float64 NumPy (``ot_style.maths.gaussian``); each step one symmetric float64
  eigendecomposition (of S^1/2 C S^1/2, or of the n x n kernel when n < c) with the eigenvalue-only
  gradient capped near 0, the same tolerances as ``ot_style.losses`` (W2Loss with float64 targets).
- The same float64 SciPy L-BFGS-B driver (``transfer.lbfgs_seconds``) calls :meth:`TorchW2.evaluate`.

PyTorch runs eagerly, as style-transfer code in PyTorch usually does (crowsonkb/style-transfer-pytorch);
no ``torch.compile``.
"""

from __future__ import annotations

import numpy as np

from ot_style.maths import gaussian
from ot_style.layers import VGG19_LAYERS
from ot_style.maths.moments import feature_moments
from ot_style.network.weights import CAFFE_BGR_MEAN, load_weights


def available() -> str | None:
    """PyTorch's version, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch.__version__


class TorchW2:
    """VGG19 + W2 style loss in PyTorch; ``evaluate(x float64 flat) -> (loss, gradient float64 flat)``.

    Parameters
    ----------
    style : ndarray, shape (h, w, 3), float32 in [0, 1]
    layers : sequence of str
    shape : tuple (h, w, 3)
        Shape of the optimised image.
    threads : int
        ``torch.set_num_threads`` (the same count as TensorFlow's intra-op threads).
    seed : int
        Seed of the random VGG weights (the same weights the TF side uses with this seed).
    """

    def __init__(self, style, layers, shape, *, threads: int, seed: int = 0):
        import torch

        torch.set_num_threads(int(threads))
        self.torch = torch
        self.layers = tuple(layers)
        self.shape = tuple(shape)
        deepest = max(VGG19_LAYERS.index(name) for name in self.layers)
        self.plan = VGG19_LAYERS[: deepest + 1]
        convs = [name for name in self.plan if name.startswith("conv")]
        net = load_weights("random", upto=convs[-1], seed=seed)
        self.kernels = {name: torch.from_numpy(np.ascontiguousarray(net.kernels[name].transpose(3, 2, 0, 1)))
                        for name in convs}
        self.biases = {name: torch.from_numpy(net.biases[name]) for name in convs}
        self.mean = torch.tensor(CAFFE_BGR_MEAN, dtype=torch.float32).reshape(1, 3, 1, 1)
        with torch.no_grad():
            feats = self.features(torch.from_numpy(np.asarray(style, np.float32)[None]))
        self.targets = {}
        for name in self.layers:
            x = feats[name][0].permute(1, 2, 0).reshape(-1, feats[name].shape[1]).double().numpy()
            mean_s, cov_s = feature_moments(x)
            root = gaussian.sqrtm_psd(cov_s)
            self.targets[name] = tuple(torch.from_numpy(np.asarray(a, np.float64)) for a in (mean_s, cov_s, root))

    def features(self, images):
        """images (b, h, w, 3) float32 RGB in [0, 1] -> dict layer -> (b, c, h', w')."""
        import torch.nn.functional as F

        x = images.permute(0, 3, 1, 2) * 255.0
        x = x.flip(1) - self.mean  # RGB -> BGR, Caffe mean
        out = {}
        for name in self.plan:
            kind = name[:4]
            if kind == "conv":
                x = F.conv2d(x, self.kernels[name], self.biases[name], padding=1)
            elif kind == "relu":
                x = F.relu(x)
            else:
                x = F.max_pool2d(x, 2, 2)
            if name in self.layers:
                out[name] = x
        return out

    def _trace_sqrt(self, middle, value_tol, grad_floor):
        torch = self.torch

        class TraceSqrt(torch.autograd.Function):
            @staticmethod
            def forward(ctx, mat):
                lam, vec = torch.linalg.eigh(mat)
                ctx.save_for_backward(lam, vec)
                return torch.sqrt(torch.where(lam > value_tol, lam, torch.zeros_like(lam))).sum()

            @staticmethod
            def backward(ctx, upstream):
                lam, vec = ctx.saved_tensors
                slope = 0.5 * torch.rsqrt(torch.clamp(lam, min=grad_floor))
                return upstream * (vec * slope) @ vec.T

        return TraceSqrt.apply(middle)

    def w2(self, x, target):
        """Squared Gaussian W2 of samples x (n, c) float32 to a target; the engine's numerics.

        As ``ot_style.losses.W2Loss``: targets in float64, the image covariance in float32 then cast,
        the eigendecomposition in float64; with fewer samples than channels (relu5_1 at 256 px) the
        n x n kernel D S D^T / (n - 1) replaces the c x c matrix S^1/2 C S^1/2 (same non-zero spectrum).
        """
        torch = self.torch
        mean_s, cov_s, root = target
        n, c = x.shape
        if n < c:
            x64 = x.double()
            mean_x = x64.mean(0)
            d = x64 - mean_x
            middle = d @ (d @ cov_s).T / (n - 1.0)
            trace_x = (d * d).sum() / (n - 1.0)
            norm_x = float(trace_x.detach())
        else:
            mean_x = x.mean(0)
            d = x - mean_x
            cov_x = (d.T @ d / (n - 1.0)).double()
            cov_x = 0.5 * (cov_x + cov_x.T)
            mean_x = mean_x.double()
            middle = root @ (cov_x @ root)
            trace_x = torch.trace(cov_x)
            norm_x = float(torch.linalg.norm(cov_x.detach()))
        middle = 0.5 * (middle + middle.T)
        eps64, tiny64 = float(np.finfo(np.float64).eps), float(np.finfo(np.float64).tiny)
        norm_s = float(torch.linalg.norm(cov_s))
        value_tol = c * eps64 * norm_s * norm_x
        grad_floor = 0.01 * float(np.finfo(np.float32).eps) * norm_s * max(norm_x, norm_s) + tiny64
        cross = self._trace_sqrt(middle, value_tol, grad_floor)
        value = ((mean_x - mean_s) ** 2).sum() + trace_x + torch.trace(cov_s) - 2.0 * cross
        return value.float()

    def loss(self, image):
        feats = self.features(image)
        total = 0.0
        for name in self.layers:
            f = feats[name][0]
            total = total + self.w2(f.permute(1, 2, 0).reshape(-1, f.shape[0]), self.targets[name])
        return total

    def evaluate(self, x):
        """Flat float64 pixels -> (loss float, gradient float64 flat): what SciPy's L-BFGS-B calls."""
        torch = self.torch
        image = torch.from_numpy(np.asarray(x, np.float32).reshape((1,) + self.shape)).requires_grad_(True)
        value = self.loss(image)
        value.backward()
        return float(value.detach()), image.grad.numpy().astype(np.float64).ravel()
