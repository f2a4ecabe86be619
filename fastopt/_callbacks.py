"""A fit as scikit-learn callback tasks (``sklearn.callback``), shared by all estimators.

scikit-learn 1.9 models a fit as a tree of tasks: the estimators'
``fit``/``partial_fit`` is the root task and every epoch (every L-BFGS
iteration) one subtask, whose ``on_fit_task_end`` hook receives the model
as it stands after that epoch and may return True to stop the fit.
:class:`EpochTasks` opens and closes these tasks for the training loops, the
way ``sklearn.linear_model.LogisticRegression`` does; ``_fit_context`` (or
``with_callbacks``) around ``fit`` tears the callbacks down whatever happens.

Without callbacks the epochs open no subtask and build no model, so a fit
pays nothing per epoch.
"""

__all__ = ["EpochTasks", "LbfgsTasks", "restore_after_failure"]

# Attributes that scikit-learn's callback machinery sets for the duration of a
# fit and removes in its teardown: a failed fit restores everything else.
_CALLBACK_RUN_STATE = ("_callback_fit_ctx", "_skl_callbacks_to_teardown")


def restore_after_failure(est, saved):
    """Put back the attributes ``saved`` before a failed fit, keeping the callback run state.

    The callbacks' teardown runs after the failed fit has been undone and needs
    the run state that the fit created.
    """
    running = {name: est.__dict__[name] for name in _CALLBACK_RUN_STATE if name in est.__dict__}
    est.__dict__.clear()
    est.__dict__.update(saved)
    est.__dict__.update(running)


class EpochTasks:
    """The root task of a fit and one subtask per epoch.

    Parameters
    ----------
    est : estimator with ``CallbackSupportMixin``
        The estimator being fitted.
    max_epochs : int
        Most subtasks the fit can run.
    X, y : array-like
        Training data handed to the hooks (and to ``ScoringMonitor``'s scorer).
    sample_weight : array-like or None
        Handed to the hooks as ``metadata={"sample_weight": ...}`` when not None.
    task_name : str, default="fit"
        Name of the root task.
    epoch_name : str, default="epoch"
        Name of every subtask.
    """

    def __init__(self, est, max_epochs, X, y, sample_weight, task_name="fit",
                 epoch_name="epoch"):
        self._est = est
        self._epoch_name = epoch_name
        self._data = {"X": X, "y": y,
                      "metadata": None if sample_weight is None
                      else {"sample_weight": sample_weight}}
        self._root = est._init_callback_context(task_name=task_name, max_subtasks=max_epochs)
        self.watched = bool(getattr(est, "_skl_callbacks", None))
        self._epoch = None
        self._root.call_on_fit_task_begin(estimator=est, **self._data)

    def begin_epoch(self):
        """Open the next epoch's subtask."""
        if self.watched:
            self._epoch = self._root.subcontext(task_name=self._epoch_name)
            self._epoch.call_on_fit_task_begin(estimator=self._est, **self._data)

    def end_epoch(self, model):
        """Close the epoch's subtask; return True when a callback asks to stop.

        ``model`` is a callable returning the reconstruction attributes of the
        model after this epoch (copies): it is only called when a callback
        asks for ``fitted_estimator``.
        """
        if not self.watched:
            return False
        return self._epoch.call_on_fit_task_end(
            estimator=self._est, **self._data, reconstruction_attributes=model)

    def end_empty_epoch(self):
        """Close the epoch's subtask as an empty task (an epoch that never ran)."""
        if self.watched:
            self._epoch.call_on_fit_task_end(estimator=self._est)

    def end(self):
        """Close the root task; the estimator must be fully fitted by now."""
        self._root.call_on_fit_task_end(estimator=self._est, **self._data,
                                        reconstruction_attributes={})


class LbfgsTasks:
    """The L-BFGS iterations of ``scipy.optimize.minimize`` as subtasks.

    As scikit-learn's ``_LbfgsCallbackBridge``: scipy calls ``callback`` at the
    end of each iteration, which ends that iteration's subtask and begins the
    next one; ``close`` ends the last one, which never ran, as an empty task
    (so the root task allows ``max_iter + 1`` subtasks). Unlike
    scikit-learn 1.9, a hook returning True stops the minimisation
    (``StopIteration``, honoured by scipy >= 1.11).

    Parameters
    ----------
    tasks : EpochTasks
        The fit's tasks, opened with ``max_epochs=max_iter + 1``.
    model : callable
        ``model(x)`` returns the reconstruction attributes for parameters ``x``.
    """

    def __init__(self, tasks, model):
        self._tasks = tasks
        self._model = model
        self.stopped = False
        tasks.begin_epoch()

    def __call__(self, intermediate_result):
        x = intermediate_result.x
        if self._tasks.end_epoch(lambda: self._model(x)):
            self.stopped = True
            raise StopIteration
        self._tasks.begin_epoch()

    def close(self):
        """End the subtask opened after the last iteration, as an empty task."""
        if not self.stopped:
            self._tasks.end_empty_epoch()
