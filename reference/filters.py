"""Fixed edge-detection kernels (3 x 3) for ``conv.conv2d_forward``.

Sobel and Prewitt in the x direction respond to intensity that increases to the right
(the orientation of OpenCV's ``Sobel(dx=1)``); the y kernels are their transposes (increasing
downwards):

    sobel_x = [[-1, 0, 1],      prewitt_x = [[-1, 0, 1],
               [-2, 0, 2],                   [-1, 0, 1],
               [-1, 0, 1]]                   [-1, 0, 1]]

Through ``F.conv2d`` (cross-correlation, no flip) the feature map is Σ k[p, q] x[i + p, j + q].
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import choose
from .conv import conv2d_forward

__all__ = ["ImageGradient", "edge_kernel", "gaussian_kernel", "image_gradient"]

_X_KERNELS = {
    "sobel": np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]),
    "prewitt": np.array([[-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]]),
}
_DIRECTIONS = {"x": lambda k: k, "y": lambda k: k.T}


def edge_kernel(name: str, direction: str = "x") -> np.ndarray:
    """The 3 x 3 ``name`` ("sobel" | "prewitt") kernel for ``direction`` ("x" | "y"), shaped
    (1, 1, 3, 3) as a conv2d weight (C_out, C_in, kH, kW)."""
    k = choose(direction, "direction", _DIRECTIONS)(choose(name, "name", _X_KERNELS))
    return k.reshape(1, 1, 3, 3).copy()


class ImageGradient(NamedTuple):
    """Per output pixel (N, 1, H - 2, W - 2): the two filter responses, the gradient magnitude and
    its direction in degrees, in (-180, 180]."""

    gx: np.ndarray
    gy: np.ndarray
    magnitude: np.ndarray
    direction: np.ndarray


# |g| from (gx, gy): the Euclidean norm, or the |gx| + |gy| shortcut (a mistake when |g| is asked)
_MAGNITUDES = {"l2": np.hypot, "l1": lambda gx, gy: np.abs(gx) + np.abs(gy)}


def _atan_direction(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """arctan(gy / gx) in degrees: the quadrant is lost when gx < 0 (±90 where gx = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(gx == 0, np.sign(gy) * 90.0, np.degrees(np.arctan(gy / np.where(gx == 0, 1.0, gx))))


# direction of (gx, gy) in degrees: atan2 (the full circle) or the one-argument arctan (a mistake)
_DIRECTIONS_DEG = {"atan2": lambda gx, gy: np.degrees(np.arctan2(gy, gx)), "atan": _atan_direction}


def image_gradient(
    x,
    name: str = "sobel",
    *,
    magnitude: str = "l2",
    angle: str = "atan2",
    convention: str = "cross_correlation",
) -> ImageGradient:
    """Gradient of an image x (N, 1, H, W) by an edge filter, no padding:

        G_x = x ⋆ k_x,  G_y = x ⋆ k_y  (``conv2d_forward`` with ``edge_kernel(name, "x" | "y")``),
        |G| = sqrt(G_x² + G_y²),  θ = atan2(G_y, G_x) in degrees (y grows downwards, as rows do).

    Mistakes by keyword: ``magnitude="l1"`` (|G_x| + |G_y|), ``angle="atan"`` (arctan(G_y/G_x),
    which loses the quadrant when G_x < 0), ``convention="convolution"`` (flipped kernels: both
    responses change sign and θ turns by 180°). A direction of exactly -180 is reported as 180.
    """
    kx, ky = edge_kernel(name, "x"), edge_kernel(name, "y")
    gx = conv2d_forward(x, kx, convention=convention).out
    gy = conv2d_forward(x, ky, convention=convention).out
    mag = choose(magnitude, "magnitude", _MAGNITUDES)(gx, gy)
    theta = choose(angle, "angle", _DIRECTIONS_DEG)(gx, gy)
    theta = np.where(theta <= -180.0, theta + 360.0, theta)
    return ImageGradient(gx, gy, mag, theta)


# the exponent's denominator 2·s for the given sigma: s = σ² (sigma is the std) or the mistake s = σ
_SPREADS = {"std": lambda sigma: sigma * sigma, "variance": lambda sigma: sigma}


def gaussian_kernel(size: int, sigma: float, *, normalize: bool = True, spread: str = "std") -> np.ndarray:
    """The ``size`` × ``size`` Gaussian blur kernel (size odd), shaped (1, 1, size, size) as a conv2d
    weight, centred at c = (size - 1)/2:

        G[i, j] = exp(-((i - c)² + (j - c)²) / (2σ²)) / Σ_{p,q} exp(-((p - c)² + (q - c)²) / (2σ²)),

    so the weights sum to 1 and a flat image stays flat (torchvision's ``gaussian_blur``, the outer
    product of two normalised 1-D kernels, is the same). Mistakes by keyword:
    ``normalize=False`` divides by the continuous density's 2πσ² instead of the sum;
    ``spread="variance"`` reads sigma as the variance (2σ in the exponent).
    """
    k = int(size)
    if k != size or k < 1 or k % 2 == 0:
        raise ValueError(f"size: expected an odd positive integer, got {size!r}")
    sigma = float(sigma)
    if not sigma > 0:
        raise ValueError(f"sigma: expected a positive standard deviation, got {sigma!r}")
    s = choose(spread, "spread", _SPREADS)(sigma)
    d = np.arange(k) - (k - 1) / 2
    g = np.exp(-(d[:, None] ** 2 + d[None, :] ** 2) / (2.0 * s))
    total = choose(normalize, "normalize", {True: lambda: g.sum(), False: lambda: 2.0 * np.pi * s})()
    return (g / total).reshape(1, 1, k, k)
