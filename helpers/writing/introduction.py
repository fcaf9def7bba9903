"""The report's opening: the brief's question, the data, the network, and how the answer
will be tested, written from the run's records and the parameters it was given.

The settings table that follows it holds every detail; this is the paragraph a reader needs
first. Where the run departs from its brief, the departures are listed here, in the params
file's words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from helpers import catalog, wording
from helpers.writing.observations import dataset_title
from helpers.writing.report_settings import RunRecords


def question_texts(questions: Sequence[Any] | None) -> list[str]:
    """The questions' words, whether given as text or as {ask, answered_by}."""
    return [question if isinstance(question, str) else question["ask"]
            if isinstance(question, Mapping) else question.ask
            for question in questions or []]


def default_question(records: RunRecords) -> str:
    """The question a run answers when its params file states none."""
    subject = catalog.recognised_dataset(records.dataset.name,
                                         records.dataset.class_names).subject
    return (f"How well does this network classify {dataset_title(records.dataset.name)} "
            f"{subject.plural} it has never seen?")


def how_tested(records: RunRecords, comparison_networks: int, seeds: int) -> str:
    """How the answer is measured: one test set used once, choices on validation, seeds."""
    split = records.preprocess
    text = (f"The model is trained on {split.train_images:,} images; the epoch whose weights "
            f"are kept is chosen on {split.validation_images:,} validation images; the "
            f"{split.test_images:,} test images are used once, at the end, for the figures "
            "reported.")
    if comparison_networks > 1:
        text += (f" To compare, each of the {comparison_networks} networks (this run's and "
                 f"{wording.plural(comparison_networks - 1, 'variant')}) is trained with "
                 f"{wording.plural(seeds, 'seed')} on the same images and split, and a "
                 "difference is called real only when it is larger than the spread over the "
                 "seeds can explain (08 states the rule).")
    else:
        text += (" It is one training run with one seed, so it measures this network, not "
                 "the spread between runs.")
    return text


def introduction(records: RunRecords, comparison_networks: int = 1, seeds: int = 1) -> str:
    """The report's opening paragraphs, as markdown."""
    questions = question_texts(records.given.get("questions")) or [default_question(records)]
    lines = ["## Introduction", ""]
    lines += (["**The question.** " + questions[0]] if len(questions) == 1 else
              ["**The questions.**", "", *(f"{number}. {text}" for number, text
                                           in enumerate(questions, start=1))])
    kind = catalog.network_of(records.model.architecture)
    network = kind.describe(kind.effective(records.model.architecture))
    dataset = records.dataset
    lines += ["", f"**The data.** {dataset_title(dataset.name)}: {len(dataset.class_names)} "
              f"classes of {dataset.image_shape[0]}×{dataset.image_shape[1]} images.",
              "", f"**The network.** {network[0].upper()}{network[1:]}.", "",
              f"**How it is tested.** {how_tested(records, comparison_networks, seeds)}"]
    departures = records.given.get("departures") or []
    if departures:
        lines += ["", "**Where this run departs from the brief.**", "",
                  *(f"- {departure}" for departure in departures)]
    return "\n".join(lines)
