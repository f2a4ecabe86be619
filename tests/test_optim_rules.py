"""fastopt.optim update rules equal plain-NumPy implementations of the published algorithms."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import _optim_reference as ref
from fastopt._openmp import max_threads, openmp_enabled
from fastopt.optim import (
    ASGD,
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    CosineAnnealing,
    ExponentialDecay,
    InverseScaling,
    Lion,
    NAdam,
    RAdam,
    RMSprop,
    Rprop,
    SklearnAdam,
    SklearnSGD,
    StepDecay,
)

CASES = [
    (SGD, ref.sgd, dict(lr=0.05)),
    (SGD, ref.sgd, dict(lr=0.05, momentum=0.9)),
    (SGD, ref.sgd, dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01)),
    (SGD, ref.sgd, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (Adagrad, ref.adagrad, dict(lr=0.1)),
    (Adagrad, ref.adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.1,
                                initial_accumulator_value=0.5, eps=1e-6)),
    (RMSprop, ref.rmsprop, dict(lr=0.01)),
    (RMSprop, ref.rmsprop, dict(lr=0.01, centered=True, weight_decay=0.01)),
    (RMSprop, ref.rmsprop, dict(lr=0.01, momentum=0.9, alpha=0.9)),
    (RMSprop, ref.rmsprop, dict(lr=0.005, momentum=0.5, centered=True)),
    (Adam, ref.adam, dict(lr=0.01)),
    (Adam, ref.adam, dict(lr=0.01, beta_1=0.8, beta_2=0.99, eps=1e-6, weight_decay=0.1)),
    (Adam, ref.adam, dict(lr=0.01, amsgrad=True)),
    (AdamW, ref.adamw, dict(lr=0.01)),
    (AdamW, ref.adamw, dict(lr=0.01, weight_decay=0.5, amsgrad=True)),
    (NAdam, ref.nadam, dict(lr=0.01)),
    (NAdam, ref.nadam, dict(lr=0.01, weight_decay=0.05, momentum_decay=0.01)),
    (SklearnSGD, ref.sklearn_sgd, dict(lr=0.05)),
    (SklearnSGD, ref.sklearn_sgd, dict(lr=0.05, momentum=0.5, nesterov=False)),
    (SklearnAdam, ref.sklearn_adam, dict(lr=0.01, beta_1=0.8)),
    (Adadelta, ref.adadelta, dict(lr=1.0)),
    (Adadelta, ref.adadelta, dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.05)),
    (Adamax, ref.adamax, dict(lr=0.01)),
    (Adamax, ref.adamax, dict(lr=0.01, beta_1=0.8, beta_2=0.95, weight_decay=0.05)),
    (RAdam, ref.radam, dict(lr=0.01, weight_decay=0.05)),
    (RAdam, ref.radam, dict(lr=0.01, beta_2=0.9, weight_decay=0.5, decoupled_weight_decay=True)),
    (Rprop, ref.rprop, dict(lr=0.01)),
    (Rprop, ref.rprop, dict(lr=0.05, etaminus=0.3, etaplus=1.5, step_size_min=1e-3,
                            step_size_max=0.2)),
    (ASGD, ref.asgd, dict(lr=0.05)),
    (ASGD, ref.asgd, dict(lr=0.05, lambd=0.01, alpha=0.5, t0=20, weight_decay=0.05)),
    (Lion, ref.lion, dict(lr=1e-3)),
    (Lion, ref.lion, dict(lr=1e-3, beta_1=0.8, beta_2=0.9, weight_decay=0.5)),
]
IDS = [f"{cls.__name__}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for cls, _, kw in CASES]


def _gradient(p, rng, target):
    """A gradient that depends on p (so coupled terms matter) plus noise."""
    return (p - target) + 0.3 * rng.standard_normal(p.shape)


def _run_both(cls, ref_rule, kw, dtype, n_steps, size=257, seed=0):
    rng = np.random.default_rng(seed)
    p0 = rng.standard_normal(size)
    target = rng.standard_normal(size)
    p = p0.astype(dtype)
    opt = cls(**kw)
    state = opt.init(p)
    p_ref, s_ref = p0.copy(), {}
    for t in range(1, n_steps + 1):
        g = _gradient(p_ref, rng, target)
        opt.step(p, g.astype(dtype), state)
        p_ref = ref_rule(p_ref, g, s_ref, t, **kw)
    return p, p_ref, state


@pytest.mark.parametrize("cls, ref_rule, kw", CASES, ids=IDS)
def test_float64_step_matches_numpy_reference_over_many_steps(cls, ref_rule, kw):
    p, p_ref, state = _run_both(cls, ref_rule, kw, np.float64, n_steps=200)
    assert state.step_count == 200
    np.testing.assert_allclose(p, p_ref, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("cls, ref_rule, kw", CASES, ids=IDS)
def test_float32_step_stays_float32_and_tracks_float64_reference(cls, ref_rule, kw):
    p, p_ref, state = _run_both(cls, ref_rule, kw, np.float32, n_steps=30)
    assert p.dtype == np.float32
    assert all(b.dtype == np.float32 for b in state.buffers.values())
    np.testing.assert_allclose(p, p_ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("cls, ref_rule, kw", CASES[::3], ids=IDS[::3])
def test_list_of_arrays_steps_like_one_flat_array(cls, ref_rule, kw):
    rng = np.random.default_rng(1)
    flat = rng.standard_normal(300)
    parts = [flat[:100].reshape(10, 10).copy(), flat[100:].copy()]
    opt = cls(**kw)
    s_flat, s_parts = opt.init(flat), opt.init(parts)
    for _ in range(20):
        g = rng.standard_normal(300)
        opt.step(flat, g, s_flat)
        opt.step(parts, [g[:100].reshape(10, 10).copy(), g[100:].copy()], s_parts)
    np.testing.assert_array_equal(np.concatenate([a.ravel() for a in parts]), flat)


@pytest.mark.parametrize("clip_norm, clip_value", [(0.5, None), (None, 0.1), (1.0, 0.05),
                                                   (1e6, None)])
def test_gradient_clipping_matches_global_norm_then_value_reference(clip_norm, clip_value):
    rng = np.random.default_rng(2)
    parts = [rng.standard_normal((7, 5)), rng.standard_normal(11)]
    ref_parts = [a.copy() for a in parts]
    opt = SGD(lr=0.1, momentum=0.9, clip_norm=clip_norm, clip_value=clip_value)
    state = opt.init(parts)
    states = [{}, {}]
    for t in range(1, 11):
        grads = [rng.standard_normal(a.shape) for a in parts]
        opt.step(parts, grads, state)
        clipped = ref.clip(grads, clip_norm, clip_value)
        ref_parts = [ref.sgd(p, g, s, t, 0.1, momentum=0.9)
                     for p, g, s in zip(ref_parts, clipped, states)]
    for got, want in zip(parts, ref_parts):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


SCHEDULES = [
    (InverseScaling(power_t=0.5), "invscaling", dict(power_t=0.5)),
    (StepDecay(step_size=7, gamma=0.5), "step", dict(step_size=7, gamma=0.5)),
    (ExponentialDecay(gamma=0.95), "exponential", dict(gamma=0.95)),
    (CosineAnnealing(t_max=40), "cosine", dict(t_max=40)),
    (CosineAnnealing(t_max=40, eta_min=1e-3, warmup_steps=5), "cosine",
     dict(t_max=40, eta_min=1e-3, warmup_steps=5)),
]


@pytest.mark.parametrize("schedule, kind, kw", SCHEDULES, ids=[s[1] for s in SCHEDULES])
def test_schedule_rate_matches_reference_formula(schedule, kind, kw):
    for t in range(1, 60):
        assert schedule(0.1, t) == pytest.approx(ref.schedule(kind, 0.1, t, **kw), rel=1e-14)


@pytest.mark.parametrize("schedule, kind, kw", SCHEDULES, ids=[s[1] for s in SCHEDULES])
def test_adam_with_schedule_uses_scheduled_rate_every_step(schedule, kind, kw):
    rng = np.random.default_rng(3)
    p = rng.standard_normal(50)
    p_ref, s_ref = p.copy(), {}
    opt = AdamW(lr=0.05, schedule=schedule)
    state = opt.init(p)
    for t in range(1, 50):
        g = rng.standard_normal(50)
        opt.step(p, g, state)
        p_ref = ref.adamw(p_ref, g, s_ref, t, ref.schedule(kind, 0.05, t, **kw))
    np.testing.assert_allclose(p, p_ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("opt", [Adam(clip_norm=1.0), RMSprop(momentum=0.9, centered=True),
                                 SGD(lr=0.1, momentum=0.9)], ids=repr)
def test_large_buffer_result_is_bit_identical_for_one_and_two_threads(opt):
    rng = np.random.default_rng(4)
    p0 = rng.standard_normal(200_003).astype(np.float32)
    grads = [rng.standard_normal(p0.size).astype(np.float32) for _ in range(5)]
    results = []
    for n_threads in (1, 2, 2):
        p = p0.copy()
        state = opt.init(p)
        with threadpool_limits(n_threads, user_api="openmp"):
            assert max_threads() == (n_threads if openmp_enabled() else 1)
            for g in grads:
                opt.step(p, g, state)
        results.append(p)
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[1], results[2])
