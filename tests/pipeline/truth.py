"""Whether every sentence a run's report shows is true of that run.

`check_run` reads a run directory: the text a reader sees in its executed notebooks (markdown
cells, and the markdown, plain-text and printed outputs of code cells) and the run's records
(model.keras or 03's model summary, dataset.json, preprocess.json, training.json,
history.csv). Each rule takes one sentence and the run's facts and says why the sentence is
false, or None. The rules catch the claims the report's text makes about its own run: a layer
the network lacks, a shape it does not have, another dataset's classes or name, a learning
rate, schedule, epoch count, split or seed other than the run's, a notebook count other than
the notebooks', an optimizer other than training.json's (in prose and in the training
listing), a reading of the curves the history does not bear out (the best epoch, the epoch
whose weights are kept, a loss or accuracy quoted at an epoch, "no sign of overfitting",
"fell together"), an activation the model does not use, an explanation of a layer kind the
model lacks ("a convolution shares its few weights" in an MLP's report), a model left at
chance read as converged or as making look-alike or confident mistakes, "one in 1", and
matplotlib's clipping warning in the hand-in.
Teaching text that explains a schedule or another dataset without claiming it for this run,
and a layer kind only under a condition or as a suggestion, passes. test_truthful_text.py
runs the rules on fresh runs and on made-up sentences.
"""

from __future__ import annotations

import csv
import json
import math
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np

HIDDEN_TAGS = frozenset({"parameters", "injected-parameters", "report-hide"})
TEXT_OUTPUTS = ("text/markdown", "text/plain")

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")
DIGIT_CLASSES = tuple(str(digit) for digit in range(10))


@dataclass(frozen=True)
class Family:
    """A built-in dataset: its name, how prose names it, and the words for its classes."""

    name: str
    title: str  # a regular expression
    words: tuple[str, ...]  # singular; a plural "s" or "es" is matched too
    classes: tuple[str, ...]


FAMILIES = (
    Family("Fashion-MNIST", r"Fashion-MNIST",
           ("T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
            "bag", "ankle boot", "garment", "clothing", "clothes"), FASHION_CLASSES),
    Family("MNIST", r"(?<![-\w])MNIST", ("digit", "handwritten"), DIGIT_CLASSES),
    Family("CIFAR-10", r"CIFAR-10", CIFAR10_CLASSES, CIFAR10_CLASSES),
)
DATASET_KEYS = re.compile(r"`(?:fashion_mnist|mnist|mnist_5k|cifar10)`")

# What names a layer kind in prose or code; the keys are the kinds `Network.kinds` holds.
LAYER_WORDS = {
    "batchnorm": r"batch[ -]?norm(?:alization)?\b|BatchNormalization",
    "dropout": r"\bdropout\b|\bDropout\(",
    "l2": r"\bL2\b|kernel_regularizer|weight decay",
    "conv": r"\bCNN\b|\bconvolutional (?:neural )?network|\bconvolutions?\b|\bConv2D\b",
    "pool": r"\bpooling\b|\bMaxPooling2D\b",
}
# Phrasings that claim a layer kind for this run's network rather than explain it.
LAYER_CLAIMS = re.compile(
    r"\bhere\b|\bthis (?:network|model|run)\b|\bthe (?:network|model) above\b"
    r"|\b(?:sits?|placed|comes?) (?:after|before|between)\b|\b(?:is|are) active\b"
    r"|\balready do\b|\bbuilds? the\b|\btrains? the\b|\bthe (?:CNN|convolutional neural network)\b"
    r"|\badds non-trainable\b|\bits (?:dropout|batch normalization|convolutions?|pooling)\b")
PRONOUN_START = re.compile(r"^(?:It|Its|They|Their)\b")
BOLD_START = re.compile(r"^\*\*([^*]+)\*\*")
# Sentences that suggest, compare or quote other runs: their numbers are not this run's.
ELSEWHERE = re.compile(r"\b(?:lower|higher|smaller|larger|instead|try|trying|sweep|sweeps|"
                       r"than|compared?|raise|reduce|e\.g\.|such as|would|could|might)\b")

NUMBER = r"\d+(?:\.\d+)?(?:e-?\d+)?"
NOT_SHARE = r"(?!\d|\.\d|%)"  # "the rate below 10% of its initial 0.003": 10% is a share
RATE_AFTER = re.compile(rf"(?:learning|starting|initial) rate\b[^.!?\d]{{0,30}}?({NUMBER})"
                        rf"{NOT_SHARE}|\brate of ({NUMBER}){NOT_SHARE}"
                        rf"|\brate\b[^.!?\d]{{0,20}}?\bfrom \**({NUMBER}){NOT_SHARE}")
RATE_BEFORE = re.compile(rf"({NUMBER})[*`\s]*(?:is (?:its|the|a) (?:\w+ ){{0,2}})?"
                         r"(?:learning|starting|initial) rate\b")
EPOCH_COUNTS = re.compile(
    r"\b(?:trained|ran|all|at most|for|planned|over|after) (?:the )?(?:same )?(\d+) "
    r"(?:planned )?epochs\b|\bepoch \**\d+ of (\d+)\b|\bepoch\s+\d+/(\d+)\b")
PRODUCT3 = re.compile(r"\b(\d+)\s?[·×x*]\s?(\d+)\s?[·×x*]\s?(\d+)\b")
SQUARE = re.compile(r"\b(\d+)\s?[×x]\s?(\d+)\b(?!\s?[·×x*]\s?\d)")
IMAGE_WORDS = re.compile(r"\)?\s(?:(?:grayscale|greyscale|colou?r|RGB|raw)\s)*"
                         r"(?:images?|photos?|pictures?|pixels|inputs?)\b")
FLATTEN_CONTEXT = re.compile(r"flatten|\bdense\b|\binputs\b|feature maps|\bvector\b", re.I)
NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}


@dataclass(frozen=True)
class Network:
    """What the built model has: its layer kinds and the length of its flattened vector."""

    kinds: frozenset[str]
    flatten_size: int | None
    # The hidden layers' activations ("relu", "tanh"...; the output's softmax and "linear" left
    # out); None: not checked.
    activations: frozenset[str] | None = None


@dataclass(frozen=True)
class History:
    """history.csv: one value per epoch run for each of the four curves."""

    epoch: tuple[int, ...]
    loss: tuple[float, ...]
    accuracy: tuple[float, ...]
    val_loss: tuple[float, ...]
    val_accuracy: tuple[float, ...]

    def column(self, name: str) -> tuple[float, ...]:
        """One curve by its history.csv name: 'loss', 'val_accuracy', ..."""
        return getattr(self, name)

    @property
    def best_epochs(self) -> frozenset[int]:
        """The epochs with the lowest validation loss (more than one only on a tie)."""
        lowest = min(self.val_loss)
        return frozenset(epoch for epoch, value in zip(self.epoch, self.val_loss, strict=True)
                         if value == lowest)

    @property
    def best_accuracy_epochs(self) -> frozenset[int]:
        """The epochs with the highest validation accuracy."""
        highest = max(self.val_accuracy)
        return frozenset(epoch for epoch, value in zip(self.epoch, self.val_accuracy,
                                                       strict=True) if value == highest)


@dataclass(frozen=True)
class RunFacts:
    """The records a report's sentences are checked against."""

    network: Network
    class_names: tuple[str, ...]
    image_shape: tuple[int, ...]
    source: str
    val_fraction: float
    seeds: frozenset[int]
    learning_rate: float
    epochs: frozenset[int]
    notebooks: int
    lr_schedule: str | None = None  # training.json's "cosine", "step", ...; None: unchecked
    history: History | None = None  # None: the curve sentences are not checked
    confusion: tuple[tuple[int, ...], ...] | None = None  # metrics.json's; None: unchecked
    confident_share: float | None = None  # test predictions at >= CONFIDENT; None: unchecked
    optimizer: str | None = None  # training.json's "adam", "sgd", ...; None: unchecked
    momentum: float | None = None  # the optimizer's momentum; None: unchecked
    monitor: str = "val_loss"  # what early stopping and the best checkpoint watched
    restore_best_weights: bool = True  # False: model.keras has the last epoch's weights

    @property
    def kept_epochs(self) -> frozenset[int]:
        """The epochs whose weights the saved model can have (one, but for a tie)."""
        if self.history is None:
            return frozenset()
        if not self.restore_best_weights:
            return frozenset({self.history.epoch[-1]})
        return (self.history.best_accuracy_epochs if self.monitor == "val_accuracy"
                else self.history.best_epochs)


@dataclass(frozen=True)
class Finding:
    """One sentence that is not true of the run, where it is, and why."""

    notebook: str
    sentence: str
    why: str

    def __str__(self) -> str:
        return f"{self.notebook}: {self.sentence!r}: {self.why}"


def _kinds_of(class_name: str, config: dict) -> set[str]:
    """The layer kinds one Keras layer counts as (Conv2D with a regularizer is conv and l2)."""
    kinds = {"Conv2D": {"conv"}, "Conv1D": {"conv"}, "SeparableConv2D": {"conv"},
             "DepthwiseConv2D": {"conv"}, "MaxPooling2D": {"pool"},
             "AveragePooling2D": {"pool"}, "GlobalAveragePooling2D": {"pool"},
             "GlobalMaxPooling2D": {"pool"}, "BatchNormalization": {"batchnorm"},
             "Dropout": {"dropout"}, "SpatialDropout2D": {"dropout"},
             "Flatten": {"flatten"}, "Dense": {"dense"}}.get(class_name, set())
    return kinds | ({"l2"} if config.get("kernel_regularizer") else set())


def _layer_configs(config: dict) -> list[dict]:
    """Every layer of a saved model's config.json, nested models' layers included."""
    layers = []
    for layer in config.get("config", {}).get("layers", []):
        layers.append(layer)
        layers += _layer_configs(layer) if "layers" in layer.get("config", {}) else []
    return layers


def network_from_keras_file(path: Path) -> Network:
    """A saved .keras model's layers, read from its zipped config.json (no TensorFlow)."""
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    kinds: set[str] = set()
    flatten_size = None
    activations = set()
    for layer in _layer_configs(config):
        kinds |= _kinds_of(layer["class_name"], layer.get("config", {}))
        shape = (layer.get("build_config") or {}).get("input_shape")
        if layer["class_name"] == "Flatten" and shape and flatten_size is None:
            flatten_size = math.prod(size for size in shape[1:] if size)
        activation = layer.get("config", {}).get("activation")
        if layer["class_name"] in ("Conv2D", "Dense", "Activation") and activation:
            activations.add(str(activation.get("config", {}).get("name", activation)
                                if isinstance(activation, dict) else activation).lower())
    return Network(frozenset(kinds), flatten_size,
                   frozenset(activations - NOT_HIDDEN_ACTIVATIONS) if activations else None)


NOT_HIDDEN_ACTIVATIONS = frozenset({"softmax", "linear"})
SUMMARY_ROW = re.compile(r"\((\w+)\)\s*│\s*\(None, ([\d, ]+)\)")


def network_from_summary(notebook: nbformat.NotebookNode) -> Network:
    """The layers 03_build_model printed (its Keras summary and code), for runs whose
    model.keras was not kept, such as the committed references."""
    printed = "\n".join(text for text, _ in visible_texts(notebook, hidden=frozenset()))
    kinds: set[str] = set()
    flatten_size = None
    for class_name, shape in SUMMARY_ROW.findall(printed):
        kinds |= _kinds_of(class_name, {})
        if class_name == "Flatten" and flatten_size is None:
            flatten_size = int(shape.strip(" ,"))
    if "kernel_regularizer=" in printed:
        kinds.add("l2")
    # The Keras code 03 prints: activation="tanh" in a layer, or layers.Activation("relu").
    activations = {name.lower() for pair in re.findall(
        r'activation="(\w+)"|Activation\("(\w+)"\)', printed) for name in pair if name}
    return Network(frozenset(kinds), flatten_size,
                   frozenset(activations - NOT_HIDDEN_ACTIVATIONS) if activations else None)


def _output_texts(cell: nbformat.NotebookNode) -> list[tuple[str, bool]]:
    """A code cell's displayed markdown or plain text, and its printed text; True if printed."""
    texts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            texts.append((output.get("text", ""), True))
        data = output.get("data", {})
        if "text/markdown" in data:
            texts.append((data["text/markdown"], False))
        elif "text/plain" in data and "image/png" not in data:
            texts.append((data["text/plain"], True))
    return texts


def visible_texts(notebook: nbformat.NotebookNode,
                  hidden: frozenset[str] = HIDDEN_TAGS) -> list[tuple[str, bool]]:
    """Everything a reader of the notebook sees as text, cell by cell; True if printed."""
    texts = []
    for cell in notebook.cells:
        if hidden & set(cell.metadata.get("tags", [])):
            continue
        if cell.cell_type == "markdown":
            texts.append((cell.source, False))
        elif cell.cell_type == "code":
            texts += _output_texts(cell)
    return texts


@dataclass(frozen=True)
class Sentence:
    """A sentence, and the layer kind its bullet is about (for "It ..." sentences)."""

    text: str
    subject: str | None = None


def _blocks(text: str, printed: bool = False) -> list[str]:
    """Paragraphs, bullets and table rows (or printed lines), each joined onto one line."""
    if printed:
        return [line.strip() for line in text.splitlines() if line.strip()]
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # code listings are code, not claims
    blocks: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if (not stripped or re.match(r"^(?:[-*] |\d+\. |\||#)", stripped)) and current:
            blocks.append(" ".join(current))
            current = []
        if stripped:
            current.append(stripped)
    return blocks + ([" ".join(current)] if current else [])


def sentences(text: str, printed: bool = False) -> list[Sentence]:
    """A text's sentences; those of a bullet that opens on a bold layer kind know it."""
    found = []
    for block in _blocks(text, printed):
        block = re.sub(r"^(?:[-*] |\d+\. )", "", block)
        bold = BOLD_START.match(block)
        subject = next((kind for kind, words in LAYER_WORDS.items()
                        if bold and re.search(words, bold.group(1), re.I)), None)
        for part in re.split(r"(?<=[.!?])\s+(?=[*`(]*[A-Z0-9])", block):
            if part.strip():
                found.append(Sentence(part.strip(), subject))
    return found


def _layer_kinds_claimed(sentence: Sentence) -> set[str]:
    """The layer kinds a sentence claims this run's network has."""
    if not LAYER_CLAIMS.search(sentence.text):
        return set()
    # "**L2 regularization** (when `l2_weight` > 0) adds ...": its own name is conditional
    text = re.sub(r"^\*\*[^*]+\*\* \((?:when|if) [^)]*\)", "", sentence.text)
    kinds = {kind for kind, words in LAYER_WORDS.items()
             if re.search(words, text, 0 if kind in ("conv", "l2") else re.I)}
    if sentence.subject and PRONOUN_START.match(sentence.text):
        kinds.add(sentence.subject)
    return kinds


LAYER_NAMES = {"batchnorm": "batch normalization", "dropout": "dropout",
               "l2": "an L2 kernel regularizer", "conv": "convolutions", "pool": "pooling"}


def missing_layer(sentence: Sentence, facts: RunFacts) -> str | None:
    """A layer kind claimed for this network that the built model does not have."""
    missing = sorted(_layer_kinds_claimed(sentence) - facts.network.kinds)
    if missing:
        names = " or ".join(LAYER_NAMES[kind] for kind in missing)
        return f"claims {names}, which the built model does not have"
    return None


def wrong_shape(sentence: Sentence, facts: RunFacts) -> str | None:
    """A flatten size or image size that is not the model's or the data's."""
    text = sentence.text
    about_images = not _names_a_dataset(text)  # "CIFAR-10 is 32×32×3" is not about this run
    for match in PRODUCT3.finditer(text):
        shape = tuple(int(group) for group in match.groups())
        if shape == facts.image_shape or math.prod(shape) == facts.network.flatten_size:
            continue
        if FLATTEN_CONTEXT.search(text) and facts.network.flatten_size is not None:
            return (f"{match.group(0)} = {math.prod(shape):,} inputs, but the model flattens "
                    f"{facts.network.flatten_size:,} values")
        if IMAGE_WORDS.match(text, match.end()) and about_images:
            return f"{match.group(0)} is not the images' shape {_shape(facts.image_shape)}"
    for match in SQUARE.finditer(PRODUCT3.sub("", text)):
        size = (int(match.group(1)), int(match.group(2)))
        if size[0] == size[1] >= 8 and IMAGE_WORDS.match(match.string, match.end()) \
                and about_images and size != facts.image_shape[:2]:
            return f"{match.group(0)} images, but this run's are {_shape(facts.image_shape)}"
    return None


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(size) for size in shape)


def _names_a_dataset(text: str) -> bool:
    """Whether a sentence attributes what it says to a named dataset or a dataset option."""
    return bool(DATASET_KEYS.search(text)) or any(
        re.search(family.title, text) for family in FAMILIES)


def _normalized(names: tuple[str, ...]) -> set[str]:
    return {name.lower().replace("/", "-") for name in names}


def run_family(class_names: tuple[str, ...]) -> Family | None:
    """The built-in dataset whose classes a run's are (a CSV or folder copy of it included)."""
    return next((family for family in FAMILIES
                 if _normalized(class_names) == _normalized(family.classes)), None)


# Phrasings that say which data this run saw ("CIFAR-10 is 32×32×3" does not).
DATA_CLAIMS = re.compile(r"\bthis (?:run|model|notebook|report)\b|\bhere\b|\bour\b"
                         r"|\btrain(?:s|ed)? on\b|\bthe (?:data|dataset|images) (?:is|are)\b")
HEDGES = re.compile(r"\bby default\b|\blike\b|\bfor example\b")


def other_dataset(sentence: Sentence, facts: RunFacts) -> str | None:
    """Another dataset's classes, or its name, said of this run's data."""
    text = sentence.text
    titles = [family for family in FAMILIES if re.search(family.title, text)]
    if DATASET_KEYS.search(text) or len(titles) > 1:
        return None  # a list or comparison of datasets, not a claim about this one
    own = run_family(facts.class_names)
    own_words = _normalized(facts.class_names)
    for family in FAMILIES:
        if family == own or family.classes == DIGIT_CLASSES and _all_digits(facts.class_names):
            continue
        for word in family.words:
            match = re.search(rf"\b{re.escape(word)}(?:s|es)?\b(?! with\b)", text, re.I)
            if match and word.lower() not in own_words:
                return (f"{match.group(0)!r} belongs to {family.name}; this run's classes "
                        f"are {', '.join(facts.class_names)}")
        if titles == [family] and DATA_CLAIMS.search(text) and not ELSEWHERE.search(text) \
                and not HEDGES.search(text):
            return f"names {family.name}, which is not this run's data"
    return None


def _all_digits(class_names: tuple[str, ...]) -> bool:
    return all(name.isdigit() for name in class_names)


def _number(text: str) -> float:
    return float(text)


def wrong_learning_rate(sentence: Sentence, facts: RunFacts) -> str | None:
    """A learning rate quoted for this run that is not training.json's."""
    if ELSEWHERE.search(sentence.text):
        return None
    quoted = [group for match in [*RATE_AFTER.finditer(sentence.text),
                                  *RATE_BEFORE.finditer(sentence.text)]
              for group in match.groups() if group]
    for value in quoted:
        if not math.isclose(_number(value), facts.learning_rate, rel_tol=1e-6):
            return f"learning rate {value}, but this run's is {facts.learning_rate:g}"
    return None


def wrong_epochs(sentence: Sentence, facts: RunFacts) -> str | None:
    """An epoch count claimed for this run that is neither planned nor run."""
    if ELSEWHERE.search(sentence.text):
        return None
    # "had not improved on epoch 5's 0.1330 for 4 epochs" counts a wait, not the run's epochs
    text = re.sub(r"\bnot improved\b(?:[^.;:]|\.\d)*", "", sentence.text)
    for match in EPOCH_COUNTS.finditer(text):
        count = int(next(group for group in match.groups() if group))
        if count not in facts.epochs:
            return (f"{count} epochs, but this run planned or ran "
                    f"{' or '.join(map(str, sorted(facts.epochs)))}")
    return None


DETERMINERS = frozenset({"the", "a", "an", "its", "their", "this", "these", "those", "each"})


def _source_names(source: str) -> set[str]:
    """The names a data source can be called by: its paths, their parts, the dataset name."""
    words = source.split()
    paths = [word.strip("(),;") for word in words
             if "/" in word and not re.fullmatch(r"[\d./]+", word.strip("(),;"))]
    return {part for path in paths for part in [path, *path.split("/")] if part} | {words[-1]}


def wrong_split(sentence: Sentence, facts: RunFacts) -> str | None:
    """A data source, validation share or seed that is not the run's."""
    text = sentence.text
    for match in re.finditer(r"\bread from ([^\s,;()]+)", text):
        name = match.group(1).rstrip(".:")
        if name.lower() in DETERMINERS:
            continue  # "read from the files ...": prose, not a data source
        if name not in _source_names(facts.source):
            return f"'read from {name}' names no file of the data ({facts.source})"
        if re.search(r"(?:^|[/_.-])test(?:$|[/_.-])", name) \
                and re.search(r"\btrain", facts.source):
            return f"'read from {name}': the training images come from the training file"
    for match in re.finditer(r"\bvalidation: (\d+(?:\.\d+)?)%", text):
        if abs(float(match.group(1)) - 100 * facts.val_fraction) > 0.5:
            return (f"validation share {match.group(1)}%, but val_fraction is "
                    f"{facts.val_fraction:g}")
    for match in re.finditer(r"\bseed (\d+)\b", text):
        if not ELSEWHERE.search(text) and int(match.group(1)) not in facts.seeds:
            return f"seed {match.group(1)}, but this run's is " \
                   f"{' or '.join(map(str, sorted(facts.seeds)))}"
    return None


def wrong_notebook_count(sentence: Sentence, facts: RunFacts) -> str | None:
    """A count or range of notebooks that does not end at the last notebook."""
    text = sentence.text
    if "notebook" not in text.lower():
        return None
    for match in re.finditer(r"\b01 to (\d\d)\b", text):
        if int(match.group(1)) != facts.notebooks:
            return f"'01 to {match.group(1)}', but there are {facts.notebooks} notebooks"
    for match in re.finditer(r"\b(\w+) notebooks\b", text):
        word = match.group(1).lower()
        count = NUMBER_WORDS.get(word, int(word) if word.isdigit() else None)
        if count is not None and count != facts.notebooks:
            return f"{match.group(0)!r}, but there are {facts.notebooks}"
    return None


# A sentence that suggests a schedule rather than states this run's.
SUGGESTS = re.compile(r"\b(?:try|trying|switch(?:ing|ed)? to|instead|would|could|might|"
                      r"consider|compared?|sweeps?)\b", re.I)
# A statement made only for one setting: "(when `lr_schedule` is cosine)".
CONDITIONAL = re.compile(r"\b(?:when|if)\b[^.]*\blr_schedule\b")
# Phrasings that state this run's schedule, whatever else the sentence says.
COSINE_CLAIMS = re.compile(
    r"\bcosine schedule\W*\s+lowers the (?:learning )?rate\b[^.]*?"
    r"(?:\bover the (?:\d+ )?planned\b|\bfrom \**\d)"  # this run's rate and plan, not teaching
    r"|\brate\b(?:[^.;()]|\.\d){0,20}\(cosine\)", re.I)
# "the cosine schedule had brought the rate down": this run's, unless it is a suggestion.
COSINE_MENTION = re.compile(r"\bthe cosine (?:learning[- ]rate )?(?:schedule|decay)\b"
                            r"|\bthis run(?:'s)?\b[^.]*\b(?:cosine|learning rate reaching zero)\b",
                            re.I)
CONSTANT_CLAIMS = re.compile(
    r"\bstays at\b[^.]*\bfor all\b[^.]*\bepochs\b|\(no schedule\)"
    r"|\bthis constant learning rate\b|\brate\b(?:[^.;()]|\.\d){0,20}\(constant\)", re.I)


# The other schedules, named as this run's: "A **step decay** multiplies the rate ...", "the
# plateau schedule had brought the rate ...", "(ReduceLROnPlateau", "# Exponential decay: ...".
SCHEDULE_MENTIONS = {
    "step": re.compile(r"\bstep decay\b|\bthe step schedule\b", re.I),
    "exponential": re.compile(r"\bexponential decay\b|\bthe exponential schedule\b", re.I),
    "plateau": re.compile(r"\bplateau schedule\b|\bReduceLROnPlateau\b", re.I),
}


def wrong_schedule(sentence: Sentence, facts: RunFacts) -> str | None:
    """A schedule claimed for this run that is not training.json's lr_schedule."""
    text = sentence.text
    if facts.lr_schedule is None or CONDITIONAL.search(text):
        return None
    suggestion = SUGGESTS.search(text)
    if facts.lr_schedule != "cosine" and (
            COSINE_CLAIMS.search(text) or COSINE_MENTION.search(text) and not suggestion):
        return f"claims a cosine schedule, but this run's lr_schedule is {facts.lr_schedule!r}"
    if facts.lr_schedule != "constant" and CONSTANT_CLAIMS.search(text):
        return f"claims a constant rate, but this run's lr_schedule is {facts.lr_schedule!r}"
    for schedule, mention in SCHEDULE_MENTIONS.items():
        if schedule != facts.lr_schedule and mention.search(text) and not suggestion:
            return (f"names the {schedule} schedule, but this run's lr_schedule is "
                    f"{facts.lr_schedule!r}")
    return None


# How prose names each optimizer; "Adam" is not the start of "AdamW".
OPTIMIZER_WORDS = {
    "adam": re.compile(r"\bAdam(?!W)\b"),
    "adamw": re.compile(r"\bAdamW\b"),
    "sgd": re.compile(r"\bSGD\b|\bstochastic gradient descent\b", re.I),
    "rmsprop": re.compile(r"\bRMSprop\b", re.I),
}
# Sentences that compare optimizers or suggest one rather than state this run's.
OPTIMIZER_ELSEWHERE = re.compile(r"\b(?:than|instead|try|trying|would|could|might|compared?|"
                                 r"versus|vs\.?|variants?|sweeps?|switch(?:ing)? to)\b", re.I)
MOMENTUM_CLAIMS = re.compile(rf"\*\*(?:Nesterov )?[Mm]omentum ({NUMBER})\*\*"
                             rf"|\bwith (?:Nesterov )?momentum ({NUMBER})")


def wrong_optimizer(sentence: Sentence, facts: RunFacts) -> str | None:
    """An optimizer, or a momentum, claimed for this run that training.json does not record."""
    text = sentence.text
    if facts.optimizer is None or OPTIMIZER_ELSEWHERE.search(text):
        return None
    for optimizer, words in OPTIMIZER_WORDS.items():
        named = words.search(text)
        if optimizer != facts.optimizer and named:
            return (f"names {named.group(0)}, but this run's optimizer is "
                    f"{facts.optimizer!r} (training.json)")
    for match in MOMENTUM_CLAIMS.finditer(text):
        value = float(next(group for group in match.groups() if group))
        if facts.momentum is not None and not math.isclose(value, facts.momentum):
            return f"momentum {value:g}, but this run's is {facts.momentum:g}"
    return None


# The training listing (a code block): the optimizer and schedule classes it builds.
LISTED_OPTIMIZER = re.compile(r"\bkeras\.optimizers\.(Adam|AdamW|SGD|RMSprop)\(")
LISTED_SCHEDULES = {"CosineDecay": ("cosine",), "ExponentialDecay": ("step", "exponential"),
                    "ReduceLROnPlateau": ("plateau",)}
KERAS_NAMES = {"Adam": "adam", "AdamW": "adamw", "SGD": "sgd", "RMSprop": "rmsprop"}


def listing_findings(text: str, facts: RunFacts, notebook: str) -> list[Finding]:
    """The code listings of a text that build another optimizer or schedule than the run's."""
    findings = []
    for block in re.findall(r"```.*?```", text, flags=re.S):
        for match in LISTED_OPTIMIZER.finditer(block):
            if facts.optimizer is not None and KERAS_NAMES[match.group(1)] != facts.optimizer:
                findings.append(Finding(notebook, match.group(0), (
                    f"the listing builds {match.group(1)}, but this run's optimizer is "
                    f"{facts.optimizer!r}")))
        for name, schedules in LISTED_SCHEDULES.items():
            if facts.lr_schedule is not None and name in block \
                    and facts.lr_schedule not in schedules:
                findings.append(Finding(notebook, name, (
                    f"the listing builds {name}, but this run's lr_schedule is "
                    f"{facts.lr_schedule!r}")))
    return findings


DECIMAL = r"\d+\.\d+"
# Sentences that quote other runs' curves: their numbers are not this run's history.
OTHER_RUNS = re.compile(r"\b(?:sweeps?|other runs?|another run|leaderboard|seeds|"
                        r"compared?|instead|e\.g\.)\b", re.I)
# The quantities a sentence can name; the nearest one before a number says what it is.
QUANTITY = re.compile(r"\b(?:(training|train|validation|val|test)[ _])?(loss|accuracy)\b"
                      r"|\blearning rate\b|\bF1\b|\bprecision\b|\brecall\b", re.I)
ANY_CURVE = ("loss", "accuracy", "val_loss", "val_accuracy")
# "0.133 at epoch 5", "0.1330 (epoch 5", "epoch 5's 0.1330"
VALUE_AT_EPOCH = re.compile(rf"(?<![\d.])(?P<value>{DECIMAL})\**\s+(?:at|\()\s*epoch "
                            rf"(?P<epoch>\d+)\b|\bepoch (?P<epoch2>\d+)'s (?P<value2>{DECIMAL})")
# "At epoch 10 training accuracy was 0.9917 against 0.9725 on validation"
GAP_AT_EPOCH = re.compile(rf"\b[Aa]t epoch (\d+),? (training|validation) (loss|accuracy) was "
                          rf"({DECIMAL})(?: against ({DECIMAL}) on validation)?")
ARROWS = re.compile(rf"(?<![\d.]){DECIMAL}(?:\s*→\s*{DECIMAL})+")
BEST_CLAIMS = (
    re.compile(rf"\blowest at \**epoch (?P<epoch>\d+) of (?P<run>\d+)\**"
               rf"(?:\s*\((?P<loss>{DECIMAL}), validation accuracy (?P<accuracy>{DECIMAL})\))?"),
    re.compile(r"\bbest validation loss at epoch (?P<epoch>\d+)\b"),
    re.compile(r"\bthe best epoch was the last \((?P<epoch>\d+)\)"),
    re.compile(r"\b(?:began to overfit|overfitting that began|[Vv]alidation loss rose) after "
               r"epoch (?P<epoch>\d+)\b"),
    re.compile(r"\bvalidation loss (?:did|had) not improve(?:d)? on epoch (?P<epoch>\d+)\b"),
)
# Claims about the epoch whose weights the saved model has, and about the best accuracy.
KEPT_CLAIMS = re.compile(r"\b(?:saved model has|keeps|saved weights are) epoch (\d+)'s\b"
                         r"|\blast epoch's weights \(epoch (\d+)\)")
ACCURACY_BEST_CLAIMS = re.compile(r"\bbest validation accuracy at epoch (\d+)\b"
                                  r"|\bvalidation accuracy (?:did|had) not improve(?:d)? on "
                                  r"epoch (\d+)\b")
LAST_BEST = re.compile(r"\bthe best epoch was the last \((\d+)\)")
OVERFIT_FROM = re.compile(r"\boverfit from epoch (\d+) on\b")
NO_SIGN = re.compile(r"\bno sign of overfitting\b", re.I)
NOT_OVERFITTING = re.compile(r"\bdid not overfit\b"
                             r"|\b(?:the|this) (?:model|run|network) (?:is|was) not overfitting\b",
                             re.I)
# Validation loss this far above its lowest at the last epoch is a rise a reader sees.
OVERFIT_RISE = 0.10
# A last-epoch rise of validation loss under this share is within the printed rounding.
VISIBLE_RISE = 0.01


def _matches(printed: str, value: float) -> bool:
    """Whether a number printed with its decimals is the value rounded (a hair of slack)."""
    decimals = len(printed.partition(".")[2])
    return abs(float(printed) - value) <= 0.5 * 10 ** -decimals + 1e-9


def _curves_named_before(text: str, position: int) -> tuple[str, ...]:
    """The history columns the nearest quantity named before a position can be: all four when
    none is named, none when it is not a curve (test accuracy, the learning rate, F1)."""
    named = [match for match in QUANTITY.finditer(text, 0, position)]
    if not named:
        return ANY_CURVE
    split, kind = named[-1].groups()
    if kind is None or (split or "").lower() == "test":
        return ()
    kind = kind.lower()
    if split is None:
        return (kind, f"val_{kind}")
    return (f"val_{kind}",) if split.lower() in ("validation", "val") else (kind,)


def _value_at(history: History, epoch: int, printed: str, columns: tuple[str, ...]) -> str | None:
    """Why a value quoted at an epoch is not that epoch's on any of the columns, or None."""
    if not columns:
        return None
    if epoch not in history.epoch:
        return (f"epoch {epoch}, but this run's history has epochs {history.epoch[0]} to "
                f"{history.epoch[-1]}")
    index = history.epoch.index(epoch)
    if any(_matches(printed, history.column(column)[index]) for column in columns):
        return None
    shown = ", ".join(f"{column} {history.column(column)[index]:.4f}" for column in columns)
    return f"{printed} at epoch {epoch}, but history.csv has {shown} there"


def wrong_curve_value(sentence: Sentence, facts: RunFacts) -> str | None:
    """A loss or accuracy quoted at an epoch, or in an 'a → b' run of values, that is not the
    history's there (within the printed rounding)."""
    history, text = facts.history, sentence.text
    if history is None or OTHER_RUNS.search(text):
        return None
    for match in VALUE_AT_EPOCH.finditer(text):
        printed = match.group("value") or match.group("value2")
        epoch = int(match.group("epoch") or match.group("epoch2"))
        why = _value_at(history, epoch, printed, _curves_named_before(text, match.start()))
        if why:
            return why
    for match in GAP_AT_EPOCH.finditer(text):
        epoch, split, kind, first, validation = match.groups()
        column = f"{'val_' if split == 'validation' else ''}{kind}"
        why = _value_at(history, int(epoch), first, (column,)) or (
            validation and _value_at(history, int(epoch), validation, (f"val_{kind}",)))
        if why:
            return why
    for match in ARROWS.finditer(text):
        columns = _curves_named_before(text, match.start())
        for printed in re.findall(DECIMAL, match.group(0)):
            if columns and not any(_matches(printed, value) for column in columns
                                   for value in history.column(column)):
                return (f"{printed} in {match.group(0)!r} is no epoch's "
                        f"{' or '.join(columns)} in history.csv")
    return None


def wrong_best_epoch(sentence: Sentence, facts: RunFacts) -> str | None:
    """A best epoch, epoch count or best value that is not the history's lowest validation
    loss."""
    history, text = facts.history, sentence.text
    if history is None or OTHER_RUNS.search(text):
        return None
    best = history.best_epochs
    shown = " or ".join(map(str, sorted(best)))
    for pattern in BEST_CLAIMS:
        for match in pattern.finditer(text):
            groups = match.groupdict()
            epoch = int(groups["epoch"])
            if epoch not in best:
                return f"best epoch {epoch}, but validation loss was lowest at epoch {shown}"
            if groups.get("run") and int(groups["run"]) != len(history.epoch):
                return f"'of {groups['run']}', but {len(history.epoch)} epochs ran"
            index = history.epoch.index(epoch)
            for name, column in (("loss", "val_loss"), ("accuracy", "val_accuracy")):
                printed = groups.get(name)
                if printed and not _matches(printed, history.column(column)[index]):
                    return (f"{printed}, but epoch {epoch}'s {column} is "
                            f"{history.column(column)[index]:.4f}")
    for match in OVERFIT_FROM.finditer(text):
        start = int(match.group(1))
        position = history.epoch.index(start) if start in history.epoch else 0
        if position == 0 or history.epoch[position - 1] not in best:
            return (f"overfitting from epoch {start}, but validation loss was lowest at "
                    f"epoch {shown}")
    match = LAST_BEST.search(text)
    if match and int(match.group(1)) != history.epoch[-1]:
        return f"'the best epoch was the last ({match.group(1)})', but the last is " \
               f"{history.epoch[-1]}"
    return _wrong_kept_or_accuracy_epoch(text, facts, history)


def _wrong_kept_or_accuracy_epoch(text: str, facts: RunFacts, history: History) -> str | None:
    """An epoch claimed as the saved model's, or as the best validation accuracy's, that is
    not (the kept epoch follows early_stopping_monitor and restore_best_weights)."""
    for match in KEPT_CLAIMS.finditer(text):
        epoch = int(match.group(1) or match.group(2))
        if epoch not in facts.kept_epochs:
            kept = " or ".join(map(str, sorted(facts.kept_epochs)))
            return (f"the saved model's weights named as epoch {epoch}'s, but they are epoch "
                    f"{kept}'s ({facts.monitor}, restore_best_weights "
                    f"{str(facts.restore_best_weights).lower()})")
        if match.group(2) and facts.restore_best_weights:
            return "the last epoch's weights claimed, but the run restores the best weights"
    for match in ACCURACY_BEST_CLAIMS.finditer(text):
        epoch = int(match.group(1) or match.group(2))
        if epoch not in history.best_accuracy_epochs:
            best = " or ".join(map(str, sorted(history.best_accuracy_epochs)))
            return f"best validation accuracy at epoch {epoch}, but it was highest at {best}"
    return None


def wrong_curve_reading(sentence: Sentence, facts: RunFacts) -> str | None:
    """'No sign of overfitting' after validation loss rose well above its lowest, or 'fell
    together' when it rose in the last epoch."""
    history, text = facts.history, sentence.text
    if history is None or OTHER_RUNS.search(text):
        return None
    lowest, last = min(history.val_loss), history.val_loss[-1]
    best = history.epoch.index(min(history.best_epochs))
    # Any clear rise is a sign of overfitting; "not overfitting" is false only where training
    # loss kept falling meanwhile (a rise of both is instability, not overfitting).
    claim = NO_SIGN.search(text) or (NOT_OVERFITTING.search(text)
                                     and history.loss[-1] < history.loss[best])
    reasons = []
    if claim and last > lowest * (1 + OVERFIT_RISE):
        reasons.append(f"validation loss ended at {last:.4f}, {last / lowest - 1:.0%} above its "
                       f"lowest {lowest:.4f} (epoch {history.epoch[best]})")
    if re.search(r"\bfell together\b", text) and len(history.epoch) > 1 \
            and last > history.val_loss[-2] * (1 + VISIBLE_RISE):
        reasons.append(f"validation loss rose in the last epoch ({history.val_loss[-2]:.4f} → "
                       f"{last:.4f})")
    return "; ".join(reasons) or None

# Activations in prose or code; the keys are the names Keras records.
ACTIVATION_WORDS = {"relu": r"\bReLU\b|\brelu\b", "tanh": r"\btanh\b",
                    "sigmoid": r"\bsigmoid\b", "elu": r"\bELU\b|\belu\b",
                    "gelu": r"\bGELU\b|\bgelu\b", "swish": r"\bswish\b|\bSiLU\b|\bsilu\b"}
# What makes a sentence that names an activation say it is this network's: its definite
# role, or a description of this network's layers with their sizes.
ACTIVATION_CLAIMS = re.compile(
    r"\bis the (?:non-linearity|activation)\b|\bfilters of\b|\b\d+ (?:filters|units|neurons)\b"
    r"|\b(?:conv|dense) \d+\b|\bdense layers? of \d+|\bafter (?:each|every|the|\d+) "
    r"(?:convolution|hidden|dense)")
CONDITIONS = re.compile(r"\((?:when|if)\b|\b(?:when|if) `", re.I)
# Activations named as examples or suggestions, not as this network's.
EXAMPLES = re.compile(r"\b(?:try|trying|instead|e\.g\.|such as|for example|or)\b")
SUGGESTIONS = re.compile(r"\b(?:add|use|try|adding|using|unlike|without|no)\b", re.I)


def wrong_activation(sentence: Sentence, facts: RunFacts) -> str | None:
    """An activation said to be this network's that its built layers do not use."""
    used = facts.network.activations
    text = sentence.text
    if used is None or not (ACTIVATION_CLAIMS.search(text) or LAYER_CLAIMS.search(text)) \
            or EXAMPLES.search(text) or CONDITIONS.search(text):
        return None
    claimed = sorted(name for name, words in ACTIVATION_WORDS.items()
                     if re.search(words, text) and name not in used)
    if claimed:
        return (f"names {' and '.join(claimed)} as this network's activation, but its layers "
                f"use {', '.join(sorted(used)) or 'none'}")
    return None


# A layer kind explaining what it does, in the present tense: teaching about that kind.
LAYER_TEACHING = {
    "conv": r"\b(?:[Aa]|[Ee]ach|[Tt]he) convolution(?:al layer)? (?:shares|slides|responds|"
            r"learns|sees)\b|\*\*Convolutions\*\*[^.]{0,80}?\bslides?\b|\beach filter slides\b",
    "pool": r"\bpooling\b(?:\*\*)?[^.]{0,40}?\b(?:keeps|halves|takes|shrinks)\b",
    "batchnorm": r"\bbatch normalization\b(?:\*\*)?[^.]{0,40}?\b(?:rescales|normalizes|"
                 r"steadies)\b",
    "dropout": r"\bdropout\b(?:\*\*)?[^.]{0,40}?\b(?:sets|drops|zeroes|switches off)\b",
}


def absent_layer_taught(sentence: Sentence, facts: RunFacts) -> str | None:
    """What a layer kind does, explained in a report whose network has no such layer (unless
    under a condition or as a suggestion)."""
    text = sentence.text
    if CONDITIONS.search(text) or SUGGESTIONS.search(text) or ELSEWHERE.search(text):
        return None
    missing = sorted(kind for kind, words in LAYER_TEACHING.items()
                     if kind not in facts.network.kinds and re.search(words, text, re.I))
    if missing:
        names = " or ".join(LAYER_NAMES[kind] for kind in missing)
        return f"explains {names}, which the built model does not have"
    return None


# A loss within this share of ln(classes) (or above it), with an accuracy at most this far
# above 1/classes, is a uniform guess's: the model learned nothing.
UNIFORM_CLOSE, GUESS_MARGIN = 0.05, 0.10


def at_chance(facts: RunFacts) -> str | None:
    """Why the run's kept model is at chance (its lowest validation loss about ln(classes)
    or above, with a guess's accuracy), or None when it learned or there is no history."""
    history, classes = facts.history, len(facts.class_names)
    if history is None or classes < 2:
        return None
    losses = [loss for loss in history.val_loss if not math.isnan(loss)]
    if not losses:
        return "validation loss was never a number"
    index = history.val_loss.index(min(losses))
    loss, accuracy = history.val_loss[index], history.val_accuracy[index]
    guess = 1 / classes + min(GUESS_MARGIN, 0.5 / classes)
    if loss >= (1 - UNIFORM_CLOSE) * math.log(classes) and accuracy <= guess:
        where = "about" if loss <= (1 + UNIFORM_CLOSE) * math.log(classes) else "above"
        return (f"the model is at chance: its lowest validation loss {loss:.4f} is {where} "
                f"ln {classes} = {math.log(classes):.4f} (validation accuracy {accuracy:.4f})")
    return None


CONVERGED = re.compile(r"(?<!not )\b(?:had |has )?converged\b|\blevell?ed off\b", re.I)
DID_NOT_LEARN = re.compile(r"\bdid not learn\b")


def chance_misread(sentence: Sentence, facts: RunFacts) -> str | None:
    """A model at chance read as converged or levelled off; 'did not learn' of one that did."""
    text = sentence.text
    if OTHER_RUNS.search(text) or facts.history is None:
        return None
    chance = at_chance(facts)
    if chance and CONVERGED.search(text):
        return f"{CONVERGED.search(text).group(0)!r}, but {chance}"
    if not chance and DID_NOT_LEARN.search(text):
        return "'did not learn', but the lowest validation loss is well below ln(classes)"
    return None


# A pair "looks alike" when the mistakes between them are more than the true class's mistakes
# would give that class if they fell as the model predicts overall (a model that answers one
# class for everything makes its every mistake there, which shows no look-alike).
LOOK_ALIKE = re.compile(r"\blook[- ]alike\b", re.I)


def unsupported_look_alike(sentence: Sentence, facts: RunFacts) -> str | None:
    """'Classes that look alike' said of this run's mistake where the numbers do not show it."""
    text, names = sentence.text, list(facts.class_names)
    if not LOOK_ALIKE.search(text) or facts.confusion is None:
        return None
    for true_name in names:
        for predicted_name in names:
            if true_name == predicted_name or f"{true_name} taken for {predicted_name}" not in text:
                continue
            chance = at_chance(facts)
            if chance:
                return f"a look-alike pair, but {chance}"
            confusion = np.asarray(facts.confusion, dtype=float)
            true, predicted = names.index(true_name), names.index(predicted_name)
            mistakes = confusion[true].sum() - confusion[true, true]
            column = confusion.sum(axis=0)
            expected = mistakes * column[predicted] / max(column.sum() - column[true], 1)
            if confusion[true, predicted] <= expected:
                return (f"{true_name} taken for {predicted_name} {confusion[true, predicted]:.0f} "
                        f"times is no more than the {expected:.1f} its mistakes would give "
                        f"{predicted_name} by how often it is predicted: nothing looks alike")
    return None


CONFIDENT, OFTEN = 0.9, 0.1  # "often confidently" needs a tenth of the predictions at 0.9
OFTEN_CONFIDENT = re.compile(r"\boften confident(?:ly)?\b", re.I)
NONE_SURE = re.compile(r"\b0 of those mistakes\b[^.]*\bsure and wrong\b")


def unsupported_confidence(sentence: Sentence, facts: RunFacts) -> str | None:
    """Confidence claimed where the test predictions (predictions.npz) do not show it."""
    text = sentence.text
    if NONE_SURE.search(text):
        return "'sure and wrong' of 0 confident mistakes"
    if OFTEN_CONFIDENT.search(text) and facts.confident_share is not None \
            and facts.confident_share < OFTEN:
        return (f"'often confidently', but only {facts.confident_share:.1%} of the test "
                f"predictions reach {CONFIDENT:.0%}")
    return None


ONE_IN = re.compile(r"\bone in ([01])\b")
CLIPPING = re.compile(r"Clipping input data to the valid range for imshow")


def garbled(sentence: Sentence, facts: RunFacts) -> str | None:
    """'one in 1 missed', or matplotlib's warning that it drew RGB images clipped."""
    match = ONE_IN.search(sentence.text)
    if match:
        return f"'one in {match.group(1)}' says nothing: write the share"
    if CLIPPING.search(sentence.text):
        return "matplotlib clipped float RGB images to 0-1 (drawn almost white) and said so here"
    return None


Rule = Callable[[Sentence, RunFacts], "str | None"]
RULES: tuple[Rule, ...] = (missing_layer, wrong_shape, other_dataset, wrong_learning_rate,
                           wrong_schedule, wrong_optimizer, wrong_epochs, wrong_split,
                           wrong_notebook_count,
                           wrong_best_epoch, wrong_curve_value, wrong_curve_reading,
                           wrong_activation, absent_layer_taught, chance_misread,
                           unsupported_look_alike, unsupported_confidence, garbled)


def check_text(text: str, facts: RunFacts, notebook: str = "",
               printed: bool = False) -> list[Finding]:
    """Every sentence of a text (markdown, or printed lines) that a rule finds untrue."""
    findings = [] if printed else listing_findings(text, facts, notebook)
    for sentence in sentences(text, printed):
        for rule in RULES:
            why = rule(sentence, facts)
            if why:
                findings.append(Finding(notebook, sentence.text, why))
    return findings


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def notebook_paths(run_dir: Path) -> list[Path]:
    """A run's executed notebooks in order: 01_load_data.ipynb, 02_..., 08_conclusion.ipynb."""
    return sorted(path for path in run_dir.glob("[0-9][0-9]_*.ipynb"))


def read_history(path: Path) -> History:
    """history.csv's epochs and four curves (extra columns, such as the rate, are left out)."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise ValueError(f"history: {path} has no epochs")
    missing = [name for name in ("epoch", *ANY_CURVE) if name not in rows[0]]
    if missing:
        raise ValueError(f"history: {path} lacks the column(s) {', '.join(missing)}")
    return History(tuple(int(float(row["epoch"])) for row in rows),
                   *(tuple(float(row[name]) for row in rows) for name in ANY_CURVE))


def read_facts(run_dir: Path) -> RunFacts:
    """The run's records as the rules need them."""
    dataset = _read_json(run_dir / "dataset.json")
    preprocess = _read_json(run_dir / "preprocess.json")
    training = _read_json(run_dir / "training.json")
    model = _read_json(run_dir / "model.json")
    keras_file = run_dir / "model.keras"
    network = network_from_keras_file(keras_file) if keras_file.is_file() else \
        network_from_summary(nbformat.read(run_dir / "03_build_model.ipynb", as_version=4))
    files = " ".join(entry.get("path", "") for entry in dataset.get("files", []))
    history_file = run_dir / "history.csv"
    return RunFacts(
        network=network, class_names=tuple(dataset["class_names"]),
        image_shape=tuple(dataset["image_shape"]),
        source=f"{dataset.get('source', '')} {files} {dataset['name']}",
        val_fraction=float(preprocess["val_fraction"]),
        seeds=frozenset(int(record["seed"]) for record in (preprocess, training, model)
                        if "seed" in record),
        learning_rate=float(training["learning_rate"]),
        epochs=frozenset({training["epochs"], training["epochs_run"]}),
        notebooks=len(notebook_paths(run_dir)), lr_schedule=training.get("lr_schedule"),
        history=read_history(history_file) if history_file.is_file() else None,
        # A run recorded before these were trained with Adam, on validation loss, keeping the
        # best weights (helpers.records.TrainingRecord's defaults).
        optimizer=training.get("optimizer", "adam"),
        momentum=float(training.get("momentum", 0.0)),
        monitor=training.get("early_stopping_monitor", "val_loss"),
        restore_best_weights=bool(training.get("restore_best_weights", True)),
        **_test_figures(run_dir))


def _test_figures(run_dir: Path) -> dict:
    """The confusion matrix (metrics.json) and the share of confident test predictions
    (predictions.npz), where the run kept them."""
    found = {}
    metrics, predictions = run_dir / "metrics.json", run_dir / "predictions.npz"
    if metrics.is_file():
        found["confusion"] = tuple(tuple(row) for row in _read_json(metrics)["confusion_matrix"])
    if predictions.is_file():
        with np.load(predictions) as arrays:
            found["confident_share"] = float((arrays["probabilities"].max(axis=1)
                                              >= CONFIDENT).mean())
    return found


def check_run(run_dir: Path) -> list[Finding]:
    """Every sentence of a run's executed notebooks that is not true of the run."""
    from truth_report import report_findings

    facts = read_facts(run_dir)
    findings = []
    for path in notebook_paths(run_dir):
        notebook = nbformat.read(path, as_version=4)
        for text, printed in visible_texts(notebook):
            findings += check_text(text, facts, path.stem, printed)
    # What the report says of itself: names, clauses, seeds, general claims, tool words.
    return findings + report_findings(run_dir)
