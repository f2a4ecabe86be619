"""Progress bars for long fits (``progress=True`` on the estimators).

The estimators advance their compiled epochs from a Python loop, so a bar is
updated once per epoch with the epoch's loss. tqdm is an optional dependency:
asking for a bar without it raises an ImportError that says how to install it.
"""

import contextlib

__all__ = ["epoch_progress"]


class _NoBar:
    def update(self, **postfix):
        """Do nothing: progress bars are off."""


class _Bar:
    def __init__(self, bar):
        self._bar = bar

    def update(self, **postfix):
        """Advance by one epoch and show ``postfix`` (e.g. the loss)."""
        self._bar.set_postfix(postfix, refresh=False)
        self._bar.update(1)


@contextlib.contextmanager
def epoch_progress(enabled, total, desc):
    """Yield an object whose ``update(**postfix)`` marks one finished epoch.

    Parameters
    ----------
    enabled : bool
        Show a tqdm bar (on stderr); when False, ``update`` does nothing.
    total : int
        Most epochs the fit may run (``max_iter``); the bar closes early when
        the stopping rule ends the fit.
    desc : str
        Label of the bar, e.g. the estimator's class name.
    """
    if not enabled:
        yield _NoBar()
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError(
            "progress=True draws a bar with tqdm, which is not installed; "
            "pip install tqdm (or fastopt[progress]), or set progress=False"
        ) from None
    bar = tqdm(total=total, desc=desc, unit="epoch")
    try:
        yield _Bar(bar)
    finally:
        bar.close()
