/* fo_rules.h -- element-wise optimizer update kernels over flat buffers.
 *
 * One kernel per update rule; each makes a single pass over the parameter,
 * gradient and state arrays (the memory-bound floor of an optimizer step).
 * The per-step scalars (learning rate after schedule, bias corrections,
 * clipping factor, ...) are computed once by the caller (fastopt/optim/
 * _rules.pyx) and passed in fo_coef, so the loops hold no pow/exp calls and
 * vectorise. Arithmetic is done in the parameter precision, like PyTorch.
 *
 * The kernels are written once in fo_rules_impl.h and instantiated here for
 * float and double by defining FO_REAL/FO_SUFFIX/FO_SQRT before each inclusion
 * (sqrtf for float: calling sqrt would widen every lane to double).
 * Divisions by per-step constants are multiplications by their reciprocal,
 * so each element costs at most one sqrt and one division.
 */
#ifndef FO_RULES_H
#define FO_RULES_H

#include <math.h>
#include <stddef.h>
#include "fo_config.h"

typedef struct {
    double lr;            /* learning rate for this step (schedule and lr_decay applied) */
    double gscale;        /* gradient multiplier from global-norm clipping (1: off) */
    double clip;          /* clip gradients to [-clip, clip] (INFINITY: off) */
    double weight_decay;  /* L2 term added to the gradient (coupled decay) */
    double decay;         /* parameter multiplier before the step (AdamW: 1 - lr*wd) */
    double momentum;
    double dampening;
    double beta1;
    double beta2;
    double alpha;         /* RMSprop smoothing constant */
    double eps;
    double bc1;           /* 1 - beta1^t */
    double bc2_sqrt;      /* sqrt(1 - beta2^t) */
    double bc2;           /* 1 - beta2^t */
    double c_grad;        /* NAdam: lr (1 - mu_t) / (1 - prod mu_1..t) */
    double c_m;           /* NAdam: lr mu_{t+1} / (1 - prod mu_1..t+1) */
    int nesterov;
    int first;            /* first step: momentum buffers start from the gradient */
    int centered;
    int amsgrad;
} fo_coef;

#define FO_REAL float
#define FO_SUFFIX _f32
#define FO_SQRT sqrtf
#include "fo_rules_impl.h"
#undef FO_REAL
#undef FO_SUFFIX
#undef FO_SQRT

#define FO_REAL double
#define FO_SUFFIX _f64
#define FO_SQRT sqrt
#include "fo_rules_impl.h"
#undef FO_REAL
#undef FO_SUFFIX
#undef FO_SQRT

#endif
