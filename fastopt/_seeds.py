"""Seeds of the compiled engines' random generators, drawn as scikit-learn draws them.

An engine's generator is seeded by one draw from ``check_random_state(random_state)``.
For an int ``random_state`` that draw depends on the int alone, so it is made once
and cached: building a ``RandomState`` (seeding the Mersenne Twister) costs more than
a small ``partial_fit`` call's arithmetic.
"""

import functools
from numbers import Integral

from sklearn.utils import check_random_state


@functools.lru_cache(maxsize=256)
def _int_seed(random_state, high, dtype):
    return check_random_state(random_state).randint(high, dtype=dtype)


def engine_seed(random_state, high, dtype=int):
    """``check_random_state(random_state).randint(high, dtype=dtype)``; for an int
    ``random_state`` computed once, not at every call."""
    if isinstance(random_state, Integral):
        return _int_seed(int(random_state), high, dtype)
    return check_random_state(random_state).randint(high, dtype=dtype)
