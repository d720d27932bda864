"""Reference solution for examples/assignments/batchnorm.yaml."""

import numpy as np


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mean = x.mean(axis=0)
    var = x.var(axis=0)
    inv = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv
    return gamma * x_hat + beta, (x_hat, gamma, inv)


def batchnorm_backward(dout, cache):
    x_hat, gamma, inv = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = gamma * inv * (dout - dout.mean(axis=0) - x_hat * (dout * x_hat).mean(axis=0))
    return dx, dgamma, dbeta
