# The compiled optimizer step, shared by fastopt's training loops.
#
# A RuleConfig holds an optimizer's hyper-parameters as plain C data and a
# RuleState its scalar state (step count, NAdam's momentum product); the
# per-element state lives in up to three flat buffers owned by the caller.
# rule_step advances one step over a flat parameter buffer without the GIL:
# schedule -> gradient clipping -> one fused element-wise kernel (csrc/fo_rules.h),
# split into contiguous per-thread chunks when the buffer is large.

from cython cimport floating

cdef extern from "fo_rules.h" nogil:
    ctypedef struct fo_coef:
        double lr, gscale, clip, weight_decay, decay, momentum, dampening
        double beta1, beta2, alpha, eps, bc1, bc2_sqrt, bc2, c_grad, c_m
        int nesterov, first, centered, amsgrad

cpdef enum RuleKind:
    RULE_SGD = 0
    RULE_ADAGRAD = 1
    RULE_RMSPROP = 2
    RULE_ADAM = 3
    RULE_ADAMW = 4
    RULE_NADAM = 5
    RULE_SK_SGD = 6     # scikit-learn MLP 'sgd': u = mu u - lr g
    RULE_SK_ADAM = 7    # scikit-learn MLP 'adam': eps outside the bias correction

cpdef enum ScheduleKind:
    SCHEDULE_CONSTANT = 0
    SCHEDULE_INVSCALING = 1
    SCHEDULE_STEP = 2
    SCHEDULE_EXPONENTIAL = 3
    SCHEDULE_COSINE = 4

ctypedef struct Schedule:
    int kind
    double power_t
    double gamma
    double step_size
    double t_max
    double eta_min
    double warmup_steps

ctypedef struct RuleConfig:
    int kind
    double lr
    double momentum
    double dampening
    double weight_decay
    double eps
    double beta1
    double beta2
    double alpha
    double lr_decay
    double initial_accumulator_value
    double momentum_decay
    bint nesterov
    bint centered
    bint amsgrad
    double clip_norm      # <= 0: no global-norm clipping
    double clip_value     # inf: no value clipping
    Schedule schedule

ctypedef struct RuleState:
    long long t           # steps taken
    double mu_product     # NAdam: prod of mu_1..t

cdef double schedule_lr(const Schedule* s, double lr, long long t) noexcept nogil
cdef int state_buffer_used(const RuleConfig* cfg, int k) noexcept nogil
cdef double state_buffer_initial(const RuleConfig* cfg, int k) noexcept nogil
cdef fo_coef rule_begin(const RuleConfig* cfg, RuleState* st, double grad_sumsq) noexcept nogil
cdef void rule_apply(const RuleConfig* cfg, const fo_coef* c, floating* p, const floating* g,
                     floating* s0, floating* s1, floating* s2, Py_ssize_t n,
                     int n_threads) noexcept nogil
cdef double grad_sumsq(const floating* g, Py_ssize_t n, int n_threads) noexcept nogil
cdef void rule_step(const RuleConfig* cfg, RuleState* st, floating* p, const floating* g,
                    floating* s0, floating* s1, floating* s2, Py_ssize_t n,
                    int n_threads) noexcept nogil
