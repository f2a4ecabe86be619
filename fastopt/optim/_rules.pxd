# The compiled optimizer step, shared by fastopt's training loops.
#
# A RuleConfig holds an optimizer's hyper-parameters as plain C data and a
# RuleState its step count and scalar state; the per-element state lives in up
# to three flat buffers owned by the caller. rule_step advances one step over
# a flat parameter buffer without the GIL: schedule -> gradient clipping ->
# one fused element-wise kernel (csrc/fo_rules.h), split into contiguous
# per-thread chunks when the buffer is large. RuleKind, RuleConfig, RuleState
# and fo_coef are generated from fastopt/optim/_rule_table.py (see
# _rule_codegen.py) into _rule_table.pxi.

from cython cimport floating

cpdef enum ScheduleKind:
    SCHEDULE_CONSTANT = 0
    SCHEDULE_INVSCALING = 1
    SCHEDULE_STEP = 2
    SCHEDULE_EXPONENTIAL = 3
    SCHEDULE_COSINE = 4

cdef extern from "fo_rules.h" nogil:
    ctypedef struct Schedule "fo_schedule":
        int kind
        double power_t
        double gamma
        double step_size
        double t_max
        double eta_min
        double warmup_steps

include "_rule_table.pxi"

cdef double schedule_lr(const Schedule* s, double lr, long long t) noexcept nogil
cdef fo_coef rule_begin(const RuleConfig* cfg, RuleState* st, double grad_sumsq) noexcept nogil
cdef void rule_apply(const RuleConfig* cfg, const fo_coef* c, floating* p, const floating* g,
                     floating* s0, floating* s1, floating* s2, Py_ssize_t n,
                     int n_threads) noexcept nogil
cdef double grad_sumsq(const floating* g, Py_ssize_t n, int n_threads) noexcept nogil
cdef void rule_step(const RuleConfig* cfg, RuleState* st, floating* p, const floating* g,
                    floating* s0, floating* s1, floating* s2, Py_ssize_t n,
                    int n_threads) noexcept nogil
