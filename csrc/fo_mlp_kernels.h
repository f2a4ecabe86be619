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
 */
#ifndef FO_MLP_KERNELS_H
#define FO_MLP_KERNELS_H

#include <stddef.h>
#include "fo_config.h"

#define FO_MLP_BLOCK 1024

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

#endif
