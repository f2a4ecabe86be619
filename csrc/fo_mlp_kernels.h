/* fo_mlp_kernels.h -- element-wise kernels of the MLP training loop.
 *
 * fo_mlp_penalty adds the gradient of l2/2 ||W||^2 + l1 ||W||_1 (times
 * `scale`) to the weight gradient and returns ||W||^2 and ||W||_1 in one
 * pass. It runs once per minibatch over every weight, so it must vectorise:
 * each block of FO_MLP_BLOCK weights is summed in FO_MLP_LANES independent
 * accumulators of the parameter type (one add chain would be serial), and
 * the block sums are added in double in block order, so the result is
 * deterministic and a float32 sum only ever adds FO_MLP_BLOCK / FO_MLP_LANES
 * terms per lane. The pure-L2 case (scikit-learn's) has its own loop without
 * the sign computation. Multi-versioned (AVX2+FMA clone, see fo_config.h).
 */
#ifndef FO_MLP_KERNELS_H
#define FO_MLP_KERNELS_H

#include <stddef.h>
#include "fo_config.h"

#define FO_MLP_LANES 16
#define FO_MLP_BLOCK 1024

#define FO_MLP_PENALTY(NAME, REAL)                                                      \
FO_MULTIVERSION                                                                         \
static void NAME(const REAL *FO_RESTRICT p, REAL *FO_RESTRICT g, ptrdiff_t n,          \
                 REAL c2, REAL c1, double *sumsq, double *sumabs)                       \
{                                                                                       \
    double s = 0.0, a = 0.0;                                                            \
    ptrdiff_t start, end, i, k;                                                         \
    for (start = 0; start < n; start += FO_MLP_BLOCK) {                                 \
        REAL sq[FO_MLP_LANES] = {0}, ab[FO_MLP_LANES] = {0};                            \
        end = n - start < FO_MLP_BLOCK ? n : start + FO_MLP_BLOCK;                      \
        if (c1 == 0) {                                                                  \
            for (i = start; i + FO_MLP_LANES <= end; i += FO_MLP_LANES) {               \
                for (k = 0; k < FO_MLP_LANES; k++) {                                    \
                    REAL w = p[i + k];                                                  \
                    sq[k] += w * w;                                                     \
                    g[i + k] += c2 * w;                                                 \
                }                                                                       \
            }                                                                           \
        } else {                                                                        \
            for (i = start; i + FO_MLP_LANES <= end; i += FO_MLP_LANES) {               \
                for (k = 0; k < FO_MLP_LANES; k++) {                                    \
                    REAL w = p[i + k];                                                  \
                    REAL sign = (w > 0 ? (REAL)1 : (REAL)0) - (w < 0 ? (REAL)1 : (REAL)0); \
                    sq[k] += w * w;                                                     \
                    ab[k] += w * sign;                                                  \
                    g[i + k] += c2 * w + c1 * sign;                                     \
                }                                                                       \
            }                                                                           \
        }                                                                               \
        for (; i < end; i++) {                                                          \
            REAL w = p[i];                                                              \
            REAL sign = (w > 0 ? (REAL)1 : (REAL)0) - (w < 0 ? (REAL)1 : (REAL)0);      \
            sq[0] += w * w;                                                             \
            ab[0] += w * sign;                                                          \
            g[i] += c2 * w + c1 * sign;                                                 \
        }                                                                               \
        for (k = 0; k < FO_MLP_LANES; k++) {                                            \
            s += (double)sq[k];                                                         \
            a += (double)ab[k];                                                         \
        }                                                                               \
    }                                                                                   \
    *sumsq = s;                                                                         \
    *sumabs = a;                                                                        \
}

FO_MLP_PENALTY(fo_mlp_penalty_f32, float)
FO_MLP_PENALTY(fo_mlp_penalty_f64, double)

#undef FO_MLP_PENALTY

#endif
