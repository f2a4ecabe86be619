"""OptimizerState.penalised_step: a step on the gradient of a weight penalty on a
prefix of the parameters (the MLP's weights), fused into scikit-learn's Adam."""

import numpy as np
import pytest

from fastopt.optim import SGD, AdamW, SklearnAdam

# 70k parameters cross the 32768-element chunks of the penalty job and its
# 1024-element reduction blocks; the penalised prefix ends inside a block.
N, N_PEN = 70_001, 45_555


def _problem(dtype, seed=0):
    rng = np.random.default_rng(seed)
    params = rng.normal(size=N).astype(dtype)
    grads = [rng.normal(size=N).astype(dtype) for _ in range(4)]
    return params, grads


def _run(opt, dtype, fused, l2, l1=0.0):
    params, grads = _problem(dtype)
    state = opt.init(params)
    sums = []
    for g in grads:
        sums.append(state.penalised_step(params, g.copy(), N_PEN, l2, l1, fused=fused))
    return params, state, sums


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("opt", [SklearnAdam(lr=1e-2), SklearnAdam(lr=1e-2, clip_value=0.5)],
                         ids=["plain", "clip_value"])
def test_fused_and_two_pass_sklearn_adam_agree_bit_for_bit(opt, dtype):
    p_fused, s_fused, sums_fused = _run(opt, dtype, True, 1e-2)
    p_two, s_two, sums_two = _run(opt, dtype, False, 1e-2)
    np.testing.assert_array_equal(p_fused, p_two)
    for name in s_fused.buffers:
        np.testing.assert_array_equal(s_fused.buffers[name], s_two.buffers[name])
    assert s_fused.step_count == s_two.step_count == 4
    assert [s for s, _ in sums_fused] == [s for s, _ in sums_two]


def test_fused_step_leaves_the_gradient_and_the_two_pass_step_adds_the_penalty():
    params, (g,) = _problem(np.float64)[0], _problem(np.float64)[1][:1]
    g_fused, g_two = g.copy(), g.copy()
    SklearnAdam().init(params).penalised_step(params.copy(), g_fused, N_PEN, 0.5)
    SklearnAdam().init(params).penalised_step(params.copy(), g_two, N_PEN, 0.5, fused=False)
    np.testing.assert_array_equal(g_fused, g)
    expected = g.copy()
    expected[:N_PEN] += 0.5 * params[:N_PEN]
    np.testing.assert_array_equal(g_two, expected)


@pytest.mark.parametrize("opt", [SGD(lr=0.1, momentum=0.9), AdamW(lr=1e-2), SklearnAdam()],
                         ids=lambda o: type(o).__name__)
@pytest.mark.parametrize("l1", [0.0, 0.03])
def test_penalised_step_is_the_step_on_the_penalised_gradient(opt, l1):
    """Reference: the plain step on g + l2 w + l1 sign(w), the penalty written in NumPy."""
    params, grads = _problem(np.float64, seed=1)
    ref_params, l2 = params.copy(), 0.2
    state, ref_state = opt.init(params), opt.init(ref_params)
    for g in grads:
        w = ref_params[:N_PEN].copy()
        sumsq, sumabs = state.penalised_step(params, g.copy(), N_PEN, l2, l1)
        penalised = g.copy()
        penalised[:N_PEN] += l2 * w + l1 * np.sign(w)
        ref_state.step(ref_params, penalised)
        np.testing.assert_allclose(params, ref_params, rtol=1e-13, atol=1e-15)
        assert sumsq == pytest.approx(w @ w, rel=1e-12)
        assert sumabs == pytest.approx(np.abs(w).sum() if l1 else 0.0, rel=1e-12)


def test_refused_penalised_steps_touch_nothing():
    params, (g,) = np.ones(10), [np.ones(10)]
    state = SklearnAdam().init(params)
    readonly = g.copy()
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        state.penalised_step(params, readonly, 5, 0.1, fused=False)
    with pytest.raises(ValueError, match=r"n_penalised must be in \[0, 10\]"):
        state.penalised_step(params, g, 11, 0.1)
    with pytest.raises(TypeError, match="dtype"):
        state.penalised_step(params, g.astype(np.float32), 5, 0.1)
    with pytest.raises(TypeError, match="single flat parameter array"):
        SklearnAdam().init([np.ones(3), np.ones(2)]).penalised_step(params, g, 5, 0.1)
    np.testing.assert_array_equal(params, np.ones(10))
    assert state.step_count == 0
