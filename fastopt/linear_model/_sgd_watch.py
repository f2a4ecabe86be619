"""What an SGDRegressor / SGDClassifier fit records and reports after each epoch.

The training objective per epoch (``loss_curve_``), the loss and score of the
model on the validation set (``validation_loss_curve_``,
``validation_scores_``) and the callback subtask of the epoch. The model is
only assembled (the per-sample engine keeps pending scale factors) when a
validation set is measured or a callback is set.
"""

__all__ = ["EpochWatch"]


class EpochWatch:
    """Per-epoch records and callback subtasks of one fit.

    Parameters
    ----------
    tasks : fastopt._callbacks.EpochTasks
        The fit's callback tasks.
    validation : SGDValidation or None
        The set measured after every epoch.
    attributes : callable
        ``attributes(coef, intercept)`` gives the estimator's reconstruction
        attributes (``coef_``, ``intercept_``) for a model of the engines'
        shape (K, d) and (K,).
    """

    def __init__(self, tasks, validation, attributes):
        self._tasks, self._validation, self._attributes = tasks, validation, attributes
        self.loss_curve = []
        self.validation_loss_curve = None if validation is None else []
        self.validation_scores = None if validation is None else []

    def begin_epoch(self):
        self._tasks.begin_epoch()

    def end_epoch(self, objective, n_epochs, model):
        """Record an epoch; return True when a callback asks to stop.

        ``objective`` is the mean training objective of the epoch and
        ``model(n_epochs)`` returns copies ``(coef, intercept)`` of the model.
        """
        self.loss_curve.append(objective)
        if self._validation is None and not self._tasks.watched:
            return False
        coef, intercept = model(n_epochs)
        if self._validation is not None:
            loss, score = self._validation.measure(coef, intercept)
            self.validation_loss_curve.append(loss)
            self.validation_scores.append(score)
        return self._tasks.end_epoch(lambda: self._attributes(coef, intercept))

    def finish(self, est, continued):
        """Set the curves on the fitted ``est`` and close the fit's root task.

        The curves continue the previous ones when ``continued`` (partial_fit).
        """
        for name, curve in (("loss_curve_", self.loss_curve),
                            ("validation_loss_curve_", self.validation_loss_curve),
                            ("validation_scores_", self.validation_scores)):
            previous = getattr(est, name, None) if continued else None
            if curve is not None and previous is not None:
                curve = list(previous) + curve
            setattr(est, name, curve)
        self._tasks.end()
