/* fo_interrupt.h -- Ctrl-C inside long GIL-free training loops.
 *
 * A compiled epoch runs without the GIL, so Python cannot deliver SIGINT until
 * it returns. Loops call fo_interrupt_pending() between work units (minibatches,
 * blocks of samples): it reads a monotonic clock and, at most every
 * FO_INTERRUPT_PERIOD_NS, takes the GIL for PyErr_CheckSignals(). It returns 1
 * when a Python signal handler raised (KeyboardInterrupt is then set as the
 * current exception) and the loop must stop and report an error; 0 otherwise.
 * Off the main thread PyErr_CheckSignals() does nothing, so worker threads are
 * never interrupted here. The cost is one clock read per call and one GIL
 * round trip per period.
 */
#ifndef FO_INTERRUPT_H
#define FO_INTERRUPT_H

#include <Python.h>
#include <time.h>

#define FO_INTERRUPT_PERIOD_NS 20000000LL /* 20 ms */

typedef struct {
    long long next_check_ns;
} fo_interrupt_clock;

static inline long long fo_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline void fo_interrupt_start(fo_interrupt_clock *c)
{
    c->next_check_ns = fo_monotonic_ns() + FO_INTERRUPT_PERIOD_NS;
}

static inline int fo_interrupt_pending(fo_interrupt_clock *c)
{
    long long now = fo_monotonic_ns();
    int raised;
    PyGILState_STATE gil;
    if (now < c->next_check_ns) return 0;
    c->next_check_ns = now + FO_INTERRUPT_PERIOD_NS;
    gil = PyGILState_Ensure();
    raised = PyErr_CheckSignals() != 0;
    PyGILState_Release(gil);
    return raised;
}

/* A stop flag shared by the threads of one parallel loop: the thread that
 * sees the interrupt sets it, the others poll it between work units. */
static inline int fo_stop_requested(const int *flag)
{
    return __atomic_load_n(flag, __ATOMIC_RELAXED);
}

static inline void fo_request_stop(int *flag) { __atomic_store_n(flag, 1, __ATOMIC_RELAXED); }

#endif
