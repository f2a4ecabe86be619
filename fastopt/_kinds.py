"""Refusing unknown kinds at the door of the compiled engines.

The engines switch over small integer kinds (update rule, schedule, loss,
penalty, learning rate), each a ``cpdef enum`` mirrored from the C header
that defines it. The C switches cannot raise, so every engine checks the
kinds it is given here, once, when it is built.
"""

from functools import lru_cache

__all__ = ["check_kind"]


@lru_cache(maxsize=None)
def _values(enum):
    return frozenset(k.value for k in enum)


def check_kind(enum, kind):
    """Return ``kind`` if it is a value of ``enum``, else raise ValueError.

    Parameters
    ----------
    enum : enum class
        A ``cpdef enum`` of a compiled module (an ``IntEnum``).
    kind : int
        The value to check.

    Returns
    -------
    kind : int
    """
    if kind not in _values(enum):
        raise ValueError(
            f"unknown {enum.__name__} {kind!r}; the kinds are "
            + ", ".join(f"{k.value} ({k.name})" for k in enum)
        )
    return kind
