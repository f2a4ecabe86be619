"""Use fastopt.optim with your own NumPy gradients.

A softmax regression on the digits data, written by hand: the loss and its
gradient come from NumPy, the update from a fastopt optimizer stepping one flat
parameter buffer in place (the weight matrix and bias are views into it). The
result is checked against scikit-learn's LogisticRegression, which minimises the
same objective with L-BFGS.

    python examples/custom_numpy_gradients.py
"""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from fastopt.optim import Adam, CosineAnnealing

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
n, d = X.shape
k = 10
Y = np.eye(k)[y]
C = 1.0                                   # LogisticRegression's inverse regularisation
l2 = 1.0 / (C * n)                        # the same penalty on the mean loss


def loss_and_grad(W, b):
    """Mean softmax cross-entropy + l2/2 ||W||^2 and its gradient."""
    Z = X @ W + b
    Z -= Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    P /= P.sum(axis=1, keepdims=True)
    loss = -np.log(P[np.arange(n), y]).mean() + 0.5 * l2 * np.sum(W * W)
    G = (P - Y) / n
    return loss, X.T @ G + l2 * W, G.sum(axis=0)


params = np.zeros(d * k + k)              # one flat buffer ...
W = params[: d * k].reshape(d, k)         # ... the weights are a view into it,
b = params[d * k:]                        # and so is the bias
grad = np.empty_like(params)
gW, gb = grad[: d * k].reshape(d, k), grad[d * k:]

steps = 600
opt = Adam(lr=0.05, schedule=CosineAnnealing(t_max=steps))
state = opt.init(params)
# Products of a 1797 x 64 matrix: one BLAS thread is faster than several.
with threadpool_limits(1, user_api="blas"):
    for step in range(1, steps + 1):
        loss, gW[...], gb[...] = loss_and_grad(W, b)
        opt.step(params, grad, state)     # in place: W and b see the update
        if step in (1, 10, 100, 300, steps):
            print(f"step {step:5d}  loss {loss:.6f}")
    ref = LogisticRegression(C=C, max_iter=2000, tol=1e-8).fit(X, y)
ref_loss = loss_and_grad(ref.coef_.T, ref.intercept_)[0]
final_loss = loss_and_grad(W, b)[0]
print(f"\nfastopt Adam final loss   {final_loss:.6f}")
print(f"LogisticRegression (lbfgs) {ref_loss:.6f}  (the optimum of the same objective)")
print(f"training accuracy: fastopt {np.mean((X @ W + b).argmax(1) == y):.4f}, "
      f"scikit-learn {ref.score(X, y):.4f}")
