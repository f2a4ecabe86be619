"""Progress bars for long fits (``progress=True`` on the estimators).

The estimators advance their compiled epochs from a Python loop, so a bar is
updated once per epoch with the epoch's figures (loss, validation score).
While the bar is open, warnings are held back and re-issued once it is closed,
so a ``ConvergenceWarning`` prints below a finished bar instead of through it.
When the stopping rule ends the fit before ``max_iter``, the bar says so and
ends at 100% of the epochs that ran. tqdm is an optional dependency: asking
for a bar without it raises an ImportError that says how to install it.
"""

import contextlib
import sys
import warnings

__all__ = ["epoch_progress"]


class _NoBar:
    def update(self, **postfix):
        """Do nothing: progress bars are off."""

    def stopped(self, reason):
        """Do nothing: progress bars are off."""


class _Bar:
    def __init__(self, bar):
        self._bar = bar
        self._stop_reason = None

    def update(self, **postfix):
        """Advance by one epoch and show ``postfix`` (e.g. the loss)."""
        self._bar.set_postfix(postfix, refresh=False)
        self._bar.update(1)

    def stopped(self, reason):
        """Record that the stopping rule ended the fit, and why (shown on close)."""
        self._stop_reason = reason

    def finish(self):
        """Say on the bar why it ended before ``total``, then close it."""
        bar = self._bar
        if self._stop_reason is not None:
            note = (f"stopped after {bar.n} of max_iter={bar.total} epochs: "
                    f"{self._stop_reason}")
            bar.set_postfix_str(", ".join(filter(None, [bar.postfix, note])), refresh=False)
            bar.total = bar.n
            bar.refresh()
        bar.close()


def _origin(filename):
    """Name and warning registry of the imported module whose file is ``filename``."""
    for name, module in list(sys.modules.items()):
        if getattr(module, "__file__", None) == filename:
            return name, vars(module).setdefault("__warningregistry__", {})
    return None, {}


def _reissue(caught):
    """Pass warnings caught while a bar was open through the warning filters.

    They were caught with the "always" action; here each goes through the
    filters in force (ignore, once, default, module, error) with its origin's
    module name and registry, as ``warnings.warn`` would have sent it.
    """
    for w in caught:
        module, registry = _origin(w.filename)
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, module=module,
                               registry=registry, source=w.source)


@contextlib.contextmanager
def epoch_progress(enabled, total, desc):
    """Yield an object that marks finished epochs on a progress bar.

    The object has ``update(**postfix)``, called once per finished epoch with
    the figures to show (e.g. ``loss=...``), and ``stopped(reason)``, called
    when the stopping rule ends the fit before ``total`` epochs.

    Parameters
    ----------
    enabled : bool
        Show a tqdm bar (on stderr); when False, the object does nothing and
        warnings pass through at once.
    total : int
        Most epochs the fit may run (``max_iter``).
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
    bar = _Bar(tqdm(total=total, desc=desc, unit="epoch"))
    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield bar
            finally:
                bar.finish()
    finally:
        _reissue(caught)
