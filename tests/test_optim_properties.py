"""Property-based tests of fastopt.optim on random shapes, dtypes and hyper-parameters."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import _optim_reference as ref
from fastopt.optim import SGD, Adagrad, Adam, AdamW, NAdam, RMSprop

unit = st.floats(0.0, 0.999)
lr = st.floats(1e-4, 0.5)
decay = st.floats(0.0, 0.2)

OPTIMIZERS = st.one_of(
    st.builds(lambda lr, m, d, wd, nes: (SGD, ref.sgd, dict(
        lr=lr, momentum=m, dampening=0.0 if nes else d, weight_decay=wd,
        nesterov=nes and m > 0)), lr, unit, unit, decay, st.booleans()),
    st.builds(lambda lr, lrd, wd, a: (Adagrad, ref.adagrad, dict(
        lr=lr, lr_decay=lrd, weight_decay=wd, initial_accumulator_value=a)),
        lr, decay, decay, st.floats(0.0, 1.0)),
    st.builds(lambda lr, a, wd, m, c: (RMSprop, ref.rmsprop, dict(
        lr=lr, alpha=a, weight_decay=wd, momentum=m, centered=c, eps=1e-3)),
        lr, unit, decay, unit, st.booleans()),
    st.builds(lambda lr, b1, b2, wd, ams, cls: (cls, ref.adam if cls is Adam else ref.adamw,
                                                dict(lr=lr, beta_1=b1, beta_2=b2,
                                                     weight_decay=wd, amsgrad=ams, eps=1e-3)),
              lr, unit, unit, decay, st.booleans(), st.sampled_from([Adam, AdamW])),
    st.builds(lambda lr, b1, b2, wd, md: (NAdam, ref.nadam, dict(
        lr=lr, beta_1=b1, beta_2=b2, weight_decay=wd, momentum_decay=md, eps=1e-3)),
        lr, unit, unit, decay, st.floats(0.0, 0.05)),
)


@settings(max_examples=150, deadline=None)
@given(OPTIMIZERS, st.integers(1, 300), st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_any_valid_configuration_matches_reference_in_float64(spec, size, n_steps, seed):
    cls, ref_rule, kw = spec
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(size)
    p_ref, s_ref = p.copy(), {}
    opt = cls(**kw)
    state = opt.init(p)
    for t in range(1, n_steps + 1):
        g = rng.standard_normal(size)
        opt.step(p, g, state)
        p_ref = ref_rule(p_ref, g, s_ref, t, **kw)
    np.testing.assert_allclose(p, p_ref, rtol=1e-10, atol=1e-10)


@settings(max_examples=60, deadline=None)
@given(OPTIMIZERS, st.lists(st.integers(1, 6), min_size=1, max_size=3),
       st.sampled_from([np.float32, np.float64]), st.integers(0, 2**32 - 1))
def test_steps_are_deterministic_and_keep_shape_and_dtype(spec, shape, dtype, seed):
    cls, _, kw = spec
    rng = np.random.default_rng(seed)
    p0 = rng.standard_normal(shape).astype(dtype)
    grads = [rng.standard_normal(shape).astype(dtype) for _ in range(4)]
    runs = []
    for _ in range(2):
        p = p0.copy()
        opt = cls(**kw, clip_norm=1.0)
        state = opt.init(p)
        for g in grads:
            opt.step(p, g, state)
        assert p.shape == tuple(shape) and p.dtype == dtype
        runs.append(p)
    np.testing.assert_array_equal(runs[0], runs[1])


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 200), st.floats(1e-3, 1.0), st.integers(0, 2**32 - 1))
def test_adam_first_step_moves_each_parameter_by_about_lr(size, lr, seed):
    # With bias correction the first Adam step is lr * g / (|g| + eps): a
    # property of the algorithm, independent of the gradient's scale.
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(size) * 10 ** rng.uniform(-3, 3)
    p = np.zeros(size)
    opt = Adam(lr=lr, eps=0.0)
    opt.step(p, g, opt.init(p))
    np.testing.assert_allclose(p, -lr * np.sign(g), rtol=1e-12)
