"""Checks shared by the estimators' ``fit(..., X_val=, y_val=, sample_weight_val=)``."""

__all__ = ["check_validation_pairing"]


def check_validation_pairing(X_val, y_val, sample_weight_val):
    """Refuse validation data given by halves, before any work."""
    if X_val is not None and y_val is None:
        raise ValueError("X_val is provided, but y_val was not provided; pass both.")
    if y_val is not None and X_val is None:
        raise ValueError("y_val is provided, but X_val was not provided; pass both.")
    if sample_weight_val is not None and X_val is None:
        raise ValueError("sample_weight_val is provided without X_val and y_val; pass the "
                         "validation data it weights.")
