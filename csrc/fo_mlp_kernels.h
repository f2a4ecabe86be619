/* fo_mlp_kernels.h -- element-wise kernels of the MLP training loop.
 *
 * fo_mlp_grad_sumsq returns ||g + c2 w + c1 sign(w)||^2 -- the squared norm
 * of the penalised gradient as fo_penalty_grad (fo_rules_impl.h) would leave
 * it -- without writing anything, reduced as that penalty pass is
 * (FO_SIMD_REDUCE over blocks of FO_REDUCE_BLOCK, block sums in double in
 * order). It serves the optional per-layer gradient norms, measured on every
 * minibatch, so it must be nearly free next to the GEMMs. The penalty itself,
 * and its fusion into scikit-learn's Adam step, belong to fastopt.optim
 * (penalised_step in fastopt/optim/_rules.pyx).
 *
 * fo_mlp_bias_grad adds `scale` times the column sums of a row-major m x h
 * delta to the intercept gradient, row after row (the order of the scalar
 * loop it replaces, so results are unchanged). With restrict pointers and
 * the AVX2 clone every row is a vector add, where the loop compiled inside
 * the Cython module (baseline ISA, possible aliasing) stayed scalar.
 * fo_mlp_bias_relu (Z = max(Z + b, 0) row-wise) and fo_mlp_relu_delta
 * (D = A > 0 ? D : 0) are the ReLU passes, vectorised the same way.
 *
 * fo_mlp_bias_act / fo_mlp_act_delta are the same two passes for the
 * activations added after ReLU (leaky ReLU with slope 0.01, ELU with
 * alpha 1, exact-erf GELU, SiLU), one scalar f and f' per activation and
 * one pair of loops for all, dispatched on the activation code once per
 * call. Leaky ReLU and ELU express f' through the output a = f(x) (both
 * keep the sign of x; ELU's f'(x) = a + 1 for x <= 0), as the older
 * activations do; GELU and SiLU need the pre-activation x, which the
 * forward pass stores in `pre` for them only. Under inverted dropout the
 * stored output is a * s (s the mask's keep scale or 0), so the delta pass
 * divides it back where s != 0 and zeroes the delta where s == 0. The leaky
 * ReLU loops and ELU's delta loop vectorise; the others call exp/expm1/erf,
 * vectorised through glibc's libmvec where the build found it (fo_mlp_act.c).
 */
#ifndef FO_MLP_KERNELS_H
#define FO_MLP_KERNELS_H

#include <math.h>
#include <stddef.h>
#include "fo_config.h"

/* Activation codes of the MLP core (_mlp_fast.pyx exposes them as its
 * Activation enum); exp and softmax are output activations only. */
typedef enum fo_mlp_act {
    FO_ACT_IDENTITY = 0,
    FO_ACT_LOGISTIC = 1,
    FO_ACT_TANH = 2,
    FO_ACT_RELU = 3,
    FO_ACT_EXP = 4,
    FO_ACT_SOFTMAX = 5,
    FO_ACT_LEAKY_RELU = 6,
    FO_ACT_ELU = 7,
    FO_ACT_GELU = 8,
    FO_ACT_SILU = 9
} fo_mlp_act;

#define FO_MLP_LEAKY_SLOPE 0.01
#define FO_MLP_SQRT1_2 0.70710678118654752440       /* 1 / sqrt(2) */
#define FO_MLP_INV_SQRT_2PI 0.39894228040143267794  /* 1 / sqrt(2 pi) */

/* ---- the kernels, once per precision ---- */

#define FO_REAL float
#define FO_SUFFIX _f32
#include "fo_mlp_kernels_impl.h"
#undef FO_REAL
#undef FO_SUFFIX

#define FO_REAL double
#define FO_SUFFIX _f64
#include "fo_mlp_kernels_impl.h"
#undef FO_REAL
#undef FO_SUFFIX

/* The activations added after ReLU, compiled in their own translation unit
 * (fo_mlp_act.c, where glibc's vector math is declared for them only). */
void fo_mlp_bias_act_f32(int kind, float *z, const float *b, ptrdiff_t m, ptrdiff_t h,
                         float *pre);
void fo_mlp_bias_act_f64(int kind, double *z, const double *b, ptrdiff_t m, ptrdiff_t h,
                         double *pre);
void fo_mlp_act_delta_f32(int kind, float *d, const float *x, const float *mask, ptrdiff_t n);
void fo_mlp_act_delta_f64(int kind, double *d, const double *x, const double *mask,
                          ptrdiff_t n);

#endif
