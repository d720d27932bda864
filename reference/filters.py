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

import numpy as np

from ._checks import choose

__all__ = ["edge_kernel"]

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
