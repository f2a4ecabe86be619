"""The rule table: every optimizer class, its validation and its compiled state follow it."""

import inspect
import re

import numpy as np
import pytest

import fastopt.optim as fo
from fastopt.optim import Adam, AdamW, Lion, Optimizer, OptimizerState, Rprop, StepDecay
from fastopt.optim._rule_codegen import HEADER, PXI, _c_header, _pxi
from fastopt.optim._rule_table import RULES, TUPLE_PARAMETERS
from fastopt.optim._rules import RuleKind

CLASSES = [getattr(fo, rule.name) for rule in RULES]
COMMON = {"clip_norm": None, "clip_value": None, "schedule": None}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_class_parameters_and_defaults_are_the_tables(cls):
    declared = {p.name: p.default for p in cls._rule.params}
    signature = inspect.signature(cls)
    assert {k: v.default for k, v in signature.parameters.items()} == {**declared, **COMMON}
    assert cls().get_params() == {**declared, **COMMON}
    for name, default in declared.items():
        assert re.search(rf"^    {name} : \w+, default={re.escape(repr(default))}$",
                         cls.__doc__, re.M), name


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_declared_parameter_reaches_the_compiled_config(cls):
    opt = cls()
    state = opt.init(np.zeros(3))
    for p in cls._rule.params:
        assert state.config[p.c_field] == getattr(opt, p.name)
    assert state.config["kind"] == RuleKind[f"RULE_{cls._rule.c_name.upper()}"]


def test_compiled_declarations_were_generated_from_this_table():
    """A table edited without rebuilding is caught here, not by wrong arithmetic."""
    assert HEADER.read_text() == _c_header(RULES)
    assert PXI.read_text() == _pxi(RULES)
    assert [k.name for k in RuleKind] == [f"RULE_{r.c_name.upper()}" for r in RULES]


@pytest.mark.parametrize("opt, buffers, scalars", [
    (Rprop(lr=0.25), {"prev": 0.0, "step_size": 0.25}, {}),
    (fo.ASGD(lr=0.25), {"ax": 0.0}, {"eta": 0.25, "mu": 1.0}),
    (fo.NAdam(), {"exp_avg": 0.0, "exp_avg_sq": 0.0}, {"mu_product": 1.0}),
    (Lion(), {"exp_avg": 0.0}, {}),
    (fo.Adadelta(), {"square_avg": 0.0, "acc_delta": 0.0}, {}),
    (fo.Adamax(), {"exp_avg": 0.0, "exp_inf": 0.0}, {}),
])
def test_state_starts_from_the_declared_initial_values(opt, buffers, scalars):
    state = opt.init(np.zeros(4, np.float32))
    assert {k: float(v[0]) for k, v in state.buffers.items()} == buffers
    assert all(v.dtype == np.float32 for v in state.buffers.values())
    assert state.scalars == scalars


def test_scalar_state_survives_pickling():
    import pickle

    opt = fo.ASGD(lr=0.1, t0=2)
    p = np.ones(5)
    state = opt.init(p)
    for _ in range(4):
        opt.step(p, np.ones(5), state)
    copy = pickle.loads(pickle.dumps(state))
    assert copy.scalars == state.scalars and copy.scalars["mu"] < 1.0


@pytest.mark.parametrize("field, value, match", [
    ("kind", len(RULES), "unknown RuleKind"),
    ("kind", -1, "unknown RuleKind"),
])
def test_unknown_rule_kind_is_refused_before_any_step(field, value, match):
    config = {**Adam().rule_config(), field: value}
    with pytest.raises(ValueError, match=match):
        OptimizerState(config, np.zeros(3))


def test_unknown_schedule_kind_is_refused_before_any_step():
    config = Adam(schedule=StepDecay(step_size=3)).rule_config()
    config["schedule"]["kind"] = 99
    with pytest.raises(ValueError, match="unknown ScheduleKind 99"):
        OptimizerState(config, np.zeros(3))


def test_class_for_an_undeclared_rule_is_refused():
    with pytest.raises(ValueError, match="no update rule named 'Adafactor'"):
        class Adafactor(Optimizer, rule="Adafactor"):
            """Not in the table."""


@pytest.mark.parametrize("cls, kwargs, names", [
    (Adam, dict(betas=(0.9, 0.99)), r"Adam\(beta_1=0\.9, beta_2=0\.99\)"),
    (AdamW, dict(lr=1e-3, betas=[0.8, 0.9]), r"AdamW\(beta_1=0\.8, beta_2=0\.9\)"),
    (Lion, dict(betas=(0.9, 0.99)), r"Lion\(beta_1=0\.9, beta_2=0\.99\)"),
    (Rprop, dict(etas=(0.5, 1.2)), r"Rprop\(etaminus=0\.5, etaplus=1\.2\)"),
    (Rprop, dict(step_sizes=(1e-6, 50)), r"Rprop\(step_size_min=1e-06, step_size_max=50\)"),
])
def test_pytorch_tuple_arguments_raise_type_error_naming_the_two_scalars(cls, kwargs, names):
    with pytest.raises(TypeError, match=names):
        cls(**kwargs)


def test_every_pytorch_tuple_has_both_scalars_in_some_rule():
    declared = {p.name for rule in RULES for p in rule.params}
    for first, second in TUPLE_PARAMETERS.values():
        assert {first, second} <= declared


def test_unknown_argument_raises_type_error_listing_the_parameters():
    with pytest.raises(TypeError, match=r"Adam\(\): got an unexpected keyword argument "
                                        r"'momentum'; its parameters are lr, beta_1"):
        Adam(momentum=0.9)


@pytest.mark.parametrize("opt, match", [
    (Adam(schedule="cosine"), "an instance of 'fastopt.optim.Schedule' or None"),
    (Rprop(etaminus=1.0), r"'etaminus' parameter of Rprop must be a float in the range \(0.0, 1.0\)"),
    (Rprop(etaplus=1.0), r"'etaplus' parameter of Rprop must be a float in the range \(1.0, inf\)"),
    (Rprop(step_size_min=1.0, step_size_max=0.5), "step_size_min=1.0 must not exceed"),
    (fo.Adadelta(rho=1.5), r"'rho' parameter of Adadelta must be a float in the range \[0.0, 1.0\]"),
    (fo.RAdam(decoupled_weight_decay="yes"), "'decoupled_weight_decay' parameter of RAdam"),
    (Lion(beta_2=1.0), r"'beta_2' parameter of Lion must be a float in the range \[0.0, 1.0\)"),
])
def test_invalid_hyperparameters_raise_value_error_with_public_names(opt, match):
    with pytest.raises((ValueError, TypeError), match=match) as info:
        opt.init(np.zeros(3))
    assert "._" not in str(info.value)


def test_base_class_cannot_build_a_state():
    with pytest.raises(TypeError, match="use one of its subclasses"):
        Optimizer().init(np.zeros(3))

