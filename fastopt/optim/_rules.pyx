# cython: language_level=3
"""Optimizer update rules over flat buffers, callable without the GIL.

Layering: ``schedule_lr`` (learning rate at step t) and ``rule_begin`` (the
per-step scalars: the common ones here, the rule's own in its C
``fo_<rule>_begin``) are scalar functions; ``rule_apply`` runs the rule's
element-wise kernel from ``csrc/fo_rules.h`` over contiguous chunks, one per
thread above ``PARALLEL_MIN`` elements (below it the cost of an OpenMP region
outweighs the split; the measurements are in benchmarks/README.md).
``grad_sumsq`` reduces over fixed-size blocks summed in block order, so the
global gradient norm -- and every result -- is bit-identical whatever the
thread count. Everything is fused over float32/float64 with ``floating``.

The kinds, their kernels and their per-step scalars come from
``_rule_table.py`` through the generated switches ``fo_rule_begin`` and
``fo_rule_kernel_f32/_f64``. Those switches do nothing for an unknown kind;
no unknown kind gets here, because ``OptimizerState`` -- the only place a
``RuleConfig`` is built -- refuses it (``check_kinds``).
"""

from cython.parallel cimport prange
from libc.math cimport sqrt, pow, cos, floor, M_PI
from libc.string cimport memset

cdef extern from "fo_rules.h" nogil:
    int fo_rule_begin(const RuleConfig*, RuleState*, fo_coef*)
    int fo_rule_kernel_f32(int, float*, const float*, float*, float*, float*, Py_ssize_t,
                           const fo_coef*)
    int fo_rule_kernel_f64(int, double*, const double*, double*, double*, double*, Py_ssize_t,
                           const fo_coef*)
    double fo_sumsq_f32(const float*, Py_ssize_t)
    double fo_sumsq_f64(const double*, Py_ssize_t)
    double INFINITY

cdef enum:
    # Below this many elements a step runs on one thread.
    PARALLEL_MIN = 131072
    # Block size of the deterministic sum of squares, and its most blocks.
    SUMSQ_BLOCK = 16384
    SUMSQ_MAX_BLOCKS = 256


cdef double schedule_lr(const Schedule* s, double lr, long long t) noexcept nogil:
    """Learning rate at step ``t`` (1-based) for base rate ``lr``."""
    cdef double progress
    if s.kind == SCHEDULE_INVSCALING:
        return lr / pow(<double>t, s.power_t)
    if s.kind == SCHEDULE_STEP:
        return lr * pow(s.gamma, floor((t - 1) / s.step_size))
    if s.kind == SCHEDULE_EXPONENTIAL:
        return lr * pow(s.gamma, <double>(t - 1))
    if s.kind == SCHEDULE_COSINE:
        if t <= s.warmup_steps:
            return lr * t / s.warmup_steps
        progress = (t - 1 - s.warmup_steps) / (s.t_max - s.warmup_steps)
        if progress > 1.0:
            progress = 1.0
        return s.eta_min + (lr - s.eta_min) * 0.5 * (1.0 + cos(M_PI * progress))
    return lr


def check_kinds(dict config):
    """Raise ValueError unless the rule and schedule kinds of ``config`` exist."""
    for enum, kind in ((RuleKind, config["kind"]), (ScheduleKind, config["schedule"]["kind"])):
        if kind not in [k.value for k in enum]:
            raise ValueError(
                f"unknown {enum.__name__} {kind!r}; the kinds are "
                + ", ".join(f"{k.value} ({k.name})" for k in enum)
            )


cdef fo_coef rule_begin(const RuleConfig* cfg, RuleState* st, double grad_sumsq) noexcept nogil:
    """Advance the step count and return the scalars of this step.

    ``grad_sumsq`` is the squared global gradient norm; it is read only when
    ``cfg.clip_norm > 0``.
    """
    cdef fo_coef c
    memset(&c, 0, sizeof(c))
    st.t += 1
    c.lr = schedule_lr(&cfg.schedule, cfg.lr, st.t)
    c.gscale = 1.0
    if cfg.clip_norm > 0.0:
        c.gscale = cfg.clip_norm / (sqrt(grad_sumsq) + 1e-6)
        if not c.gscale < 1.0:
            c.gscale = 1.0
    c.clip = cfg.clip_value
    c.first = st.t == 1
    fo_rule_begin(cfg, st, &c)
    return c


cdef inline floating* _offset(floating* a, Py_ssize_t start) noexcept nogil:
    return a + start if a != NULL else NULL


cdef void _kernel(const RuleConfig* cfg, const fo_coef* c, floating* p, const floating* g,
                  floating* s0, floating* s1, floating* s2, Py_ssize_t n) noexcept nogil:
    if floating is float:
        fo_rule_kernel_f32(cfg.kind, p, g, s0, s1, s2, n, c)
    else:
        fo_rule_kernel_f64(cfg.kind, p, g, s0, s1, s2, n, c)


cdef void rule_apply(const RuleConfig* cfg, const fo_coef* c, floating* p, const floating* g,
                     floating* s0, floating* s1, floating* s2, Py_ssize_t n,
                     int n_threads) noexcept nogil:
    """Apply one step with scalars ``c`` to ``p[0:n]`` and its state buffers.

    Unused buffers are NULL. The element-wise result does not depend on how
    the range is split, so threads never change the result.
    """
    cdef Py_ssize_t chunk, start, end
    cdef int k
    if n_threads <= 1 or n < PARALLEL_MIN:
        _kernel(cfg, c, p, g, s0, s1, s2, n)
        return
    chunk = ((n + n_threads - 1) // n_threads + 63) & ~(<Py_ssize_t>63)
    for k in prange(n_threads, num_threads=n_threads, schedule='static', chunksize=1):
        start = k * chunk
        end = start + chunk
        if end > n:
            end = n
        if start < end:
            _kernel(cfg, c, p + start, g + start, _offset(s0, start), _offset(s1, start),
                    _offset(s2, start), end - start)


cdef inline double _sumsq(const floating* g, Py_ssize_t n) noexcept nogil:
    if floating is float:
        return fo_sumsq_f32(g, n)
    else:
        return fo_sumsq_f64(g, n)


cdef double grad_sumsq(const floating* g, Py_ssize_t n, int n_threads) noexcept nogil:
    """Sum of squares of ``g[0:n]`` in double, identical for any thread count.

    The range is cut into at most ``SUMSQ_MAX_BLOCKS`` blocks whose size
    depends on ``n`` only; block sums land in a stack array and are added in
    block order. No allocation.
    """
    cdef double partial[SUMSQ_MAX_BLOCKS]
    cdef Py_ssize_t block = SUMSQ_BLOCK
    cdef Py_ssize_t n_blocks, b, start, end
    cdef double total = 0.0
    if n > <Py_ssize_t> SUMSQ_BLOCK * SUMSQ_MAX_BLOCKS:
        block = ((n + SUMSQ_MAX_BLOCKS - 1) // SUMSQ_MAX_BLOCKS + 63) & ~(<Py_ssize_t>63)
    n_blocks = (n + block - 1) // block
    if n_blocks <= 1:
        return _sumsq(g, n)
    if n_threads <= 1:
        for b in range(n_blocks):
            start = b * block
            end = n if start + block > n else start + block
            partial[b] = _sumsq(g + start, end - start)
    else:
        for b in prange(n_blocks, num_threads=n_threads, schedule='static'):
            start = b * block
            end = n if start + block > n else start + block
            partial[b] = _sumsq(g + start, end - start)
    for b in range(n_blocks):
        total += partial[b]
    return total


cdef void rule_step(const RuleConfig* cfg, RuleState* st, floating* p, const floating* g,
                    floating* s0, floating* s1, floating* s2, Py_ssize_t n,
                    int n_threads) noexcept nogil:
    """One optimizer step over a single flat parameter buffer."""
    cdef double sumsq = grad_sumsq(g, n, n_threads) if cfg.clip_norm > 0.0 else 0.0
    cdef fo_coef c = rule_begin(cfg, st, sumsq)
    rule_apply(cfg, &c, p, g, s0, s1, s2, n, n_threads)


def evaluate_schedule(dict schedule, double lr, long long t):
    """Python entry to ``schedule_lr`` (used by the schedule objects and tests)."""
    cdef Schedule s = schedule
    return schedule_lr(&s, lr, t)
