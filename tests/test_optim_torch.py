"""Reference tests: fastopt.optim against torch.optim.

fastopt's optimizers reproduce the algorithms of PyTorch's ``torch.optim``
documentation, so the same random gradient sequence fed to both must give the
same parameters and the same state buffers (fastopt names its buffers as in
``optimizer.state``). float64 runs agree to ~1e-12 after 60 steps (only the
rounding of a few reordered operations differs); float32 runs to the float32
rounding accumulated over the run. Gradient clipping is compared with
``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_`` on a list of arrays,
and the schedules with ``torch.optim.lr_scheduler`` stepped after every
optimizer step.
"""

import itertools

import numpy as np
import pytest

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
    NAdam,
    RAdam,
    RMSprop,
    Rprop,
    StepDecay,
)
from fastopt.optim._rule_table import TUPLE_PARAMETERS

torch = pytest.importorskip("torch")

N_STEPS = 60
N_PARAMS = 1001  # odd: exercises the vector loop's scalar tail
RTOL = {np.float64: 1e-12, np.float32: 2e-6}
DTYPES = [np.float64, np.float32]


def _grid(**options):
    """All combinations of the given option values, as a list of dicts."""
    names = list(options)
    return [dict(zip(names, values)) for values in itertools.product(*options.values())]


def _id(options):
    return ",".join(f"{k}={v}" for k, v in options.items())


def _assert_close(actual, desired, rtol, what):
    """Relative comparison with an absolute floor at rtol times the array scale."""
    desired = np.asarray(desired)
    atol = rtol * max(float(np.abs(desired).max()), 1e-30)
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=atol, err_msg=what)


def _torch_param(array):
    return torch.nn.Parameter(torch.from_numpy(array.copy()))


def _gradients(seed, shapes, dtype, n_steps=N_STEPS):
    """Per step, one random gradient per array; scaled so magnitudes vary over steps."""
    rng = np.random.default_rng([seed, 1])
    return [[(rng.uniform(0.2, 3.0) * rng.standard_normal(s)).astype(dtype) for s in shapes]
            for _ in range(n_steps)]


def _run_both(fo_opt, torch_cls, torch_kwargs, dtype, shapes=(N_PARAMS,), seed=0,
              clip=None, scheduler=None, n_steps=N_STEPS):
    """Feed the same gradients to fastopt and torch; return both parameter lists and states.

    ``clip(torch_params)`` runs torch's clipping utilities before each torch
    step; ``scheduler(torch_optimizer)`` builds an lr scheduler stepped after
    each optimizer step.
    """
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    tparams = [_torch_param(p) for p in params]
    topt = torch_cls(tparams, **torch_kwargs)
    tsched = scheduler(topt) if scheduler is not None else None
    single = len(shapes) == 1
    fo_params = params[0] if single else params
    state = fo_opt.init(fo_params)
    # torch creates scalar state (NAdam's mu_product) at the first step in the
    # default dtype: float32 unless set, which would round the float64 reference.
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64 if dtype == np.float64 else torch.float32)
    try:
        for grads in _gradients(seed, shapes, dtype, n_steps):
            fo_opt.step(fo_params, grads[0] if single else grads, state)
            for tp, g in zip(tparams, grads):
                tp.grad = torch.from_numpy(g.copy())
            if clip is not None:
                clip(tparams)
            topt.step()
            if tsched is not None:
                tsched.step()
    finally:
        torch.set_default_dtype(previous)
    return params, [tp.detach().numpy() for tp in tparams], state, topt


def _check_against_torch(fo_opt, torch_cls, torch_kwargs, dtype, n_steps=N_STEPS, **kwargs):
    """Parameters and every state buffer agree with torch after ``n_steps`` steps."""
    params, tparams, state, topt = _run_both(fo_opt, torch_cls, torch_kwargs, dtype,
                                             n_steps=n_steps, **kwargs)
    rtol = RTOL[dtype]
    for i, (p, tp) in enumerate(zip(params, tparams)):
        _assert_close(p, tp, rtol, f"params[{i}]")
    tstates = [topt.state[tp] for group in topt.param_groups for tp in group["params"]]
    assert state.buffers, "the optimizer exposes no state buffer to compare"
    for name, bufs in state.buffers.items():
        if isinstance(bufs, np.ndarray):
            bufs = [bufs]
        for i, (buf, tstate) in enumerate(zip(bufs, tstates)):
            _assert_close(buf, tstate[name].numpy(), rtol, f"{name}[{i}]")
    assert state.step_count == n_steps
    return state, tstates


SGD_OPTIONS = [
    o for o in _grid(momentum=[0.0, 0.9], dampening=[0.0, 0.3], nesterov=[False, True],
                     weight_decay=[0.0, 1e-2])
    if not (o["nesterov"] and (o["momentum"] == 0.0 or o["dampening"] != 0.0))
    and not (o["momentum"] == 0.0 and o["dampening"] != 0.0)
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", SGD_OPTIONS, ids=_id)
def test_sgd_matches_torch(options, dtype):
    fo_opt, torch_kwargs = SGD(lr=0.05, **options), dict(lr=0.05, **options)
    if options["momentum"] == 0.0:
        # Without momentum neither side keeps a buffer: compare the parameters.
        params, tparams, _, _ = _run_both(fo_opt, torch.optim.SGD, torch_kwargs, dtype)
        _assert_close(params[0], tparams[0], RTOL[dtype], "params")
    else:
        _check_against_torch(fo_opt, torch.optim.SGD, torch_kwargs, dtype)


ADAGRAD_OPTIONS = _grid(lr_decay=[0.0, 0.05], initial_accumulator_value=[0.0, 0.3],
                        weight_decay=[0.0, 1e-2], eps=[1e-10, 1e-3])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", ADAGRAD_OPTIONS, ids=_id)
def test_adagrad_matches_torch(options, dtype):
    _check_against_torch(Adagrad(lr=0.1, **options), torch.optim.Adagrad,
                         dict(lr=0.1, **options), dtype)


RMSPROP_OPTIONS = _grid(centered=[False, True], momentum=[0.0, 0.8], weight_decay=[0.0, 1e-2],
                        alpha=[0.99, 0.9])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", RMSPROP_OPTIONS, ids=_id)
def test_rmsprop_matches_torch(options, dtype):
    _check_against_torch(RMSprop(lr=0.01, eps=1e-6, **options), torch.optim.RMSprop,
                         dict(lr=0.01, eps=1e-6, **options), dtype)


def _adam_like_options(weight_decays):
    return _grid(amsgrad=[False, True], weight_decay=weight_decays,
                 betas=[(0.9, 0.999), (0.8, 0.95)])


def _split_betas(options):
    """fastopt's beta_1/beta_2 for torch's ``betas`` tuple."""
    fo = {k: v for k, v in options.items() if k != "betas"}
    if "betas" in options:
        fo["beta_1"], fo["beta_2"] = options["betas"]
    return fo


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", _adam_like_options([0.0, 1e-2]), ids=_id)
def test_adam_matches_torch(options, dtype):
    _check_against_torch(Adam(lr=0.01, **_split_betas(options)), torch.optim.Adam,
                         dict(lr=0.01, **options), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", _adam_like_options([1e-2, 0.5]), ids=_id)
def test_adamw_matches_torch(options, dtype):
    _check_against_torch(AdamW(lr=0.01, **_split_betas(options)), torch.optim.AdamW,
                         dict(lr=0.01, **options), dtype)


NADAM_OPTIONS = _grid(momentum_decay=[4e-3, 5e-2], weight_decay=[0.0, 1e-2],
                      betas=[(0.9, 0.999), (0.8, 0.95)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", NADAM_OPTIONS, ids=_id)
def test_nadam_matches_torch(options, dtype):
    _check_against_torch(NAdam(lr=0.01, **_split_betas(options)), torch.optim.NAdam,
                         dict(lr=0.01, **options), dtype)


DEFAULT_PAIRS = [
    (lambda: SGD(lr=0.05, momentum=0.9), lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9)),
    (Adagrad, torch.optim.Adagrad),
    (RMSprop, torch.optim.RMSprop),
    (Adam, torch.optim.Adam),
    (AdamW, torch.optim.AdamW),
    (NAdam, torch.optim.NAdam),
]


@pytest.mark.parametrize("make_fo, make_torch", DEFAULT_PAIRS,
                         ids=["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "NAdam"])
def test_defaults_match_torch_on_threaded_buffer(make_fo, make_torch):
    """Default hyper-parameters agree, on a buffer large enough for the threaded split.

    fastopt splits buffers of 131072 elements or more between threads; 140001
    gives two uneven chunks, the second ending in a scalar tail.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=2):
        _check_against_torch(make_fo(), make_torch, {}, np.float32, shapes=(140_001,),
                             n_steps=10)


CLIP_SHAPES = [(7, 5), (13,), (4, 3, 2)]
CLIP_CASES = {
    "norm": (dict(clip_norm=6.0),
             lambda ps: torch.nn.utils.clip_grad_norm_(ps, 6.0)),
    "value": (dict(clip_value=1.5),
              lambda ps: torch.nn.utils.clip_grad_value_(ps, 1.5)),
    "norm_then_value": (dict(clip_norm=6.0, clip_value=0.5),
                        lambda ps: (torch.nn.utils.clip_grad_norm_(ps, 6.0),
                                    torch.nn.utils.clip_grad_value_(ps, 0.5))),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(CLIP_CASES))
@pytest.mark.parametrize("fo_cls, torch_cls, extra", [
    (SGD, torch.optim.SGD, dict(momentum=0.9)),
    (Adam, torch.optim.Adam, {}),
], ids=["SGD", "Adam"])
def test_clipping_matches_torch_clip_utils_over_several_arrays(fo_cls, torch_cls, extra, case,
                                                               dtype):
    """clip_norm / clip_value equal torch's clipping utilities with a global norm."""
    fo_clip, torch_clip = CLIP_CASES[case]
    _check_against_torch(fo_cls(lr=0.01, **extra, **fo_clip), torch_cls, dict(lr=0.01, **extra),
                         dtype, shapes=CLIP_SHAPES, clip=torch_clip)


def test_clip_norm_is_active_on_some_steps_only():
    """The clipping test data crosses the threshold (so the test above can fail)."""
    norms = [np.sqrt(sum(float(np.sum(g ** 2)) for g in grads))
             for grads in _gradients(0, CLIP_SHAPES, np.float64)]
    assert min(norms) < 6.0 < max(norms)


SCHEDULE_CASES = {
    "step": (lambda: StepDecay(step_size=7, gamma=0.5),
             lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5)),
    "exponential": (lambda: ExponentialDecay(gamma=0.95),
                    lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.95)),
    "cosine": (lambda: CosineAnnealing(t_max=N_STEPS, eta_min=1e-3),
               lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=N_STEPS,
                                                                    eta_min=1e-3)),
}



@pytest.mark.parametrize("name", ["step", "exponential", "cosine"])
def test_schedule_matches_torch_scheduler_stepped_after_each_step(name):
    """Learning rate at every step t = 1..N equals torch's, scheduler stepped after the step."""
    make_schedule, make_scheduler = SCHEDULE_CASES[name]
    lr = 0.1
    tparam = _torch_param(np.zeros(1))
    topt = torch.optim.SGD([tparam], lr=lr)
    tsched = make_scheduler(topt)
    torch_lrs = []
    for _ in range(N_STEPS):
        torch_lrs.append(topt.param_groups[0]["lr"])
        tparam.grad = torch.zeros(1, dtype=torch.float64)
        topt.step()
        tsched.step()
    schedule = make_schedule()
    fo_lrs = [schedule(lr, t) for t in range(1, N_STEPS + 1)]
    _assert_close(fo_lrs, torch_lrs, 1e-12, "learning rates")


SCHEDULED_OPTIMIZERS = {
    # AdamW's decoupled decay and Adagrad's lr_decay both use the scheduled rate.
    "SGD": (lambda schedule: SGD(lr=0.1, momentum=0.9, schedule=schedule),
            torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
    "AdamW": (lambda schedule: AdamW(lr=0.01, weight_decay=0.5, schedule=schedule),
              torch.optim.AdamW, dict(lr=0.01, weight_decay=0.5)),
    "Adagrad": (lambda schedule: Adagrad(lr=0.1, lr_decay=0.05, schedule=schedule),
                torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.05)),
}


@pytest.mark.parametrize("optimizer", list(SCHEDULED_OPTIMIZERS))
@pytest.mark.parametrize("name", ["step", "exponential", "cosine"])
def test_scheduled_optimizer_matches_torch_optimizer_with_scheduler(name, optimizer):
    """The schedule drives the compiled step exactly like torch's scheduler drives torch's."""
    make_schedule, make_scheduler = SCHEDULE_CASES[name]
    make_fo, torch_cls, torch_kwargs = SCHEDULED_OPTIMIZERS[optimizer]
    _check_against_torch(make_fo(make_schedule()), torch_cls, torch_kwargs, np.float64,
                         scheduler=make_scheduler)


def _split_tuples(options):
    """fastopt's scalar pairs (beta_1/beta_2, ...) for torch's tuples (betas, ...)."""
    fo = dict(options)
    for torch_name, names in TUPLE_PARAMETERS.items():
        if torch_name in fo:
            fo.update(zip(names, fo.pop(torch_name)))
    return fo


# One row per rule: fastopt class, torch class, fixed options, option grid (torch's spelling).
TORCH_TABLE = {
    "Adadelta": (Adadelta, torch.optim.Adadelta, dict(lr=0.5),
                 _grid(rho=[0.9, 0.5], eps=[1e-6, 1e-3], weight_decay=[0.0, 1e-2])),
    "Adamax": (Adamax, torch.optim.Adamax, dict(lr=0.01),
               _grid(betas=[(0.9, 0.999), (0.8, 0.95)], eps=[1e-8, 1e-3],
                     weight_decay=[0.0, 1e-2])),
    "RAdam": (RAdam, torch.optim.RAdam, dict(lr=0.01),
              _grid(betas=[(0.9, 0.999), (0.8, 0.95)], weight_decay=[0.0, 0.1],
                    decoupled_weight_decay=[False, True])),
    "Rprop": (Rprop, torch.optim.Rprop, dict(lr=0.02),
              _grid(etas=[(0.5, 1.2), (0.3, 1.5)], step_sizes=[(1e-6, 50.0), (1e-3, 0.05)])),
    "ASGD": (ASGD, torch.optim.ASGD, dict(lr=0.05, alpha=0.5),
             _grid(lambd=[1e-4, 1e-2], t0=[1e6, 10.0], weight_decay=[0.0, 1e-2])),
}
TORCH_CASES = [(name, options) for name, (_, _, _, grid) in TORCH_TABLE.items()
               for options in grid]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, options", TORCH_CASES,
                         ids=[f"{n}-{_id(o)}" for n, o in TORCH_CASES])
def test_table_rule_matches_torch(name, options, dtype):
    """Parameters, every state buffer and (ASGD) the scalar state follow torch.optim."""
    fo_cls, torch_cls, fixed, _ = TORCH_TABLE[name]
    fo_opt = fo_cls(**fixed, **_split_tuples(options))
    state, tstates = _check_against_torch(fo_opt, torch_cls, dict(fixed, **options), dtype)
    for scalar, value in state.scalars.items():
        _assert_close(value, float(tstates[0][scalar]), RTOL[dtype], scalar)


@pytest.mark.parametrize("name", list(TORCH_TABLE))
def test_table_rule_defaults_are_torchs(name):
    import inspect

    fo_cls, torch_cls, _, _ = TORCH_TABLE[name]
    torch_defaults = {k: v.default for k, v in inspect.signature(torch_cls).parameters.items()
                      if v.default is not inspect.Parameter.empty}
    fo_defaults = fo_cls().get_params()
    for key, value in _split_tuples(torch_defaults).items():
        if key in fo_defaults:
            assert fo_defaults[key] == value, key
    assert set(fo_defaults) - set(_split_tuples(torch_defaults)) <= {
        "clip_norm", "clip_value", "schedule"}

