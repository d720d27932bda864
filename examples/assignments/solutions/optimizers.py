"""Reference solution for examples/assignments/optimizers.yaml."""

import numpy as np


def sgd_momentum_step(p, g, buf, lr, momentum):
    buf_new = momentum * buf + g
    return p - lr * buf_new, buf_new


def adam_step(p, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m_new = beta1 * m + (1 - beta1) * g
    v_new = beta2 * v + (1 - beta2) * g**2
    m_hat = m_new / (1 - beta1**t)
    v_hat = v_new / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new
