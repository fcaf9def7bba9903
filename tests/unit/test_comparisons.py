"""The comparisons a params file declares: the schema, the variants' sweep points, and the
table and sentences 08_conclusion shows, on made-up figures and on committed runs."""

import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers import artifacts, parameters
from helpers.parameters import ParameterError
from helpers.runner import execute
from helpers.runner.sweep_comparisons import (
    comparison_seeds,
    folder_name,
    variant_points,
    write_leaderboard,
)
from helpers.runner.sweep_grid import SweepPoint
from helpers.writing import brief_comparisons

ASSIGNMENTS = artifacts.PROJECT_ROOT / "params" / "assignments"
B_FILE = ASSIGNMENTS / "b_mnist_5k_cnn_bn_dropout.yaml"
REFERENCES = artifacts.PROJECT_ROOT / "reports" / "reference"
B_LAYERS = ["conv 32 3x3 relu", "batchnorm", "dropout 0.25", "conv 64 3x3 relu", "maxpool 2",
            "flatten", "dense 128 relu"]


def b_values(**changes: object) -> dict:
    return {**parameters.read_parameters_file(B_FILE), **changes}


# --- the schema ---

@pytest.mark.parametrize("name, variants", [
    ("a_csv_cnn_l2.yaml", ["no L2"]),
    ("b_mnist_5k_cnn_bn_dropout.yaml", ["no batch normalization", "no dropout", "neither"]),
    ("b_mnist_cnn_bn_dropout.yaml", ["no batch normalization", "no dropout", "neither"]),
    ("c_fashion_cnn_augment.yaml", ["no augmentation"]),
    ("d_fashion_mlp.yaml", ["deeper MLP", "lower learning rate"]),
    ("e_mnist_5k_cnn.yaml", []),
])
def test_each_assignment_declares_the_comparisons_its_brief_asks_for(name: str,
                                                                     variants: list) -> None:
    values = parameters.read_parameters_file(ASSIGNMENTS / name)
    checked = parameters.validate(values)
    assert [variant.name for variant in checked.comparisons or []] == variants
    assert "related_sweep" not in values  # never another dataset's sweep as this brief's answer


def test_b_variants_are_its_2x2_of_batch_normalization_and_dropout() -> None:
    checked = parameters.validate(b_values())
    layers = {variant.name: variant.set["layers"] for variant in checked.comparisons}
    assert checked.layers == B_LAYERS
    assert layers["no batch normalization"] == [entry for entry in B_LAYERS
                                                if entry != "batchnorm"]
    assert layers["no dropout"] == [entry for entry in B_LAYERS if entry != "dropout 0.25"]
    assert layers["neither"] == [entry for entry in B_LAYERS
                                 if entry not in ("batchnorm", "dropout 0.25")]


@pytest.mark.parametrize("declared, expected", [
    ([{"name": "odd", "set": {"dropout_rat": 0.1}}],
     "comparison 'odd': unknown parameter 'dropout_rat'"),
    ([{"name": "high", "set": {"learning_rate": -1.0}}],
     "comparison 'high': parameter 'learning_rate': input should be greater than 0"),
    ([{"name": "bad layer", "set": {"layers": ["conv 32 3x3 relu", "pool 2"]}}],
     "comparison 'bad layer': parameter 'layers'"),
    # merged with the file's values: a cnn variant of a layers file is refused as a whole
    ([{"name": "cnn", "set": {"architecture": "cnn"}}],
     "comparison 'cnn': layers are given but architecture is 'cnn'"),
    ([{"name": "epochs", "set": {"epochs": "3"}}],
     "comparison 'epochs': parameter 'epochs': input should be a valid integer"),
    ([{"name": "x", "set": {"epochs": 2}}, {"name": "x", "set": {"epochs": 3}}],
     "the name 'x' is used twice"),
    ([{"name": "nested", "set": {"comparisons": []}}],
     "comparison 'nested': parameter 'comparisons' cannot be set by a comparison"),
    ([{"name": "where", "set": {"run_dir": "elsewhere"}}],
     "comparison 'where': parameter 'run_dir' cannot be set by a comparison"),
    ([{"name": "no set"}], "comparisons[0] needs 'set'"),
    ([{"name": "typo", "sett": {"epochs": 2}}], "unknown key 'sett' in comparisons[0]"),
    ([{"name": "empty", "set": {}}], "parameter 'comparisons'"),
    ([{"name": "", "set": {"epochs": 2}}], "parameter 'comparisons'"),
    ("no batch normalization", "parameter 'comparisons': input should be a valid list"),
])
def test_bad_declarations_are_refused_naming_the_variant_and_parameter(declared: object,
                                                                       expected: str) -> None:
    with pytest.raises(ParameterError) as raised:
        parameters.validate(b_values(comparisons=declared))
    assert expected in str(raised.value)


def test_a_variant_is_checked_with_the_command_line_overrides_too() -> None:
    values = b_values(max_train_images=300, comparisons=[
        {"name": "vgg", "set": {"architecture": "vgg", "layers": None,
                                "convs_per_block": 3}}])
    with pytest.raises(ParameterError, match="comparison 'vgg': architecture 'vgg' has two"):
        parameters.validate(values)


def test_comparisons_reach_no_notebook_unless_one_declares_them() -> None:
    declared = execute.declared_parameters()
    assert "comparisons" in parameters.RUNNER_ONLY_PARAMETERS
    assert not any("comparisons" in names for names in declared.values())


# --- the variants' sweep points ---

def test_each_network_and_seed_is_a_point_the_run_itself_aside() -> None:
    checked = parameters.validate(b_values())
    overrides = [("epochs", "1"), ("max_train_images", "300")]
    seeds = comparison_seeds(42, 2)
    points = variant_points(checked.comparisons, B_FILE, overrides, seeds, split_seed=42)
    assert seeds == [42, 43]
    assert [point.name for point in points] == [
        "as-the-brief-describes_seed43", "no-batch-normalization_seed42",
        "no-batch-normalization_seed43", "no-dropout_seed42", "no-dropout_seed43",
        "neither_seed42", "neither_seed43"]
    own, first = points[0], points[1]
    assert own.overrides == (*overrides, ("seed", "43"), ("split_seed", "42"))
    assert isinstance(first, SweepPoint) and first.parameters_file == B_FILE.resolve()
    assert first.overrides[:2] == tuple(overrides)
    name, text = first.overrides[2]
    assert name == "layers" and parameters.parse_override(text) == checked.comparisons[0].set[
        "layers"]
    assert first.overrides[3:] == (("seed", "42"), ("split_seed", "42"))
    assert first.swept == (("variant", "no batch normalization"), ("seed", 42))


def test_variants_whose_folders_would_clash_are_refused() -> None:
    checked = parameters.validate(b_values(questions=None, comparisons=[
        {"name": "No BN", "set": {"epochs": 2}}, {"name": "no bn", "set": {"epochs": 3}}]))
    with pytest.raises(ValueError, match="same folder name 'no-bn'"):
        variant_points(checked.comparisons, B_FILE, [])
    assert folder_name("lower learning rate (3e-4)") == "lower-learning-rate-3e-4"


# --- what changed ---

@pytest.mark.parametrize("base, changes, expected", [
    ({"layers": B_LAYERS}, {"layers": [entry for entry in B_LAYERS if entry != "batchnorm"]},
     "layers: batchnorm removed"),
    ({"layers": B_LAYERS}, {"layers": [entry for entry in B_LAYERS
                                       if entry not in ("batchnorm", "dropout 0.25")]},
     "layers: batchnorm, dropout 0.25 removed"),
    ({"layers": ["conv 32 3x3 relu l2=0.0001", "maxpool 2", "dense 128 relu l2=0.0001"]},
     {"layers": ["conv 32 3x3 relu", "maxpool 2", "dense 128 relu"]},
     "layers: l2=0.0001 removed (2 entries)"),
    ({"layers": ["flatten", "dense 64 relu"]}, {"layers": ["flatten", "dense 128 relu"]},
     "layers: dense 64 relu -> dense 128 relu"),
    ({"augment_flip": True, "augment_rotation": 10.0},
     {"augment_flip": False, "augment_rotation": 0.0},
     "augment_flip true -> false; augment_rotation 10.0 -> 0.0"),
    ({"hidden_units": [512, 256]}, {"hidden_units": [512, 256, 128]},
     "hidden_units [512, 256] -> [512, 256, 128]"),
    ({"learning_rate": 0.001}, {"learning_rate": 0.0003}, "learning_rate 0.001 -> 0.0003"),
])
def test_what_changed_is_said_in_the_parameters_terms(base: dict, changes: dict,
                                                      expected: str) -> None:
    assert brief_comparisons.describe_change(base, changes) == expected


# --- the table and sentences, on made-up runs ---

def made_up_runs() -> pd.DataFrame:
    """Three seeds of the run's network and of two variants; no dropout consistently 1 point
    above on validation, no batch normalization noisy around it."""
    rows = []
    figures = {"as the brief describes": ("", [0.970, 0.975, 0.980], [0.965, 0.970, 0.972]),
               "no dropout": ("layers: dropout 0.25 removed", [0.980, 0.985, 0.990],
                              [0.968, 0.969, 0.972]),
               "no batch normalization": ("layers: batchnorm removed", [0.960, 0.990, 0.975],
                                          [0.950, 0.985, 0.972])}
    for network, (changed, validation, test) in figures.items():
        for seed, (val, tst) in enumerate(zip(validation, test, strict=True), start=42):
            rows.append({"variant": network, "seed": seed, "changed": changed or None,
                         "validation_accuracy": val, "test_accuracy": tst, "f1_macro": tst,
                         "highest_validation_accuracy": val + 0.002,
                         "final_validation_accuracy": val - 0.001, "seconds_per_epoch": 4.0,
                         "train_seconds": 40.0})
    return pd.DataFrame(rows)


def write_made_up_runs(run_dir: Path) -> None:
    path = run_dir / brief_comparisons.COMPARISONS_DIR / brief_comparisons.RUNS_FILE
    path.parent.mkdir(parents=True)
    made_up_runs().rename(columns={"variant": brief_comparisons.NETWORK_COLUMN}).to_csv(
        path, index=False)


def test_the_table_gives_mean_and_spread_per_network_and_the_paired_difference(
        tmp_path: Path) -> None:
    write_made_up_runs(tmp_path)
    table = brief_comparisons.table(tmp_path)
    assert list(table.index) == ["as the brief describes", "no dropout",
                                 "no batch normalization"]
    assert list(table.columns) == [
        "what changed", "seeds", "validation accuracy (kept epoch)", "test accuracy",
        "highest / final validation accuracy", "seconds per epoch",
        "test accuracy against the run's network (points)"]
    brief = table.loc["as the brief describes"]
    assert brief["what changed"] == "nothing" and brief["seeds"] == 3
    assert brief["validation accuracy (kept epoch)"] == "0.9750 ± 0.0050"
    assert table.loc["no dropout", "test accuracy against the run's network (points)"] \
        .startswith("+0.07 ± ")
    departed = brief_comparisons.table(tmp_path, departures=["one epoch"])
    assert departed.index[0] == "this run's network (departs from the brief)"


def test_the_sentences_state_the_rule_and_judge_each_variant_by_it(tmp_path: Path) -> None:
    write_made_up_runs(tmp_path)
    lines = brief_comparisons.effects(tmp_path)
    assert "trained 3 times" in lines[0] and "Bonferroni" in lines[0]
    no_dropout = next(line for line in lines if line.startswith("**no dropout**"))
    # +1.0 point on validation at every seed: no spread, a difference this data detects.
    assert no_dropout.startswith("**no dropout** against the brief's network: validation "
                                 "accuracy 1.0 point higher (interval ±0.00 points): a "
                                 "difference this data detects; test accuracy 0.07 points "
                                 "higher (interval ±")
    assert no_dropout.endswith("no difference this data can detect; about 53 seeds would "
                               "resolve a difference of this size.")
    assert lines[-1] == ("Chosen on validation alone: **no dropout**, with the highest mean "
                         "validation accuracy (0.9850).")


def test_a_runs_table_without_the_runs_own_network_is_refused(tmp_path: Path) -> None:
    path = tmp_path / brief_comparisons.COMPARISONS_DIR / brief_comparisons.RUNS_FILE
    path.parent.mkdir()
    runs = made_up_runs()
    runs[runs["variant"] != "as the brief describes"].rename(
        columns={"variant": "network"}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="no runs of 'as the brief describes'"):
        brief_comparisons.read_runs(tmp_path)


def test_a_run_without_comparisons_shows_nothing() -> None:
    run = REFERENCES / "assignment-e"
    assert brief_comparisons.read_runs(run) is None
    assert brief_comparisons.table(run) is None
    assert brief_comparisons.effects(run) == []


# --- the leaderboard the runner writes, on committed runs ---

RECORDS = ("training.json", "history.csv", "metrics.json", "preprocess.json", "manifest.json",
           "steps.json")


def copy_records(source: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    for name in RECORDS:
        if (source / name).is_file():
            shutil.copy(source / name, target / name)
    return target


def test_the_runners_tables_read_back_as_table_and_sentences(tmp_path: Path) -> None:
    run = copy_records(REFERENCES / "assignment-b", tmp_path / "run")
    checked = parameters.validate(b_values())
    points = variant_points(checked.comparisons[:1], B_FILE, [], [42, 43], 42)
    for point, reference in zip(points, ("assignment-e", "mnist_5k", "assignment-b"),
                                strict=True):
        copy_records(REFERENCES / reference, run / "comparisons" / point.name)
    path = write_leaderboard(run, checked.comparisons[:1], points,
                             {**checked.model_dump(), "seed": 42})
    runs = pd.read_csv(path.with_name(brief_comparisons.RUNS_FILE))
    assert list(runs.columns[:5]) == ["rank", "run", "network", "seed", "changed"]
    assert sorted(zip(runs["network"], runs["seed"], strict=True)) == [
        ("as the brief describes", 42), ("as the brief describes", 43),
        ("no batch normalization", 42), ("no batch normalization", 43)]
    own = runs[runs["run"] == "as the brief describes (seed 42)"].iloc[0]
    assert own["run_dir"] == ".." and pd.isna(own["changed"])
    assert own["test_accuracy"] == pytest.approx(
        artifacts.read_json(run / "metrics.json")["test_accuracy"])
    board = pd.read_csv(path)
    assert list(board["seeds"]) == [2, 2] and list(board["rank"]) == [1, 2]
    table = brief_comparisons.table(run)
    assert "layers: batchnorm removed" in set(table["what changed"])
    assert len(brief_comparisons.network_curves(run)) == 2
    assert sum(line.startswith("**no") for line in brief_comparisons.effects(run)) == 1


def test_variants_run_with_other_parameters_are_started_afresh(tmp_path: Path) -> None:
    from helpers.runner.sweep import prepare
    from helpers.runner.sweep_comparisons import STUDY_NAME, ran_otherwise
    from helpers.runner.sweep_worker import SweepSpec

    checked = parameters.validate(b_values())

    def spec(overrides: list) -> SweepSpec:
        points = variant_points(checked.comparisons, B_FILE, overrides, [42, 43], 42)
        return SweepSpec(STUDY_NAME, tmp_path, None, tuple(points), "05_evaluate")

    assert not ran_otherwise(spec([("epochs", "1")]))  # nothing ran yet
    prepare(spec([("epochs", "1")]), log=lambda *_, **__: None)
    assert not ran_otherwise(spec([("epochs", "1")]))  # the same: continued, never re-run
    assert ran_otherwise(spec([("epochs", "2")]))  # re-run with --from and other values


def test_a_study_over_one_numeric_setting_states_its_trade_off() -> None:
    runs = pd.DataFrame({
        "variant": ["as the brief describes"] * 2 + ["batch 512"] * 2 + ["batch 32"] * 2,
        "seed": [42, 43] * 3, "batch_size": [128, 128, 512, 512, 32, 32],
        "seconds_per_epoch": [4.0, 4.2, 2.0, 2.1, 12.0, 12.5],
        "test_accuracy": [0.900, 0.905, 0.880, 0.885, 0.910, 0.912]})
    text = brief_comparisons.tradeoff(runs)
    assert text.startswith("Over batch_size, 32: 12.2 s per epoch, test accuracy 0.9110; 128:")
    assert "batch_size 512, trains 6.0× faster per epoch than the most accurate, batch_size 32, " \
           "for 2.9 points less mean test accuracy" in text
    # Networks that differ in more than one setting are not a study of one.
    assert brief_comparisons.tradeoff(runs.assign(learning_rate=[0.1, 0.1, 0.2, 0.2, 0.3, 0.3])) \
        is None
