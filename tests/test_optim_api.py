"""fastopt.optim's Python API: validation, refusal without side effects, cloning, pickling."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from fastopt.optim import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    CosineAnnealing,
    NAdam,
    OptimizerState,
    RMSprop,
    SklearnAdam,
    SklearnSGD,
    StepDecay,
)

ALL = [SGD, Adagrad, RMSprop, Adam, AdamW, NAdam, SklearnSGD, SklearnAdam]


def test_defaults_are_pytorchs():
    assert SGD().get_params()["lr"] == 1e-3
    assert Adagrad().get_params() | {} == Adagrad(lr=1e-2, eps=1e-10).get_params()
    assert RMSprop().alpha == 0.99 and RMSprop().lr == 1e-2 and RMSprop().eps == 1e-8
    assert (Adam().lr, Adam().beta_1, Adam().beta_2, Adam().eps) == (1e-3, 0.9, 0.999, 1e-8)
    assert AdamW().weight_decay == 1e-2 and Adam().weight_decay == 0.0
    assert (NAdam().lr, NAdam().momentum_decay) == (2e-3, 4e-3)


@pytest.mark.parametrize("cls", ALL)
def test_clone_set_params_and_repr_behave_like_sklearn_params(cls):
    opt = cls(lr=0.123)
    copy = clone(opt)
    assert copy is not opt and copy.get_params() == opt.get_params()
    copy.set_params(lr=0.5)
    assert opt.lr == 0.123 and copy.lr == 0.5
    assert repr(cls(lr=0.5)) == f"{cls.__name__}(lr=0.5)"


def test_nested_schedule_params_are_searchable():
    opt = Adam(schedule=StepDecay(step_size=10))
    assert opt.get_params()["schedule__gamma"] == 0.1
    opt.set_params(schedule__gamma=0.5)
    assert opt.schedule.gamma == 0.5


@pytest.mark.parametrize("cls", ALL)
def test_optimizer_and_state_round_trip_through_pickle(cls):
    rng = np.random.default_rng(0)
    p = rng.standard_normal(40)
    opt = pickle.loads(pickle.dumps(cls(lr=0.01)))
    state = opt.init(p)
    for _ in range(3):
        opt.step(p, rng.standard_normal(40), state)
    p2, state2 = p.copy(), pickle.loads(pickle.dumps(state))
    assert isinstance(state2, OptimizerState) and state2.step_count == 3
    g = rng.standard_normal(40)
    opt.step(p, g, state)
    opt.step(p2, g, state2)
    np.testing.assert_array_equal(p, p2)


@pytest.mark.parametrize(
    "opt, match",
    [
        (SGD(lr=-1.0), "'lr' parameter"),
        (Adam(lr=float("nan")), "'lr' parameter"),
        (Adam(beta_1=1.0), "'beta_1' parameter"),
        (Adam(beta_2=-0.1), "'beta_2' parameter"),
        (AdamW(weight_decay=float("nan")), "'weight_decay' parameter"),
        (RMSprop(alpha=1.5), "'alpha' parameter"),
        (Adagrad(eps=-1.0), "'eps' parameter"),
        (SGD(momentum=0.0, nesterov=True), "nesterov=True requires momentum > 0"),
        (SGD(momentum=0.9, dampening=0.5, nesterov=True), "dampening == 0"),
        (Adam(clip_norm=0.0), "'clip_norm' parameter"),
        (Adam(clip_value=-1.0), "'clip_value' parameter"),
        (Adam(schedule="cosine"), "'schedule' parameter"),
        (Adam(schedule=CosineAnnealing(t_max=5, warmup_steps=5)), "warmup_steps=5 must be"),
        (Adam(schedule=StepDecay(step_size=0)), "'step_size' parameter"),
    ],
)
def test_invalid_hyperparameters_raise_value_error_naming_them(opt, match):
    with pytest.raises(ValueError, match=match):
        opt.init(np.zeros(3))


def _refused(params, grads, state, error, match):
    before = [a.copy() for a in (params if isinstance(params, list) else [params])]
    buffers = {k: [np.copy(a) for a in (v if isinstance(v, list) else [v])]
               for k, v in state.buffers.items()}
    t = state.step_count
    with pytest.raises(error, match=match):
        Adam().step(params, grads, state)
    after = params if isinstance(params, list) else [params]
    for a, b in zip(after, before):
        np.testing.assert_array_equal(a, b)
    for k, v in state.buffers.items():
        for a, b in zip(v if isinstance(v, list) else [v], buffers[k]):
            np.testing.assert_array_equal(a, b)
    assert state.step_count == t


def test_refused_steps_leave_parameters_and_state_untouched():
    p = np.ones(6)
    state = Adam().init(p)
    Adam().step(p, np.ones(6), state)
    _refused(p, np.ones(5), state, ValueError, r"grads has shape \(5,\)")
    _refused(p, np.ones(6, np.float32), state, TypeError, "grads has dtype float32")
    _refused(p, np.ones(12)[::2], state, ValueError, "grads is not C-contiguous")
    _refused(p, [np.ones(6)], state, TypeError, "grads must be a numpy array")
    _refused(p, "ones", state, TypeError, "grads must be a numpy array")
    _refused([p], [np.ones(6)], state, TypeError, "a single array")
    other = np.ones(6, np.float32)
    _refused(other, np.ones(6, np.float32), state, TypeError, "params has dtype float32")
    readonly = np.ones(6)
    readonly.flags.writeable = False
    _refused(readonly, np.ones(6), state, ValueError, "params is read-only")


def test_refused_list_step_checks_every_array_before_writing_any():
    parts = [np.ones(3), np.ones((2, 2))]
    state = Adam().init(parts)
    _refused(parts, [np.ones(3), np.ones(4)], state, ValueError, r"grads\[1\] has shape")
    _refused(parts, [np.ones(3)], state, ValueError, "holds 2 parameter array")


@pytest.mark.parametrize(
    "params, error, match",
    [
        (np.zeros(3, dtype=np.int64), TypeError, "float32 or float64"),
        ([np.zeros(3), np.zeros(3, np.float32)], TypeError, "share one dtype"),
        (np.zeros((4, 4))[:, 0], ValueError, "not C-contiguous"),
        ([], ValueError, "empty list"),
        ([1.0, 2.0], TypeError, "list of numpy arrays"),
    ],
)
def test_init_rejects_unusable_parameter_arrays(params, error, match):
    with pytest.raises(error, match=match):
        Adam().init(params)


def test_state_exposes_pytorch_buffer_names():
    assert set(Adam(amsgrad=True).init(np.zeros(2)).buffers) == {
        "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert set(RMSprop(centered=True, momentum=0.5).init(np.zeros(2)).buffers) == {
        "square_avg", "grad_avg", "momentum_buffer"}
    assert set(SGD().init(np.zeros(2)).buffers) == set()
    np.testing.assert_array_equal(
        Adagrad(initial_accumulator_value=0.3).init(np.zeros(2)).buffers["sum"], [0.3, 0.3])


def test_nan_gradient_propagates_instead_of_being_hidden():
    p = np.zeros(3)
    opt = Adam(clip_value=1.0)
    state = opt.init(p)
    opt.step(p, np.array([np.nan, 1.0, -1.0]), state)
    assert np.isnan(p[0]) and np.isfinite(p[1:]).all()
