# The rows of a data matrix, dense or CSR, behind one struct shared by the linear
# and MLP engines. Row i is data + i * n_features (dense: indptr == NULL) or the
# stored values indptr[i]:indptr[i + 1] with their column indices (CSR).
# Indices are int32, as in scikit-learn's SequentialDataset: half the index
# traffic of int64 in the sparse loops; rows_of refuses matrices they cannot
# address.

cdef struct Rows:
    const void* data             # float32 or float64 values
    const int* indices           # CSR column indices; NULL for dense rows
    const int* indptr            # CSR row starts (n_samples + 1); NULL for dense rows
    Py_ssize_t n_samples
    Py_ssize_t n_features
    Py_ssize_t nnz               # stored values (n_samples * n_features dense)
    bint is32                    # float32 values


cdef Rows rows_of(X, list keep) except *


cdef inline Py_ssize_t row_span(const Rows* rows, Py_ssize_t i,
                                Py_ssize_t* start) noexcept nogil:
    """Offset of row i in ``data`` (and ``indices``); returns its number of entries."""
    if rows.indptr == NULL:
        start[0] = i * rows.n_features
        return rows.n_features
    start[0] = rows.indptr[i]
    return rows.indptr[i + 1] - rows.indptr[i]


cdef inline Py_ssize_t max_row_values(const Rows* rows) noexcept nogil:
    """Stored values of the longest row (one pass over a CSR indptr)."""
    cdef Py_ssize_t i, longest = 0
    if rows.indptr == NULL:
        return rows.n_features
    for i in range(rows.n_samples):
        longest = max(longest, rows.indptr[i + 1] - rows.indptr[i])
    return longest


cdef inline double mean_row_values(const Rows* rows) noexcept nogil:
    """Stored values per row on average (cost models)."""
    return <double> rows.nnz / (rows.n_samples if rows.n_samples > 0 else 1)
