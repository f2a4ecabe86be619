from fastopt.optim._rules cimport RuleConfig, RuleState

cdef class OptimizerState:
    cdef RuleConfig cfg
    cdef RuleState st
    cdef readonly object dtype
    cdef int _typenum
    cdef readonly tuple shapes
    cdef readonly tuple buffer_names
    cdef bint _single
    cdef list _buffers
    cdef void* flat_buffer(self, int k)
    cdef void set_lr(self, double lr) noexcept nogil
    cdef long long steps_taken(self) noexcept nogil
    cpdef double divide_lr(self, double divisor)
    cdef bint _ready(self, object p, object g, tuple shape)
