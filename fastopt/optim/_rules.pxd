# The compiled optimizer step, shared by fastopt's training loops.
#
# A RuleConfig holds an optimizer's hyper-parameters as plain C data and a
# RuleState its step count and scalar state; the per-element state lives in up
# to three flat buffers owned by the caller. rule_step advances one step over
# a flat parameter buffer without the GIL: schedule -> gradient clipping ->
# one fused element-wise kernel (csrc/fo_rules.h), split into contiguous
# per-thread chunks when the buffer is large; penalised_step adds the weight
# penalty of a prefix of the buffer (fused into scikit-learn's Adam). RuleKind,
# RuleConfig, RuleState and fo_coef are generated from fastopt/optim/_rule_table.py (see
# _rule_codegen.py) into _rule_table.pxi.

from cython cimport floating

cdef extern from "fo_schedule.h" nogil:
    cpdef enum ScheduleKind "fo_schedule_kind":
        SCHEDULE_CONSTANT "FO_SCHEDULE_CONSTANT"
        SCHEDULE_INVSCALING "FO_SCHEDULE_INVSCALING"
        SCHEDULE_STEP "FO_SCHEDULE_STEP"
        SCHEDULE_EXPONENTIAL "FO_SCHEDULE_EXPONENTIAL"
        SCHEDULE_COSINE "FO_SCHEDULE_COSINE"
    ctypedef struct Schedule "fo_schedule":
        int kind
        double power_t
        double gamma
        double step_size
        double t_max
        double eta_min
        double warmup_steps
    double fo_lr_optimal(double scale, double alpha, double t0, double t)
    double fo_lr_invscaling(double eta0, double t, double power_t)
    double fo_schedule_lr(const Schedule* s, double lr, long long t)

include "_rule_table.pxi"


# The accessors through which training loops change a rule's configuration
# (OptimizerState's set_lr uses the first): they never write its fields.

cdef inline void rule_set_lr(RuleConfig* cfg, double lr) noexcept nogil:
    """Set the base learning rate (the rate before the schedule)."""
    cfg.lr = lr


cdef inline void rule_drop_schedule(RuleConfig* cfg) noexcept nogil:
    """Switch the schedule off: the base rate is then the rate of every step."""
    cfg.schedule.kind = SCHEDULE_CONSTANT

cdef fo_coef rule_begin(const RuleConfig* cfg, RuleState* st, double grad_sumsq) noexcept nogil
cdef void rule_apply(const RuleConfig* cfg, const fo_coef* c, floating* p, const floating* g,
                     floating* s0, floating* s1, floating* s2, Py_ssize_t n,
                     int n_threads) noexcept nogil
cdef double grad_sumsq(const floating* g, Py_ssize_t n, int n_threads) noexcept nogil
cdef void rule_step(const RuleConfig* cfg, RuleState* st, floating* p, const floating* g,
                    floating* s0, floating* s1, floating* s2, Py_ssize_t n,
                    int n_threads) noexcept nogil
cdef double penalty_grad(floating* p, floating* g, Py_ssize_t n_pen, Py_ssize_t layout_n,
                         double c2, double c1, double* sumabs, int n_threads) noexcept nogil
cdef double penalised_step(const RuleConfig* cfg, RuleState* st, floating* p, floating* g,
                           floating* s0, floating* s1, floating* s2, Py_ssize_t n_pen,
                           Py_ssize_t n, double c2, double c1, double* sumabs, bint fuse,
                           int n_threads) noexcept nogil
