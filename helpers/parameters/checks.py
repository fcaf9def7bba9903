"""The schema's checks across parameters: one's own model file and its architecture, the
comparisons (each variant validated with the run's values), and the questions they answer.
helpers.parameters.schema calls them from RunParameters' validator; they take the checked
parameters, whose class validates a variant, so they need not import the schema.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from helpers.parameters.messages import problems_text
from helpers.parameters.values import RUNNER_ONLY_PARAMETERS, RUNNER_PARAMETERS, Question


def own_model_problem(checked: Any) -> str | None:
    """architecture `file` and model_file go together; the file must be a .py file. (Whether
    it exists and builds a usable model is checked when 03 builds it: helpers.model.own_model.)"""
    if checked.architecture == "file" and not checked.model_file:
        return ("architecture 'file' needs the model_file parameter: the path of a .py file "
                f"whose function {checked.model_function}(input_shape, num_classes) returns a "
                "keras.Model, e.g. params/models/residual.py")
    if checked.model_file and checked.architecture != "file":
        return (f"model_file is given but architecture is {checked.architecture!r}: set "
                "architecture: file to build the model it returns")
    if checked.model_file and not checked.model_file.endswith(".py"):
        return (f"model_file {checked.model_file!r} is not a Python file: it must name a .py "
                "file")
    return None


def comparison_problems(checked: Any) -> list[str]:
    """Each comparison's overrides checked by this schema, merged with the run's own values."""
    comparisons = checked.comparisons or []
    names = [comparison.name for comparison in comparisons]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        return [f"comparisons: the name {repeated[0]!r} is used twice; each variant needs its "
                "own name"]
    own = checked.model_dump(include=checked.model_fields_set,
                             exclude={"comparisons", "questions"})
    for comparison in comparisons:
        label = f"comparison {comparison.name!r}"
        for name in comparison.set:
            if name in (*RUNNER_PARAMETERS, *RUNNER_ONLY_PARAMETERS):
                return [f"{label}: parameter {name!r} cannot be set by a comparison"]
            if name not in type(checked).model_fields:
                return [f"{label}: unknown parameter {name!r}. Valid parameters: "
                        f"{', '.join(type(checked).model_fields)}"]
        try:
            type(checked).model_validate({**own, **comparison.set})
        except ValidationError as error:
            problems = problems_text(error.errors(), tuple(type(checked).model_fields),
                                     RUNNER_PARAMETERS)
            return [f"{label}: {problems}"]
    return []


def question_problems(checked: Any) -> list[str]:
    """A question answered by a variant the params file does not declare (checked where the
    comparisons are known: the runner; a notebook's own check sees no comparisons)."""
    if "comparisons" not in checked.model_fields_set:
        return []
    declared = {comparison.name for comparison in checked.comparisons or []}
    for question in checked.questions or []:
        for name in question.answered_by if isinstance(question, Question) else []:
            if name not in declared:
                return [f"questions: {question.ask!r} is answered_by {name!r}, which is not a "
                        f"comparison's name ({', '.join(sorted(declared)) or 'none declared'})"]
    return []
