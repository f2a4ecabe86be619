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

/* ---- the activations, once per precision ---- */

#define FO_REAL float
#define FO_SUFFIX _f32
#define FO_EXP expf
#define FO_EXPM1 expm1f
#define FO_ERF erff
#include "fo_mlp_act_impl.h"
#undef FO_REAL
#undef FO_SUFFIX
#undef FO_EXP
#undef FO_EXPM1
#undef FO_ERF

#define FO_REAL double
#define FO_SUFFIX _f64
#define FO_EXP exp
#define FO_EXPM1 expm1
#define FO_ERF erf
#include "fo_mlp_act_impl.h"
#undef FO_REAL
#undef FO_SUFFIX
#undef FO_EXP
#undef FO_EXPM1
#undef FO_ERF
