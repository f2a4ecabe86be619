/* fo_config.h -- portability macros shared by fastopt's C headers.
 *
 * FO_MULTIVERSION marks a hot element-wise kernel for function
 * multi-versioning: GCC/Clang emit an AVX2+FMA clone and a baseline clone and
 * the dynamic loader picks one for the running CPU (ifunc). The binary
 * therefore uses 256-bit FMA code on Haswell/Zen and later, and still runs on
 * any x86-64. Elsewhere (other ISAs, MSVC, no ifunc) it expands to nothing.
 */
#ifndef FO_CONFIG_H
#define FO_CONFIG_H

#if defined(__x86_64__) && defined(__linux__) && \
    ((defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 8) || \
     (defined(__clang__) && __clang_major__ >= 14))
#define FO_MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define FO_MULTIVERSION
#endif

#if defined(_MSC_VER)
#define FO_RESTRICT __restrict
#else
#define FO_RESTRICT __restrict__
#endif

/* Threads for a compiled loop: omp_get_max_threads(), which OMP_NUM_THREADS and
 * threadpoolctl control. fastopt runs no OpenMP parallel region (its loops run
 * on the pool of fo_pool.h, which is fork-safe), so libgomp's lack of fork
 * safety does not concern it and a forked child keeps every thread. */
#ifdef _OPENMP
#include <omp.h>
static int fo_omp_max_threads(void) { return omp_get_max_threads(); }
#else
static int fo_omp_max_threads(void) { return 1; }
#endif

/* FO_NAME(fo_x) is fo_x_f32 or fo_x_f64: the name of a kernel written once for
 * FO_REAL in an *_impl.h header, included once per precision with FO_SUFFIX. */
#define FO_CAT2(a, b) a##b
#define FO_CAT(a, b) FO_CAT2(a, b)
#define FO_NAME(name) FO_CAT(name, FO_SUFFIX)

/* FO_SIMD_REDUCE(a, b) before a loop: `omp simd reduction(+:a, b)`, lane-wise
 * partial sums that let a reduction vectorise without -ffast-math (a serial
 * loop without OpenMP). Such sums run over blocks of FO_REDUCE_BLOCK
 * elements, whose sums are added in double in block order: deterministic for
 * a build, and a float32 partial sum adds only a few hundred terms per lane. */
#define FO_REDUCE_BLOCK 1024
#if defined(_OPENMP)
#define FO_STR(x) #x
#define FO_SIMD_REDUCE(...) _Pragma(FO_STR(omp simd reduction(+:__VA_ARGS__)))
#else
#define FO_SIMD_REDUCE(...)
#endif

#endif
