"""A step budget for one evaluation, set by its caller below the engine's own bound.

The engine stops any evaluation after :data:`~engine.runtime.state.MAX_STEPS` rule and function
computations (E440): a guard against rulebooks that loop through aggregates or functions. A
caller that answers many requests wants a tighter bound of its own, per evaluation: ``policy
serve --max-steps`` keeps one costly case from holding a worker's evaluation thread, since Python
cannot stop a thread that runs past its time limit (see engine/service/admission.py).

:class:`BudgetedState` is the working memory of such an evaluation. It watches the step count the
engine keeps (:attr:`State.steps`, advanced once per computation) and stops the evaluation with
E441 the moment the count would pass the budget, naming the rule or function that was being
computed. The engine's own bound still applies, so a budget can only lower it.
"""

from __future__ import annotations

from ..errors import EvaluationError, codes
from ..model.definitions import Rule
from .state import MAX_STEPS, State


def check_budget(max_steps) -> int:
    """A step budget as given by a caller: a whole number from 1 to the engine's bound."""
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) \
            or not 1 <= max_steps <= MAX_STEPS:
        raise ValueError(f"A step budget is a whole number from 1 to {MAX_STEPS:,}, not "
                         f"{max_steps!r}.")
    return max_steps


class BudgetedState(State):
    """The working memory of an evaluation allowed at most ``max_steps`` computations."""

    def __init__(self, *args, max_steps: int, **kwargs):
        self.max_steps = check_budget(max_steps)
        self._steps = 0
        super().__init__(*args, **kwargs)

    @property
    def steps(self) -> int:
        """Rule and function computations so far (the engine advances it by one per computation)."""
        return self._steps

    @steps.setter
    def steps(self, count: int) -> None:
        if count > self.max_steps:
            raise self._out_of_budget()
        self._steps = count

    def _out_of_budget(self) -> EvaluationError:
        definition = self.current
        if definition is None:
            where, file, line, field = "the case's results", None, None, None
        else:
            where = (f"rule {definition.name} for {self.current_entity.label()}"
                     if isinstance(definition, Rule) and self.current_entity is not None
                     else f"function {definition.name}")
            file, line, field = definition.file, definition.line, definition.name
        steps = f"{self.max_steps:,} step" + ("s" if self.max_steps != 1 else "")
        return EvaluationError(f"Evaluating this case needed more than its budget of {steps}; "
                               f"the budget ran out while computing "
                               f"{where}. Raise the budget (policy serve --max-steps) or send "
                               "a smaller case.", code=codes.STEP_BUDGET, file=file, line=line,
                               field=field)
