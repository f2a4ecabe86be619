"""Refusing unknown kinds at the door of the compiled engines.

The engines switch over small integer kinds (update rule, schedule, loss,
penalty, learning rate, activation), each a ``cpdef enum`` mirrored from the
C header that defines it. The C switches cannot raise, so every engine checks
the kinds it is given here, once, when it is built.
"""

__all__ = ["check_kind"]


def check_kind(enum, kind, what=None):
    """Return ``kind`` if it is a value of ``enum``, else raise ValueError.

    Parameters
    ----------
    enum : enum class
        A ``cpdef enum`` of a compiled module (an ``IntEnum``).
    kind : int
        The value to check.
    what : str, optional
        What the kind is of, for the message (default: the enum's name).

    Returns
    -------
    kind : int
    """
    if kind not in [k.value for k in enum]:
        raise ValueError(
            f"unknown {what or enum.__name__} {kind!r}; the kinds are "
            + ", ".join(f"{k.value} ({k.name})" for k in enum)
        )
    return kind
