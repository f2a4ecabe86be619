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
 * threadpoolctl control -- except in a child created by fork(). GNU libgomp is
 * not fork-safe: a child whose parent already ran a parallel region deadlocks in
 * its first one. Like PyTorch, fastopt then runs every loop on one thread (and
 * callers skip the parallel region entirely when given one thread).
 * Every extension module that includes this header registers its own fork
 * handler when the shared object is loaded (a constructor), so no module can
 * forget to. */
#ifdef _OPENMP
#include <omp.h>
#if !defined(_WIN32)
#include <pthread.h>
static volatile int fo_in_forked_child = 0;
static void fo_mark_forked_child(void) { fo_in_forked_child = 1; }
__attribute__((constructor)) static void fo_openmp_guard_fork(void)
{
    pthread_atfork(NULL, NULL, fo_mark_forked_child);
}
#else
static const int fo_in_forked_child = 0;
#endif
static int fo_omp_max_threads(void)
{
    return fo_in_forked_child ? 1 : omp_get_max_threads();
}
#else
static int fo_omp_max_threads(void) { return 1; }
#endif

#endif
