"""Plain-NumPy optimizers written from the published algorithms.

Independent of fastopt's compiled code: each function takes the parameters,
the gradient, a dict of state and the 1-based step t, and returns the new
parameters, following the pseudo-code of PyTorch's ``torch.optim`` docs (and
scikit-learn's ``_stochastic_optimizers.py`` for the two ``sklearn_*`` rules).
"""

import numpy as np


def sgd(p, g, s, t, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    g = g + weight_decay * p
    if momentum != 0:
        if t == 1:
            s["b"] = g.copy()
        else:
            s["b"] = momentum * s["b"] + (1 - dampening) * g
        g = g + momentum * s["b"] if nesterov else s["b"]
    return p - lr * g


def adagrad(p, g, s, t, lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
            eps=1e-10):
    s.setdefault("sum", np.full_like(p, initial_accumulator_value))
    clr = lr / (1 + (t - 1) * lr_decay)
    g = g + weight_decay * p
    s["sum"] = s["sum"] + g * g
    return p - clr * g / (np.sqrt(s["sum"]) + eps)


def rmsprop(p, g, s, t, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
            centered=False):
    s.setdefault("v", np.zeros_like(p))
    s.setdefault("gavg", np.zeros_like(p))
    s.setdefault("b", np.zeros_like(p))
    g = g + weight_decay * p
    s["v"] = alpha * s["v"] + (1 - alpha) * g * g
    v = s["v"]
    if centered:
        s["gavg"] = alpha * s["gavg"] + (1 - alpha) * g
        v = v - s["gavg"] ** 2
    if momentum > 0:
        s["b"] = momentum * s["b"] + g / (np.sqrt(v) + eps)
        return p - lr * s["b"]
    return p - lr * g / (np.sqrt(v) + eps)


def adam(p, g, s, t, lr, beta_1=0.9, beta_2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False,
         decoupled=False):
    s.setdefault("m", np.zeros_like(p))
    s.setdefault("v", np.zeros_like(p))
    s.setdefault("vmax", np.zeros_like(p))
    if decoupled:
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    s["m"] = beta_1 * s["m"] + (1 - beta_1) * g
    s["v"] = beta_2 * s["v"] + (1 - beta_2) * g * g
    m_hat = s["m"] / (1 - beta_1**t)
    if amsgrad:
        s["vmax"] = np.maximum(s["vmax"], s["v"])
        v_hat = s["vmax"] / (1 - beta_2**t)
    else:
        v_hat = s["v"] / (1 - beta_2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


def adamw(p, g, s, t, lr, weight_decay=1e-2, **kw):
    return adam(p, g, s, t, lr, weight_decay=weight_decay, decoupled=True, **kw)


def nadam(p, g, s, t, lr, beta_1=0.9, beta_2=0.999, eps=1e-8, weight_decay=0.0,
          momentum_decay=4e-3):
    s.setdefault("m", np.zeros_like(p))
    s.setdefault("v", np.zeros_like(p))
    s.setdefault("mu_product", 1.0)
    g = g + weight_decay * p
    mu = beta_1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = beta_1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    s["mu_product"] *= mu
    s["m"] = beta_1 * s["m"] + (1 - beta_1) * g
    s["v"] = beta_2 * s["v"] + (1 - beta_2) * g * g
    denom = np.sqrt(s["v"] / (1 - beta_2**t)) + eps
    p = p - lr * (1 - mu) / (1 - s["mu_product"]) * g / denom
    return p - lr * mu_next / (1 - s["mu_product"] * mu_next) * s["m"] / denom


def sklearn_sgd(p, g, s, t, lr, momentum=0.9, nesterov=True):
    s.setdefault("u", np.zeros_like(p))
    s["u"] = momentum * s["u"] - lr * g
    if nesterov:
        return p + momentum * s["u"] - lr * g
    return p + s["u"]


def sklearn_adam(p, g, s, t, lr, beta_1=0.9, beta_2=0.999, eps=1e-8):
    s.setdefault("m", np.zeros_like(p))
    s.setdefault("v", np.zeros_like(p))
    s["m"] = beta_1 * s["m"] + (1 - beta_1) * g
    s["v"] = beta_2 * s["v"] + (1 - beta_2) * g * g
    lr_t = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    return p - lr_t * s["m"] / (np.sqrt(s["v"]) + eps)


def adadelta(p, g, s, t, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
    s.setdefault("v", np.zeros_like(p))
    s.setdefault("u", np.zeros_like(p))
    g = g + weight_decay * p
    s["v"] = rho * s["v"] + (1 - rho) * g * g
    delta = np.sqrt(s["u"] + eps) / np.sqrt(s["v"] + eps) * g
    s["u"] = rho * s["u"] + (1 - rho) * delta * delta
    return p - lr * delta


def adamax(p, g, s, t, lr=2e-3, beta_1=0.9, beta_2=0.999, eps=1e-8, weight_decay=0.0):
    s.setdefault("m", np.zeros_like(p))
    s.setdefault("u", np.zeros_like(p))
    g = g + weight_decay * p
    s["m"] = beta_1 * s["m"] + (1 - beta_1) * g
    s["u"] = np.maximum(beta_2 * s["u"], np.abs(g) + eps)
    return p - lr / (1 - beta_1 ** t) * s["m"] / s["u"]


def radam(p, g, s, t, lr=1e-3, beta_1=0.9, beta_2=0.999, eps=1e-8, weight_decay=0.0,
          decoupled_weight_decay=False):
    s.setdefault("m", np.zeros_like(p))
    s.setdefault("v", np.zeros_like(p))
    if decoupled_weight_decay:
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    s["m"] = beta_1 * s["m"] + (1 - beta_1) * g
    s["v"] = beta_2 * s["v"] + (1 - beta_2) * g * g
    m_hat = s["m"] / (1 - beta_1 ** t)
    rho_inf = 2 / (1 - beta_2) - 1
    rho_t = rho_inf - 2 * t * beta_2 ** t / (1 - beta_2 ** t)
    if rho_t <= 5:
        return p - lr * m_hat
    rect = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    return p - lr * m_hat * rect * np.sqrt(1 - beta_2 ** t) / (np.sqrt(s["v"]) + eps)


def rprop(p, g, s, t, lr=1e-2, etaminus=0.5, etaplus=1.2, step_size_min=1e-6,
          step_size_max=50.0):
    s.setdefault("prev", np.zeros_like(p))
    s.setdefault("step", np.full_like(p, lr))
    agree = g * s["prev"]
    factor = np.where(agree > 0, etaplus, np.where(agree < 0, etaminus, 1.0))
    s["step"] = np.clip(s["step"] * factor, step_size_min, step_size_max)
    g = np.where(agree < 0, 0.0, g)
    s["prev"] = g
    return p - np.sign(g) * s["step"]


def asgd(p, g, s, t, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0):
    s.setdefault("ax", np.zeros_like(p))
    eta = lr / (1 + lambd * lr * (t - 1)) ** alpha
    mu = 1 / max(1, t - 1 - t0)
    g = g + weight_decay * p
    p = p * (1 - lambd * eta) - eta * g
    s["ax"] = s["ax"] + mu * (p - s["ax"])
    return p


def lion(p, g, s, t, lr=1e-4, beta_1=0.9, beta_2=0.99, weight_decay=0.0):
    """Chen et al., 2023, Algorithm 2."""
    s.setdefault("m", np.zeros_like(p))
    c = beta_1 * s["m"] + (1 - beta_1) * g
    p = p - lr * (np.sign(c) + weight_decay * p)
    s["m"] = beta_2 * s["m"] + (1 - beta_2) * g
    return p


def clip(grads, clip_norm=None, clip_value=None):
    """Global-norm then value clipping, as torch's clip_grad_norm_ / clip_grad_value_."""
    if clip_norm is not None:
        norm = np.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads))
        coef = min(1.0, clip_norm / (norm + 1e-6))
        grads = [g * coef for g in grads]
    if clip_value is not None:
        grads = [np.clip(g, -clip_value, clip_value) for g in grads]
    return grads


def schedule(kind, lr, t, **kw):
    """Learning rate at 1-based step t."""
    if kind == "constant":
        return lr
    if kind == "invscaling":
        return lr / t ** kw["power_t"]
    if kind == "step":
        return lr * kw.get("gamma", 0.1) ** ((t - 1) // kw["step_size"])
    if kind == "exponential":
        return lr * kw["gamma"] ** (t - 1)
    if kind == "cosine":
        w, T, eta_min = kw.get("warmup_steps", 0), kw["t_max"], kw.get("eta_min", 0.0)
        if t <= w:
            return lr * t / w
        progress = min(1.0, (t - 1 - w) / (T - w))
        return eta_min + (lr - eta_min) * 0.5 * (1 + np.cos(np.pi * progress))
    raise ValueError(kind)
