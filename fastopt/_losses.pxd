# The losses of csrc/fo_losses.h, shared by the linear and MLP engines: the
# one-output losses of the linear engines (double) and the row losses and
# softmax of the output layers, with typed entry points fused over
# float32/float64.

from cython cimport floating

cdef extern from "fo_losses.h" nogil:
    double FO_SGD_MAX_DLOSS
    double fo_sgd_loss(int kind, double param, double y, double p)
    double fo_sgd_dloss(int kind, double param, double y, double p)
    float fo_softmax_f32(float* z, Py_ssize_t k)
    double fo_softmax_f64(double* z, Py_ssize_t k)
    double fo_output_loss_delta_f32(int kind, float delta, float* z, const float* y, float w,
                                    Py_ssize_t k)
    double fo_output_loss_delta_f64(int kind, double delta, double* z, const double* y,
                                    double w, Py_ssize_t k)


cdef inline floating softmax(floating* z, Py_ssize_t k) noexcept nogil:
    """``z[0:k] = softmax(z)`` (stable); returns the log-sum-exp of the input."""
    if floating is float:
        return fo_softmax_f32(z, k)
    else:
        return fo_softmax_f64(z, k)


cdef inline double output_loss_delta(int kind, floating delta, floating* z, const floating* y,
                                     floating w, Py_ssize_t k) noexcept nogil:
    """The unweighted loss of a row of ``k`` outputs (kind: an ``OutputLoss``);
    ``z`` (pre-activations) becomes ``w`` times the loss's gradient."""
    if floating is float:
        return fo_output_loss_delta_f32(kind, delta, z, y, w, k)
    else:
        return fo_output_loss_delta_f64(kind, delta, z, y, w, k)
