# Ctrl-C inside GIL-free training loops (csrc/fo_interrupt.h).
#
# A loop starts a clock, calls interrupt_pending() between work units and
# stops when it returns 1; the GIL-holding caller then calls
# raise_pending_error(), which propagates the KeyboardInterrupt (or whatever
# a Python signal handler raised) that PyErr_CheckSignals() left set.

cdef extern from "fo_interrupt.h" nogil:
    ctypedef struct fo_interrupt_clock:
        pass
    void fo_interrupt_start(fo_interrupt_clock* clock)
    int fo_interrupt_pending(fo_interrupt_clock* clock)
    int fo_stop_requested(const int* flag)
    void fo_request_stop(int* flag)


cdef inline int raise_pending_error() except -1:
    return -1
