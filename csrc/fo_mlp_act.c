/* fo_mlp_act.c -- forward and delta passes of the MLP activations added
 * after ReLU (leaky ReLU, ELU, exact-erf GELU, SiLU); see fo_mlp_kernels.h.
 *
 * GELU, SiLU and ELU call erf, exp and expm1 once per element. math.h
 * declares glibc's vector variants of these (libmvec, at most 4 ulp from the
 * correctly rounded result) only under -ffast-math; this file declares them
 * itself when setup.py found libmvec (FO_HAVE_LIBMVEC), so that GCC
 * vectorises these loops with them: 8 floats or 4 doubles per call in the
 * AVX2 clone, where the scalar calls were a quarter of a GELU network's
 * epoch. It is a translation unit of its own so that the declarations
 * reach these loops only: the loss and output activations of _mlp_fast.pyx
 * keep the scalar libm, whose results scikit-learn's trajectories are
 * compared with. Which elements take the vector path depends on the layer
 * width and the block layout only, so results stay the same for any thread
 * count.
 */
#include <math.h>
#include <stddef.h>
#include "fo_config.h"
#include "fo_mlp_kernels.h"

#ifdef FO_HAVE_LIBMVEC
#define FO_VECTOR_MATH __attribute__((__simd__("notinbranch")))
FO_VECTOR_MATH extern float erff(float);
FO_VECTOR_MATH extern double erf(double);
FO_VECTOR_MATH extern float expf(float);
FO_VECTOR_MATH extern double exp(double);
FO_VECTOR_MATH extern float expm1f(float);
FO_VECTOR_MATH extern double expm1(double);
#endif

/* f and f' of each activation; f' of leaky ReLU and ELU takes the output */
#define FO_MLP_SCALARS(SUF, REAL, EXP, EXPM1, ERF)                                      \
static inline REAL fo_leaky_relu_##SUF(REAL x)                                          \
{ return x > 0 ? x : (REAL)FO_MLP_LEAKY_SLOPE * x; }                                    \
static inline REAL fo_leaky_relu_grad_##SUF(REAL a)                                     \
{ return a > 0 ? (REAL)1 : (REAL)FO_MLP_LEAKY_SLOPE; }                                  \
static inline REAL fo_elu_##SUF(REAL x) { return x > 0 ? x : EXPM1(x); }                \
static inline REAL fo_elu_grad_##SUF(REAL a) { return a > 0 ? (REAL)1 : a + 1; }        \
static inline REAL fo_gelu_##SUF(REAL x)                                                \
{ return (REAL)0.5 * x * (1 + ERF(x * (REAL)FO_MLP_SQRT1_2)); }                         \
static inline REAL fo_gelu_grad_##SUF(REAL x)                                           \
{                                                                                       \
    return (REAL)0.5 * (1 + ERF(x * (REAL)FO_MLP_SQRT1_2))                              \
           + x * (REAL)FO_MLP_INV_SQRT_2PI * EXP((REAL)-0.5 * x * x);                   \
}                                                                                       \
static inline REAL fo_silu_##SUF(REAL x) { return x / (1 + EXP(-x)); }                  \
static inline REAL fo_silu_grad_##SUF(REAL x)                                           \
{                                                                                       \
    REAL s = 1 / (1 + EXP(-x));                                                         \
    return s * (1 + x * (1 - s));                                                       \
}

FO_MLP_SCALARS(f32, float, expf, expm1f, erff)
FO_MLP_SCALARS(f64, double, exp, expm1, erf)

#undef FO_MLP_SCALARS

/* The forward loop (Z = f(Z + b) row-wise, Z + b also to `pre` when given)
 * and the delta loop (D *= f'(X), X the output when FROM_OUTPUT, else the
 * pre-activation; with `mask`, D *= s f'(X / s) or 0, see the top) of one
 * activation. */
#define FO_MLP_ACT_LOOPS(ACT, SUF, REAL, FROM_OUTPUT)                                   \
static inline void fo_mlp_bias_##ACT##_##SUF(REAL *FO_RESTRICT z,                       \
                                             const REAL *FO_RESTRICT b, ptrdiff_t m,    \
                                             ptrdiff_t h, REAL *FO_RESTRICT pre)        \
{                                                                                       \
    ptrdiff_t i, j;                                                                     \
    for (i = 0; i < m; i++) {                                                           \
        REAL *FO_RESTRICT zi = z + i * h;                                               \
        if (pre != NULL) {                                                              \
            REAL *FO_RESTRICT pi = pre + i * h;                                         \
            for (j = 0; j < h; j++) {                                                   \
                pi[j] = zi[j] + b[j];                                                   \
                zi[j] = fo_##ACT##_##SUF(pi[j]);                                        \
            }                                                                           \
        } else {                                                                        \
            for (j = 0; j < h; j++) zi[j] = fo_##ACT##_##SUF(zi[j] + b[j]);             \
        }                                                                               \
    }                                                                                   \
}                                                                                       \
static inline void fo_mlp_##ACT##_delta_##SUF(REAL *FO_RESTRICT d,                      \
                                              const REAL *FO_RESTRICT x,                \
                                              const REAL *FO_RESTRICT mask, ptrdiff_t n)\
{                                                                                       \
    ptrdiff_t i;                                                                        \
    if (mask == NULL) {                                                                 \
        for (i = 0; i < n; i++) d[i] *= fo_##ACT##_grad_##SUF(x[i]);                    \
        return;                                                                         \
    }                                                                                   \
    for (i = 0; i < n; i++) {                                                           \
        REAL s = mask[i];                                                               \
        REAL xi = FROM_OUTPUT ? x[i] / s : x[i];                                        \
        d[i] = s == 0 ? (REAL)0 : d[i] * s * fo_##ACT##_grad_##SUF(xi);                 \
    }                                                                                   \
}

#define FO_MLP_ACT_TYPE(SUF, REAL)                                                      \
FO_MLP_ACT_LOOPS(leaky_relu, SUF, REAL, 1)                                              \
FO_MLP_ACT_LOOPS(elu, SUF, REAL, 1)                                                     \
FO_MLP_ACT_LOOPS(gelu, SUF, REAL, 0)                                                    \
FO_MLP_ACT_LOOPS(silu, SUF, REAL, 0)                                                    \
FO_MULTIVERSION                                                                         \
void fo_mlp_bias_act_##SUF(int kind, REAL *z, const REAL *b, ptrdiff_t m,               \
                           ptrdiff_t h, REAL *pre)                                      \
{                                                                                       \
    switch (kind) {                                                                     \
    case FO_ACT_LEAKY_RELU: fo_mlp_bias_leaky_relu_##SUF(z, b, m, h, pre); break;       \
    case FO_ACT_ELU: fo_mlp_bias_elu_##SUF(z, b, m, h, pre); break;                     \
    case FO_ACT_GELU: fo_mlp_bias_gelu_##SUF(z, b, m, h, pre); break;                   \
    case FO_ACT_SILU: fo_mlp_bias_silu_##SUF(z, b, m, h, pre); break;                   \
    default: break; /* none: MLPCore refuses codes outside its Activation enum */     \
    }                                                                                   \
}                                                                                       \
FO_MULTIVERSION                                                                         \
void fo_mlp_act_delta_##SUF(int kind, REAL *d, const REAL *x, const REAL *mask,         \
                            ptrdiff_t n)                                                \
{                                                                                       \
    switch (kind) {                                                                     \
    case FO_ACT_LEAKY_RELU: fo_mlp_leaky_relu_delta_##SUF(d, x, mask, n); break;        \
    case FO_ACT_ELU: fo_mlp_elu_delta_##SUF(d, x, mask, n); break;                      \
    case FO_ACT_GELU: fo_mlp_gelu_delta_##SUF(d, x, mask, n); break;                    \
    case FO_ACT_SILU: fo_mlp_silu_delta_##SUF(d, x, mask, n); break;                    \
    default: break; /* none: MLPCore refuses codes outside its Activation enum */     \
    }                                                                                   \
}

FO_MLP_ACT_TYPE(f32, float)
FO_MLP_ACT_TYPE(f64, double)

#undef FO_MLP_ACT_TYPE
#undef FO_MLP_ACT_LOOPS
