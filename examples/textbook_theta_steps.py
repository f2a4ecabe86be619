"""Textbook exercise: minimise (theta - 3)^2 and ||theta||^2, printing theta at every step.

Gradient descent, momentum, RMSprop and Adam from fastopt.optim run on the
exact gradient with fastopt.optim.trace, which steps the same compiled state
as the estimators. The script prints theta step by step and checks what the
textbook says about each rule:

* GD at rate lr multiplies the error by (1 - 2 lr): theta_t = 3 - 3 (1 - 2 lr)^t;
* momentum is the loop v = mu v + g, theta -= lr v (PyTorch's SGD(momentum=mu));
* RMSprop's first step has length lr / sqrt(1 - alpha), whatever the gradient;
* Adam's first step has length lr (bias correction makes m_hat / sqrt(v_hat) = sign(g));
* all four reach the minimum.

    python examples/textbook_theta_steps.py
"""

import numpy as np

from fastopt.landscapes import Quadratic
from fastopt.optim import SGD, Adam, RMSprop, trace

parabola = Quadratic(1.0, center=3.0)     # (theta - 3)^2, gradient 2 (theta - 3)
bowl = Quadratic(np.eye(2))               # ||theta||^2, gradient 2 theta
optimizers = {
    "GD": SGD(lr=0.1),
    "momentum": SGD(lr=0.05, momentum=0.9),
    "RMSprop": RMSprop(lr=0.1, alpha=0.99),
    "Adam": Adam(lr=0.1),
}
n_steps = 200
paths = {name: trace(opt, parabola, 0.0, n_steps)[:, 0] for name, opt in optimizers.items()}

print("(theta - 3)^2 from theta = 0")
print(f"{'step':>5} " + " ".join(f"{name:>10}" for name in optimizers))
for t in [*range(11), 50, 100, n_steps]:
    print(f"{t:>5} " + " ".join(f"{paths[name][t]:>10.5f}" for name in optimizers))

steps = np.arange(n_steps + 1)
closed_form = 3.0 - 3.0 * (1.0 - 2.0 * 0.1) ** steps
print(f"\nGD equals 3 - 3 (1 - 2 lr)^t at every step: "
      f"{bool(np.allclose(paths['GD'], closed_form, rtol=1e-12, atol=1e-12))}")

theta, v, loop = 0.0, 0.0, [0.0]
for _ in range(n_steps):
    v = 0.9 * v + 2.0 * (theta - 3.0)
    theta -= 0.05 * v
    loop.append(theta)
print(f"momentum equals the loop v = 0.9 v + g, theta -= 0.05 v: "
      f"{bool(np.allclose(paths['momentum'], loop, rtol=1e-12, atol=1e-12))}")
print(f"first RMSprop step {paths['RMSprop'][1]:.8f} = lr / sqrt(1 - alpha) = "
      f"{0.1 / np.sqrt(1 - 0.99):.8f}")
print(f"first Adam step {paths['Adam'][1]:.8f} = lr = 0.1")

ends = {name: trace(opt, bowl, [1.0, -2.0], n_steps)[-1] for name, opt in optimizers.items()}
print("\n||theta||^2 from theta = (1, -2): ||theta|| after "
      f"{n_steps} steps")
for name in optimizers:
    print(f"  {name:<9} {np.linalg.norm(ends[name]):.3e}")
print(f"\n|theta - 3| after {n_steps} steps: "
      + ", ".join(f"{name} {abs(paths[name][-1] - 3.0):.1e}" for name in optimizers))
