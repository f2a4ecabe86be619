"""fastopt.optim.trace: the path of a real optimizer state on a landscape's gradient.

References: a hand-written ``torch.optim`` loop over the same gradient
function (skipped without torch) and plain NumPy written from the published
update rules (``tests/_optim_reference.py``), schedules and clipping included.
"""

import numpy as np
import pytest

import _optim_reference as ref
from fastopt.landscapes import Beale, Quadratic, Rosenbrock, Saddle
from fastopt.optim import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    CosineAnnealing,
    ExponentialDecay,
    NAdam,
    RMSprop,
    SklearnAdam,
    SklearnSGD,
    StepDecay,
    trace,
)

X0 = np.array([-1.2, 1.5])
N_STEPS = 40
CONSTANT = dict(kind="constant")

# (fastopt optimizer, NumPy reference rule, its keyword arguments, schedule kwargs, clipping)
CASES = {
    "sgd": (SGD(lr=2e-4), ref.sgd, dict(lr=2e-4), CONSTANT, {}),
    "momentum_dampening": (SGD(lr=2e-4, momentum=0.9, dampening=0.3, weight_decay=0.1),
                           ref.sgd, dict(lr=2e-4, momentum=0.9, dampening=0.3,
                                         weight_decay=0.1), CONSTANT, {}),
    "nesterov_step_decay": (SGD(lr=2e-4, momentum=0.8, nesterov=True,
                                schedule=StepDecay(step_size=7, gamma=0.5)),
                            ref.sgd, dict(lr=2e-4, momentum=0.8, nesterov=True),
                            dict(kind="step", step_size=7, gamma=0.5), {}),
    "adagrad_clip_norm": (Adagrad(lr=0.3, lr_decay=0.01, clip_norm=5.0), ref.adagrad,
                          dict(lr=0.3, lr_decay=0.01), CONSTANT, dict(clip_norm=5.0)),
    "rmsprop_centered": (RMSprop(lr=1e-2, centered=True, momentum=0.5, clip_value=20.0),
                         ref.rmsprop, dict(lr=1e-2, centered=True, momentum=0.5), CONSTANT,
                         dict(clip_value=20.0)),
    "adam_amsgrad_cosine": (Adam(lr=0.1, amsgrad=True,
                                 schedule=CosineAnnealing(t_max=30, warmup_steps=5)),
                            ref.adam, dict(lr=0.1, amsgrad=True),
                            dict(kind="cosine", t_max=30, warmup_steps=5), {}),
    "adamw_exponential": (AdamW(lr=0.05, weight_decay=0.1, schedule=ExponentialDecay(0.95)),
                          ref.adamw, dict(lr=0.05, weight_decay=0.1),
                          dict(kind="exponential", gamma=0.95), {}),
    "nadam": (NAdam(lr=0.05), ref.nadam, dict(lr=0.05), CONSTANT, {}),
    "sklearn_sgd": (SklearnSGD(lr=2e-4), ref.sklearn_sgd, dict(lr=2e-4), CONSTANT, {}),
    "sklearn_adam": (SklearnAdam(lr=0.05), ref.sklearn_adam, dict(lr=0.05), CONSTANT, {}),
}


def _numpy_path(rule, kwargs, schedule, clipping, function, x0, n_steps):
    p, state, path = x0.copy(), {}, [x0.copy()]
    for t in range(1, n_steps + 1):
        (g,) = ref.clip([function.grad(p)], **clipping)
        lr = ref.schedule(lr=kwargs["lr"], t=t, **schedule)
        p = rule(p, g, state, t, **dict(kwargs, lr=lr))
        path.append(p.copy())
    return np.array(path)


@pytest.mark.parametrize("name", list(CASES))
def test_path_equals_numpy_reference_of_the_published_rule(name):
    opt, rule, kwargs, schedule, clipping = CASES[name]
    f = Rosenbrock()
    expected = _numpy_path(rule, kwargs, schedule, clipping, f, X0, N_STEPS)
    np.testing.assert_allclose(trace(opt, f, X0, N_STEPS), expected, rtol=1e-11, atol=1e-13)


def _torch_path(torch, make_optimizer, function, x0, n_steps, scheduler=None, clip=None):
    p = torch.nn.Parameter(torch.tensor(x0, dtype=torch.float64))
    opt = make_optimizer([p])
    sched = scheduler(opt) if scheduler else None
    path = [x0.copy()]
    for _ in range(n_steps):
        p.grad = torch.from_numpy(function.grad(p.detach().numpy().copy()))
        if clip:
            clip([p])
        opt.step()
        if sched:
            sched.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


def _torch_cases(torch):
    optim, sched, utils = torch.optim, torch.optim.lr_scheduler, torch.nn.utils
    return {
        "sgd_momentum_dampening": (
            SGD(lr=2e-4, momentum=0.9, dampening=0.3, weight_decay=0.1),
            lambda ps: optim.SGD(ps, lr=2e-4, momentum=0.9, dampening=0.3, weight_decay=0.1),
            None, None),
        "nesterov_step_lr": (
            SGD(lr=2e-4, momentum=0.8, nesterov=True, schedule=StepDecay(7, gamma=0.5)),
            lambda ps: optim.SGD(ps, lr=2e-4, momentum=0.8, nesterov=True),
            lambda o: sched.StepLR(o, step_size=7, gamma=0.5), None),
        "adagrad_clip_norm": (
            Adagrad(lr=0.3, lr_decay=0.01, clip_norm=5.0),
            lambda ps: optim.Adagrad(ps, lr=0.3, lr_decay=0.01),
            None, lambda ps: utils.clip_grad_norm_(ps, 5.0)),
        "rmsprop_centered_clip_value": (
            RMSprop(lr=1e-2, centered=True, momentum=0.5, clip_value=20.0),
            lambda ps: optim.RMSprop(ps, lr=1e-2, centered=True, momentum=0.5),
            None, lambda ps: utils.clip_grad_value_(ps, 20.0)),
        "adam_amsgrad_cosine": (
            # (torch's cosine rises again after T_max; fastopt's stays at eta_min)
            Adam(lr=0.1, amsgrad=True, schedule=CosineAnnealing(t_max=N_STEPS)),
            lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True),
            lambda o: sched.CosineAnnealingLR(o, T_max=N_STEPS), None),
        "adamw_exponential_lr": (
            AdamW(lr=0.05, weight_decay=0.1, schedule=ExponentialDecay(0.95)),
            lambda ps: optim.AdamW(ps, lr=0.05, weight_decay=0.1),
            lambda o: sched.ExponentialLR(o, gamma=0.95), None),
        "nadam": (NAdam(lr=0.05), lambda ps: optim.NAdam(ps, lr=0.05), None, None),
    }


TORCH_CASES = ["sgd_momentum_dampening", "nesterov_step_lr", "adagrad_clip_norm",
               "rmsprop_centered_clip_value", "adam_amsgrad_cosine", "adamw_exponential_lr",
               "nadam"]


@pytest.mark.parametrize("name", TORCH_CASES)
@pytest.mark.parametrize("function", [Rosenbrock(), Beale()], ids=["rosenbrock", "beale"])
def test_path_equals_hand_written_torch_optim_loop(name, function):
    torch = pytest.importorskip("torch")
    opt, make, scheduler, clip = _torch_cases(torch)[name]
    x0 = np.array([1.0, 1.3]) if isinstance(function, Beale) else X0
    expected = _torch_path(torch, make, function, x0, N_STEPS, scheduler, clip)
    # torch arranges the same float64 formulas differently (e.g. Adam divides by
    # sqrt(bias correction) after the square root, CosineAnnealingLR updates the rate
    # recursively); on these curved valleys the last-bit differences grow to ~1e-9
    # over 40 steps. test_optim_torch.py compares single steps at 1e-12.
    np.testing.assert_allclose(trace(opt, function, x0, N_STEPS), expected, rtol=1e-8,
                               atol=1e-10)


def test_gradient_descent_on_a_parabola_follows_the_closed_form():
    # (theta - 3)^2 from 0: the error shrinks by (1 - 2 lr) per step.
    path = trace(SGD(lr=0.1), Quadratic(1.0, center=3.0), 0.0, 25)
    np.testing.assert_allclose(path[:, 0], 3.0 - 3.0 * 0.8 ** np.arange(26), rtol=1e-13)


def test_shape_dtype_start_and_inputs_left_alone():
    opt = Adam(lr=0.05, schedule=StepDecay(3))
    before = opt.get_params()
    x0 = np.array([0.5, -0.5], dtype=np.float32)
    path = trace(opt, Saddle(), x0, 7)
    assert path.shape == (8, 2) and path.dtype == np.float64
    np.testing.assert_array_equal(path[0], x0)
    np.testing.assert_array_equal(x0, np.array([0.5, -0.5], dtype=np.float32))
    assert opt.get_params() == before
    np.testing.assert_array_equal(trace(opt, Saddle(), x0, 7), path)  # a fresh state each call
    assert trace(opt, Saddle(), x0, 0).shape == (1, 2)
    assert trace(SGD(lr=0.1), Quadratic(2.0), 1.0, 3).shape == (4, 1)


def test_divergence_warns_and_leaves_nan_after_the_last_finite_point():
    with pytest.warns(RuntimeWarning, match=r"diverged: the (gradient|point) at step \d+"):
        path = trace(SGD(lr=0.1), Rosenbrock(), [2.0, -2.0], 60)
    finite = np.isfinite(path).all(axis=1)
    k = int(finite.sum())
    assert 1 < k < len(path)
    assert finite[:k].all() and np.isnan(path[k:]).all()


class _WrongGrad:
    def grad(self, x):
        return np.zeros(3)


@pytest.mark.parametrize("args, error, match", [
    ((SGD, Rosenbrock(), X0, 3), TypeError, "optimizer must be a fastopt.optim optimizer"),
    ((SGD(), np.sin, X0, 3), TypeError, "function must have a grad"),
    ((SGD(), Rosenbrock(), [np.nan, 1.0], 3), ValueError, "x0 must be finite"),
    ((SGD(), Rosenbrock(), [[1.0, 2.0]], 3), ValueError, "x0 must be a number or a 1-d"),
    ((SGD(), Rosenbrock(), X0, -1), ValueError, "n_steps == -1, must be >= 0"),
    ((SGD(), Rosenbrock(), X0, 2.5), TypeError, "n_steps must be an instance of"),
    ((SGD(), _WrongGrad(), X0, 3), ValueError, r"returned shape \(3,\) at a point of shape"),
    ((SGD(lr=-1.0), Rosenbrock(), X0, 3), ValueError, "lr"),
])
def test_bad_input_is_refused_with_a_clear_error(args, error, match):
    with pytest.raises(error, match=match):
        trace(*args)
