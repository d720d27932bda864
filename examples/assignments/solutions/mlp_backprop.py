"""Reference solution for examples/assignments/mlp_backprop.yaml."""

import numpy as np


def two_layer_loss_and_grads(x, y, w1, b1, w2, b2):
    n = x.shape[0]
    z1 = x @ w1.T + b1
    a1 = np.maximum(z1, 0.0)
    z2 = a1 @ w2.T + b2
    shifted = z2 - z2.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(n), y].mean()
    delta2 = np.exp(log_p)
    delta2[np.arange(n), y] -= 1.0
    delta2 /= n
    dw2, db2 = delta2.T @ a1, delta2.sum(axis=0)
    delta1 = (delta2 @ w2) * (z1 > 0)
    dw1, db1 = delta1.T @ x, delta1.sum(axis=0)
    return float(loss), dw1, db1, dw2, db2
