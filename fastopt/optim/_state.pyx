# cython: language_level=3
"""Optimizer state over flat buffers, and the Python entry point of a step.

An ``OptimizerState`` owns the hyper-parameters as a C struct, the step
count and scalar state, and up to three state buffers per parameter array
(momentum, first and second moments, ...), all C-contiguous and of the
parameters' dtype. Which buffers a configuration uses, their names and their
initial values come from the rule's row in ``_rule_table.py``. A
step validates its arguments with cheap NumPy C-API checks -- so a refused
step touches nothing -- and then runs the fused kernels of ``_rules`` with the
GIL released. One flat parameter array costs one kernel pass; a list of
arrays costs one pass per array with a shared global-norm clipping factor.
Training loops in other modules read ``cfg``/``st`` and ``flat_buffer``
directly and call ``rule_step`` themselves.
"""

import numpy as np

cimport numpy as cnp
from cython cimport floating
from fastopt.optim._rules cimport (fo_coef, grad_sumsq, penalised_step, rule_apply, rule_begin,
                                   rule_set_lr)

from fastopt.optim._rule_table import RULES
from fastopt.optim._rules import check_kinds

from libc.math cimport INFINITY

cnp.import_array()

# Every RuleState scalar, at the value of a rule that does not use it.
_UNUSED_SCALARS = {s.name: 0.0 for rule in RULES for s in rule.scalars}

cdef extern from "fo_config.h" nogil:
    int fo_omp_max_threads()


def _as_list(arrays, str name):
    if isinstance(arrays, np.ndarray):
        return [arrays]
    if isinstance(arrays, (list, tuple)) and all(isinstance(a, np.ndarray) for a in arrays):
        return list(arrays)
    raise TypeError(
        f"{name} must be a numpy array or a list of numpy arrays, got {type(arrays).__name__}"
    )


cdef inline str _label(str name, bint single, Py_ssize_t i):
    return name if single else f"{name}[{i}]"


cdef class OptimizerState:
    """State of one optimizer over a fixed set of parameter arrays.

    Created by ``Optimizer.init(params)``; advanced by ``Optimizer.step`` (or
    ``state.step``). Holds the step count, the scalar state (NAdam's
    ``mu_product``, ASGD's ``eta`` and ``mu``) and the per-element buffers,
    named as in PyTorch's ``optimizer.state`` (``exp_avg``, ``exp_avg_sq``,
    ``momentum_buffer``, ...).
    """

    def __init__(self, dict config, params):
        cdef list arrays = _as_list(params, "params")
        if len(arrays) == 0:
            raise ValueError("params is an empty list; pass at least one parameter array")
        check_kinds(config)
        self.cfg = config
        rule = RULES[config["kind"]]
        self.st = {"t": 0, **_UNUSED_SCALARS, **{s.name: s.initial(config) for s in rule.scalars}}
        self._single = isinstance(params, np.ndarray)
        self.buffer_names = tuple(b.name for b in rule.buffers)
        dtype = arrays[0].dtype
        if dtype != np.float32 and dtype != np.float64:
            raise TypeError(
                f"parameters must be float32 or float64 arrays, got dtype {dtype}; "
                "convert them with arr.astype(np.float32) before init"
            )
        self.dtype = dtype
        self._typenum = cnp.NPY_FLOAT32 if dtype == np.float32 else cnp.NPY_FLOAT64
        for i, a in enumerate(arrays):
            label = _label("params", self._single, i)
            if a.dtype != dtype:
                raise TypeError(
                    f"{label} has dtype {a.dtype} but params[0] has {dtype}; "
                    "all parameter arrays must share one dtype"
                )
            self._check_writable(a, label)
        self.shapes = tuple(a.shape for a in arrays)
        self._buffers = [
            [np.full(a.shape, b.initial(config), dtype) if b.used(config) else None
             for b in rule.buffers] + [None] * (3 - len(rule.buffers))
            for a in arrays
        ]

    @staticmethod
    def _check_writable(cnp.ndarray a, str label):
        if not cnp.PyArray_IS_C_CONTIGUOUS(a):
            raise ValueError(
                f"{label} is not C-contiguous; the optimizer updates parameters in place, "
                "so step a contiguous array (np.ascontiguousarray) and keep using that array"
            )
        if not cnp.PyArray_ISWRITEABLE(a):
            raise ValueError(
                f"{label} is read-only; the optimizer updates parameters in place, "
                "pass a writeable array (arr.copy())"
            )

    cdef void* flat_buffer(self, int k):
        """Data pointer of state buffer ``k`` of the first parameter (NULL if unused)."""
        buf = self._buffers[0][k]
        return NULL if buf is None else cnp.PyArray_DATA(<cnp.ndarray> buf)

    # The accessors through which training engines read the step count and
    # set or cut the rate (scikit-learn's per-sample and per-epoch rate rules)
    # without touching the C structs.

    cdef void set_lr(self, double lr) noexcept nogil:
        rule_set_lr(&self.cfg, lr)

    cdef long long steps_taken(self) noexcept nogil:
        return self.st.t

    cpdef double divide_lr(self, double divisor):
        """Divide the base learning rate by ``divisor``; return the new rate.

        scikit-learn's 'adaptive' rate and ``ReduceOnPlateau`` cut the rate
        this way after a plateau (the division, not a product with the
        inverse, so that the rates equal scikit-learn's).
        """
        self.cfg.lr /= divisor
        return self.cfg.lr

    @property
    def lr(self):
        """Base learning rate (before the schedule): the optimizer's ``lr``
        unless a training rule has set it since."""
        return self.cfg.lr

    @lr.setter
    def lr(self, double value):
        if not (value >= 0 and value < INFINITY):
            raise ValueError(f"lr must be a finite number >= 0, got {value!r}")
        self.cfg.lr = value

    @property
    def step_count(self):
        """Number of steps taken."""
        return self.st.t

    @property
    def buffers(self):
        """Dict of state buffer name -> array (list of arrays for list parameters)."""
        out = {}
        for k, name in enumerate(self.buffer_names):
            bufs = [b[k] for b in self._buffers]
            if bufs[0] is not None:
                out[name] = bufs[0] if self._single else bufs
        return out

    @property
    def scalars(self):
        """Dict of the rule's scalar state (e.g. ASGD's ``eta`` and ``mu``)."""
        cdef dict values = self.st
        return {s.name: values[s.name] for s in RULES[self.cfg.kind].scalars}

    @property
    def config(self):
        """The hyper-parameters this state was created with, as a dict."""
        return self.cfg

    def __reduce__(self):
        return (_rebuild_state, (self.cfg, self.st, self._single, self.shapes, self.dtype,
                                 self._buffers))

    def __repr__(self):
        return (f"OptimizerState(step_count={self.st.t}, dtype={np.dtype(self.dtype).name}, "
                f"shapes={list(self.shapes)}, buffers={[n for n in self.buffers]})")

    def _check_step(self, list ps, list gs):
        cdef Py_ssize_t i
        if len(ps) != len(self.shapes) or len(gs) != len(self.shapes):
            raise ValueError(
                f"this state holds {len(self.shapes)} parameter array(s); got "
                f"{len(ps)} parameter and {len(gs)} gradient array(s)"
            )
        for i in range(len(ps)):
            p, g = ps[i], gs[i]
            pl = _label("params", self._single, i)
            gl = _label("grads", self._single, i)
            if p.dtype != self.dtype:
                raise TypeError(f"{pl} has dtype {p.dtype}, but this state was created for "
                                f"{self.dtype}; create the state from these arrays with init()")
            if g.dtype != self.dtype:
                raise TypeError(f"{gl} has dtype {g.dtype}; it must match the parameters "
                                f"({self.dtype})")
            if p.shape != self.shapes[i]:
                raise ValueError(f"{pl} has shape {p.shape}, but this state was created for "
                                 f"shape {self.shapes[i]}")
            if g.shape != self.shapes[i]:
                raise ValueError(f"{gl} has shape {g.shape}; it must match {pl} "
                                 f"{self.shapes[i]}")
            self._check_writable(p, pl)
            if not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray> g):
                raise ValueError(f"{gl} is not C-contiguous; pass np.ascontiguousarray(grad)")

    cdef bint _ready(self, object p, object g, tuple shape):
        """Cheap C-level test that (p, g) can be stepped; details come from _check_step."""
        cdef cnp.ndarray a, b
        cdef int k
        if not (cnp.PyArray_Check(p) and cnp.PyArray_Check(g)):
            return False
        a, b = p, g
        if (cnp.PyArray_TYPE(a) != self._typenum or cnp.PyArray_TYPE(b) != self._typenum
                or cnp.PyArray_NDIM(a) != len(shape) or cnp.PyArray_NDIM(b) != len(shape)
                or not cnp.PyArray_IS_C_CONTIGUOUS(a) or not cnp.PyArray_ISWRITEABLE(a)
                or not cnp.PyArray_IS_C_CONTIGUOUS(b)):
            return False
        for k in range(len(shape)):
            if cnp.PyArray_DIM(a, k) != <Py_ssize_t> shape[k] or (
                    cnp.PyArray_DIM(b, k) != <Py_ssize_t> shape[k]):
                return False
        return True

    def step(self, params, grads):
        """Update ``params`` in place from ``grads``; both as given to ``init``.

        Every argument is checked before anything is written, so a refused
        step leaves the parameters and the state untouched.
        """
        cdef list ps, gs
        cdef Py_ssize_t i
        cdef bint ready
        if self._single:
            ps, gs = [params], [grads]
            ready = self._ready(params, grads, self.shapes[0])
        else:
            ready = isinstance(params, list) and isinstance(grads, list)
            if ready:
                ps, gs = params, grads
                ready = len(ps) == len(self.shapes) and len(gs) == len(self.shapes)
            for i in range(len(self.shapes) if ready else 0):
                ready = ready and self._ready(ps[i], gs[i], self.shapes[i])
        if not ready:
            self._explain_refusal(params, grads)
        if self._typenum == cnp.NPY_FLOAT32:
            _step[float](self, ps, gs)
        else:
            _step[double](self, ps, gs)

    def penalised_step(self, params, grads, Py_ssize_t n_penalised, double l2, double l1=0.0,
                       bint fused=True):
        """Step a single flat ``params`` on ``grads`` plus the gradient of
        ``l2/2 ||w||^2 + l1 ||w||_1``, ``w = params[:n_penalised]`` -- the MLP's
        weights ahead of its unpenalised intercepts.

        ``grads`` receives the penalty gradient unless the step runs fused:
        scikit-learn's Adam ('SklearnAdam') with ``l1 == 0`` and no
        ``clip_norm`` adds it on the fly in the step's own pass. ``fused=False``
        takes the two-pass path for any rule; both give the same bits.

        Returns
        -------
        sumsq, sumabs : float
            ``||w||^2`` and ``||w||_1`` before the step (``sumabs`` is 0 on the
            fused path, which has no L1 term; both are 0 on the two-pass path
            without a penalty, which skips its pass).
        """
        cdef double sumsq, sumabs
        if not (self._single and len(self.shapes[0]) == 1):
            raise TypeError("penalised_step takes the single flat parameter array of a "
                            "state built from one 1-D array")
        if not self._ready(params, grads, self.shapes[0]):
            self._explain_refusal(params, grads)
        if not grads.flags.writeable:
            raise ValueError("grads is read-only; penalised_step adds the penalty gradient "
                             "to it: pass a writeable copy")
        if not 0 <= n_penalised <= self.shapes[0][0]:
            raise ValueError(f"n_penalised must be in [0, {self.shapes[0][0]}], got "
                             f"{n_penalised}")
        if self._typenum == cnp.NPY_FLOAT32:
            sumsq = _penalised_step[float](self, params, grads, n_penalised, l2, l1, &sumabs,
                                           fused)
        else:
            sumsq = _penalised_step[double](self, params, grads, n_penalised, l2, l1, &sumabs,
                                            fused)
        return sumsq, sumabs

    def _explain_refusal(self, params, grads):
        """Raise the error that says why (params, grads) cannot be stepped."""
        form = "a single array" if self._single else "a list of arrays"
        if self._single != isinstance(params, np.ndarray):
            raise TypeError(f"params must have the form given to init(): {form}")
        if self._single != isinstance(grads, np.ndarray):
            raise TypeError(f"grads must be a numpy array or a list of numpy arrays "
                            f"matching params ({form}), got {type(grads).__name__}")
        self._check_step(_as_list(params, "params"), _as_list(grads, "grads"))
        raise AssertionError("unreachable: the fast check and _check_step disagree")


cdef void _step(OptimizerState self, list ps, list gs, floating* dtype_tag=NULL):
    cdef Py_ssize_t i, n_arrays = len(ps)
    cdef int n_threads = fo_omp_max_threads()
    cdef double sumsq = 0.0
    cdef fo_coef c
    cdef floating* p
    cdef const floating* g
    cdef floating* s[3]
    cdef Py_ssize_t n
    cdef int k
    if self.cfg.clip_norm > 0.0:
        for i in range(n_arrays):
            g = <const floating*> cnp.PyArray_DATA(<cnp.ndarray> gs[i])
            n = cnp.PyArray_SIZE(<cnp.ndarray> gs[i])
            with nogil:
                sumsq += grad_sumsq(g, n, n_threads)
    c = rule_begin(&self.cfg, &self.st, sumsq)
    for i in range(n_arrays):
        p = <floating*> cnp.PyArray_DATA(<cnp.ndarray> ps[i])
        g = <const floating*> cnp.PyArray_DATA(<cnp.ndarray> gs[i])
        n = cnp.PyArray_SIZE(<cnp.ndarray> ps[i])
        bufs = self._buffers[i]
        for k in range(3):
            s[k] = NULL if bufs[k] is None else <floating*> cnp.PyArray_DATA(
                <cnp.ndarray> bufs[k])
        with nogil:
            rule_apply(&self.cfg, &c, p, g, s[0], s[1], s[2], n, n_threads)


cdef double _penalised_step(OptimizerState self, cnp.ndarray params, cnp.ndarray grads,
                            Py_ssize_t n_pen, double l2, double l1, double* sumabs, bint fused,
                            floating* dtype_tag=NULL):
    cdef floating* s0 = <floating*> self.flat_buffer(0)
    cdef floating* s1 = <floating*> self.flat_buffer(1)
    cdef floating* s2 = <floating*> self.flat_buffer(2)
    with nogil:
        return penalised_step(&self.cfg, &self.st, <floating*> cnp.PyArray_DATA(params),
                              <floating*> cnp.PyArray_DATA(grads), s0, s1, s2, n_pen,
                              cnp.PyArray_SIZE(params), l2, l1, sumabs, fused,
                              fo_omp_max_threads())


def _rebuild_state(config, rule_state, single, shapes, dtype, buffers):
    params = [np.empty(shape, dtype) for shape in shapes]
    cdef OptimizerState state = OptimizerState(config, params[0] if single else params)
    state.st = rule_state
    state._buffers = buffers
    return state
