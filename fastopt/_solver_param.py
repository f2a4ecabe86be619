"""The estimators' ``solver`` parameter: its validation constraint and the
warning for flat parameters that an optimizer object makes irrelevant.

Both the linear models and the MLPs accept a string solver or a
``fastopt.optim`` optimizer object. The constraint below names the public
classes and catches the two obvious slips (passing the class ``Adam`` instead
of an instance ``Adam()``, and capitalised names such as ``'Adam'``) with a
hint. With an object, the object's own hyper-parameters govern the step, so a
flat parameter such as ``learning_rate_init`` set to a non-default value does
nothing: like scikit-learn for a parameter ignored under another parameter's
value (``LogisticRegression(l1_ratio=...)`` without ``penalty='elasticnet'``),
the fit goes on and a ``UserWarning`` says what to set instead.
"""

import inspect
import warnings

from sklearn.utils._param_validation import HasMethods, InvalidParameterError

from fastopt.optim import Optimizer

__all__ = ["OptimizerObject", "warn_ignored_with_optimizer"]


class OptimizerObject(HasMethods):
    """Constraint: a ``fastopt.optim`` optimizer instance.

    Validation tries a parameter's constraints in order, so this one sees the
    values that none of the string options accepted. For an optimizer class,
    or a string that is a solver name up to case, it raises the
    ``InvalidParameterError`` itself with the fix in the message, since the
    generic message ("must be ... Got ... instead") cannot give one. It is a
    ``HasMethods`` (``init`` and ``step``, which every optimizer has) because
    scikit-learn's validation only passes through constraint objects of its
    own kinds; the test is ``isinstance(val, Optimizer)``.

    Parameters
    ----------
    string_solvers : collection of str
        The estimator's string solvers (for the case hint).
    """

    def __init__(self, string_solvers):
        super().__init__(["init", "step"])
        self.string_solvers = frozenset(string_solvers)

    def is_satisfied_by(self, val):
        if isinstance(val, type) and issubclass(val, Optimizer):
            name = val.__name__
            raise InvalidParameterError(
                f"The 'solver' parameter got the class {name}, not an optimizer: "
                f"did you mean solver={name}()? (hyper-parameters go in the call, "
                f"e.g. solver={name}(lr=1e-3))"
            )
        if isinstance(val, str) and val.lower() in self.string_solvers:
            raise InvalidParameterError(
                f"The 'solver' parameter got {val!r}: solver names are lower case, "
                f"did you mean solver={val.lower()!r}?"
            )
        return isinstance(val, Optimizer)

    def __str__(self):
        return "an optimizer object from fastopt.optim (e.g. Adam() or SGD(momentum=0.9))"


def warn_ignored_with_optimizer(est, names):
    """Warn about parameters in ``names`` that ``est`` sets but its optimizer ignores.

    Call it when ``est.solver`` is an optimizer object. A parameter counts as
    set when its value differs from the constructor's default.

    Parameters
    ----------
    est : estimator
        The estimator being fitted.
    names : dict of str to str
        Each ignored parameter, mapped to where its setting belongs instead
        (e.g. ``{"learning_rate_init": "lr"}``: the object's ``lr``).
    """
    defaults = inspect.signature(type(est)).parameters
    params = est.get_params(deep=False)
    changed = [name for name in defaults  # in the constructor's order
               if name in names and params[name] != defaults[name].default]
    if not changed:
        return
    settings = ", ".join(f"{name}={params[name]!r}" for name in changed)
    targets = ", ".join(dict.fromkeys(names[name] for name in changed))
    warnings.warn(
        f"{type(est).__name__}: {settings} has no effect when solver is an optimizer "
        f"object ({est.solver!r}): the object's own settings make the step. Set "
        f"{targets} on the object instead (searchable as solver__<name>), or leave "
        f"{', '.join(changed)} at the default.",
        UserWarning, stacklevel=3,
    )
