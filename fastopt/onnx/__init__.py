"""ONNX export of fastopt's estimators through skl2onnx.

Once fastopt is imported, ``skl2onnx.to_onnx(est, X[:1])`` converts
``SGDRegressor``, ``SGDClassifier``, ``MLPRegressor`` and ``MLPClassifier``
(recipe and coverage: ``docs/onnx.md``). skl2onnx is an optional dependency
(extra ``onnx``) and importing fastopt never imports it: if skl2onnx is already
imported, the converters are registered when fastopt is; otherwise a
``sys.meta_path`` hook registers them right after skl2onnx's package has been
imported, whenever that happens.

>>> import fastopt.onnx
>>> fastopt.onnx.register_converters()  # explicit, idempotent; needs skl2onnx
"""

import importlib.util
import sys
import warnings

__all__ = ["register_converters"]

_PACKAGE = "skl2onnx"


def register_converters():
    """Register fastopt's converters with skl2onnx (done automatically; idempotent)."""
    from fastopt.onnx._converters import register

    register()


class _RegisteringLoader:
    """Delegates to skl2onnx's own loader, then registers the converters."""

    def __init__(self, loader):
        self._loader = loader

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        try:
            register_converters()
        except Exception as exc:  # a broken exporter must not break `import skl2onnx`
            warnings.warn(f"fastopt could not register its ONNX converters with skl2onnx "
                          f"({type(exc).__name__}: {exc}); skl2onnx.to_onnx will not accept "
                          "fastopt estimators", RuntimeWarning, stacklevel=2)


class _RegisterAfterImport:
    """Meta-path finder that wraps the loader of skl2onnx's package.

    It stays in ``sys.meta_path`` (removing it while the import system iterates
    over that list would skip the next finder); once skl2onnx is in
    ``sys.modules`` it is not consulted for it again.
    """

    def __init__(self):
        self._searching = False

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _PACKAGE or self._searching:
            return None
        self._searching = True
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._searching = False
        if spec is not None and spec.loader is not None:
            spec.loader = _RegisteringLoader(spec.loader)
        return spec


def _register_now_or_on_import():
    if _PACKAGE in sys.modules:
        register_converters()
    elif not any(isinstance(finder, _RegisterAfterImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _RegisterAfterImport())


_register_now_or_on_import()
