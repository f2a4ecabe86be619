/* fo_mlp_kernels.h -- element-wise kernels of the MLP training loop.
 *
 * fo_mlp_penalty adds the gradient of l2/2 ||W||^2 + l1 ||W||_1 (times
 * `scale`) to the weight gradient and returns ||W||^2 and ||W||_1 in one
 * pass. It runs once per minibatch over every weight, so it must vectorise:
 * each block of FO_MLP_BLOCK weights is reduced with `omp simd` (lane-wise
 * partial sums in the parameter type; without OpenMP the loop is serial),
 * and the block sums are added in double in block order, so the result is
 * deterministic for a build and a float32 sum only adds a few hundred terms
 * per lane. The pure-L2 case (scikit-learn's) has its own loop without the
 * sign computation. Multi-versioned (AVX2+FMA clone, see fo_config.h).
 *
 * fo_mlp_grad_sumsq returns ||g + c2 w + c1 sign(w)||^2 -- the squared norm
 * of the penalised gradient as fo_mlp_penalty would leave it -- without
 * writing anything, reduced the same way (lane-wise in blocks of
 * FO_MLP_BLOCK, block sums in double in order). It serves the optional
 * per-layer gradient norms, measured on every minibatch, so it must be
 * nearly free next to the GEMMs.
 *
 * fo_mlp_sk_adam_l2 is scikit-learn's 'adam' step (fo_sk_adam of
 * fo_rules_impl.h, same arithmetic in the same order, so the result is
 * bit-identical) with that L2 gradient added on the fly: the weights are read
 * once for both, which removes the separate penalty pass over the
 * parameters and gradients of every minibatch (see benchmarks/README.md,
 * "Timing notes moved out of the code"). Global-norm clipping needs the
 * penalised gradient's norm before the step, so the caller uses the
 * two-pass path then.
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
#include "fo_rules.h"

#define FO_MLP_BLOCK 1024

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

#if defined(_OPENMP)
#define FO_MLP_SIMD_REDUCE(...) _Pragma(FO_MLP_STR(omp simd reduction(+:__VA_ARGS__)))
#define FO_MLP_STR(x) #x
#else
#define FO_MLP_SIMD_REDUCE(...)
#endif

#define FO_MLP_PENALTY(NAME, REAL)                                                      \
FO_MULTIVERSION                                                                         \
static void NAME(const REAL *FO_RESTRICT p, REAL *FO_RESTRICT g, ptrdiff_t n,          \
                 REAL c2, REAL c1, double *sumsq, double *sumabs)                       \
{                                                                                       \
    double s = 0.0, a = 0.0;                                                            \
    ptrdiff_t start, end, i;                                                            \
    for (start = 0; start < n; start += FO_MLP_BLOCK) {                                 \
        REAL bs = 0, ba = 0;                                                            \
        end = n - start < FO_MLP_BLOCK ? n : start + FO_MLP_BLOCK;                      \
        if (c1 == 0) {                                                                  \
            FO_MLP_SIMD_REDUCE(bs)                                                      \
            for (i = start; i < end; i++) {                                             \
                REAL w = p[i];                                                          \
                bs += w * w;                                                            \
                g[i] += c2 * w;                                                         \
            }                                                                           \
        } else {                                                                        \
            FO_MLP_SIMD_REDUCE(bs, ba)                                                  \
            for (i = start; i < end; i++) {                                             \
                REAL w = p[i];                                                          \
                REAL sign = (w > 0 ? (REAL)1 : (REAL)0) - (w < 0 ? (REAL)1 : (REAL)0);  \
                bs += w * w;                                                            \
                ba += w * sign;                                                         \
                g[i] += c2 * w + c1 * sign;                                             \
            }                                                                           \
        }                                                                               \
        s += (double)bs;                                                                \
        a += (double)ba;                                                                \
    }                                                                                   \
    *sumsq = s;                                                                         \
    *sumabs = a;                                                                        \
}

FO_MLP_PENALTY(fo_mlp_penalty_f32, float)
FO_MLP_PENALTY(fo_mlp_penalty_f64, double)

#undef FO_MLP_PENALTY

#define FO_MLP_GRAD_SUMSQ(NAME, REAL)                                                   \
FO_MULTIVERSION                                                                         \
static double NAME(const REAL *FO_RESTRICT g, const REAL *FO_RESTRICT p, ptrdiff_t n,  \
                   REAL c2, REAL c1)                                                    \
{                                                                                       \
    double s = 0.0;                                                                     \
    ptrdiff_t start, end, i;                                                            \
    for (start = 0; start < n; start += FO_MLP_BLOCK) {                                 \
        REAL bs = 0;                                                                    \
        end = n - start < FO_MLP_BLOCK ? n : start + FO_MLP_BLOCK;                      \
        if (c1 == 0) {                                                                  \
            FO_MLP_SIMD_REDUCE(bs)                                                      \
            for (i = start; i < end; i++) {                                             \
                REAL v = g[i] + c2 * p[i];                                              \
                bs += v * v;                                                            \
            }                                                                           \
        } else {                                                                        \
            FO_MLP_SIMD_REDUCE(bs)                                                      \
            for (i = start; i < end; i++) {                                             \
                REAL w = p[i];                                                          \
                REAL sign = (w > 0 ? (REAL)1 : (REAL)0) - (w < 0 ? (REAL)1 : (REAL)0);  \
                REAL v = g[i] + c2 * w + c1 * sign;                                     \
                bs += v * v;                                                            \
            }                                                                           \
        }                                                                               \
        s += (double)bs;                                                                \
    }                                                                                   \
    return s;                                                                           \
}

FO_MLP_GRAD_SUMSQ(fo_mlp_grad_sumsq_f32, float)
FO_MLP_GRAD_SUMSQ(fo_mlp_grad_sumsq_f64, double)

#undef FO_MLP_GRAD_SUMSQ

#define FO_MLP_SK_ADAM_L2(NAME, REAL, SQRT)                                             \
FO_MULTIVERSION                                                                         \
static double NAME(REAL *FO_RESTRICT p, const REAL *FO_RESTRICT g, REAL *FO_RESTRICT m, \
                   REAL *FO_RESTRICT v, ptrdiff_t n_coef, ptrdiff_t n, REAL c2,         \
                   const fo_coef *c)                                                    \
{                                                                                       \
    const REAL clip = (REAL)c->clip;                                                    \
    const REAL b1 = (REAL)c->beta1, b1c = (REAL)(1.0 - c->beta1);                       \
    const REAL b2 = (REAL)c->beta2, b2c = (REAL)(1.0 - c->beta2);                       \
    const REAL step = (REAL)(c->lr * c->bc2_sqrt / c->bc1), eps = (REAL)c->eps;         \
    double s = 0.0;                                                                     \
    ptrdiff_t start, end, i;                                                            \
    for (start = 0; start < n; start = end) {                                           \
        /* blocks of coefficients, then of intercepts (unpenalised) */                 \
        const REAL pen = start < n_coef ? c2 : (REAL)0;                                 \
        REAL bs = 0;                                                                    \
        end = start + FO_MLP_BLOCK;                                                     \
        if (start < n_coef && end > n_coef) end = n_coef;                               \
        if (end > n) end = n;                                                           \
        FO_MLP_SIMD_REDUCE(bs)                                                          \
        for (i = start; i < end; i++) {                                                 \
            REAL w = p[i];                                                              \
            REAL gi = g[i] + pen * w;                                                   \
            REAL mi, vi;                                                                \
            bs += w * w;                                                                \
            gi = gi > clip ? clip : gi;                                                 \
            gi = gi < -clip ? -clip : gi;                                               \
            mi = b1 * m[i] + b1c * gi;                                                  \
            vi = b2 * v[i] + b2c * gi * gi;                                             \
            m[i] = mi;                                                                  \
            v[i] = vi;                                                                  \
            p[i] = w - step * mi / (SQRT(vi) + eps);                                    \
        }                                                                               \
        if (start < n_coef) s += (double)bs;                                            \
    }                                                                                   \
    return s;                                                                           \
}

FO_MLP_SK_ADAM_L2(fo_mlp_sk_adam_l2_f32, float, sqrtf)
FO_MLP_SK_ADAM_L2(fo_mlp_sk_adam_l2_f64, double, sqrt)

#undef FO_MLP_SK_ADAM_L2

#define FO_MLP_BIAS_GRAD(NAME, REAL)                                                    \
FO_MULTIVERSION                                                                         \
static void NAME(const REAL *FO_RESTRICT d, ptrdiff_t m, ptrdiff_t h, REAL scale,       \
                 REAL *FO_RESTRICT gb)                                                  \
{                                                                                       \
    ptrdiff_t i, j;                                                                     \
    for (i = 0; i < m; i++)                                                             \
        for (j = 0; j < h; j++) gb[j] += scale * d[i * h + j];                          \
}

FO_MLP_BIAS_GRAD(fo_mlp_bias_grad_f32, float)
FO_MLP_BIAS_GRAD(fo_mlp_bias_grad_f64, double)

#undef FO_MLP_BIAS_GRAD

#define FO_MLP_RELU(BIAS_RELU, RELU_DELTA, REAL)                                        \
FO_MULTIVERSION                                                                         \
static void BIAS_RELU(REAL *FO_RESTRICT z, const REAL *FO_RESTRICT b, ptrdiff_t m,      \
                      ptrdiff_t h)                                                      \
{                                                                                       \
    ptrdiff_t i, j;                                                                     \
    for (i = 0; i < m; i++)                                                             \
        for (j = 0; j < h; j++) {                                                       \
            REAL v = z[i * h + j] + b[j];                                               \
            z[i * h + j] = v > 0 ? v : 0;                                               \
        }                                                                               \
}                                                                                       \
FO_MULTIVERSION                                                                         \
static void RELU_DELTA(REAL *FO_RESTRICT d, const REAL *FO_RESTRICT a, ptrdiff_t n)     \
{                                                                                       \
    ptrdiff_t i;                                                                        \
    for (i = 0; i < n; i++) d[i] = a[i] > 0 ? d[i] : 0;                                 \
}

FO_MLP_RELU(fo_mlp_bias_relu_f32, fo_mlp_relu_delta_f32, float)
FO_MLP_RELU(fo_mlp_bias_relu_f64, fo_mlp_relu_delta_f64, double)

#undef FO_MLP_RELU

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
