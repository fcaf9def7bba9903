"""Sweep points: --grid parsing, point names, crossing files with grids, checks before work."""

from pathlib import Path

import pytest

from helpers.parameters import ParameterError
from helpers.runner import sweep_grid
from helpers.runner.sweep_grid import (
    build_points,
    check_points,
    default_name,
    parse_grid,
    parse_grid_option,
    point_name,
    split_values,
)


def params_file(folder: Path, name: str = "base.yaml", text: str = "dataset: mnist_5k\n") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_values_are_split_on_commas_outside_brackets() -> None:
    assert split_values("true,false") == ["true", "false"]
    assert split_values("[32,64], [64,128]") == ["[32,64]", "[64,128]"]
    assert split_values("0.0") == ["0.0"]


def test_grid_values_are_read_as_yaml() -> None:
    assert parse_grid_option("batch_norm=true,false") == ("batch_norm", [True, False])
    assert parse_grid_option("learning_rate=1e-3,0.01") == ("learning_rate", [0.001, 0.01])
    assert parse_grid_option("conv_filters=[32,64],[64,128]") == (
        "conv_filters", [[32, 64], [64, 128]])
    assert parse_grid_option("lr_schedule=constant,cosine") == (
        "lr_schedule", ["constant", "cosine"])


@pytest.mark.parametrize(("option", "message"), [
    ("dropout_rate", "expected NAME=VALUE,VALUE"),
    ("=0.1,0.2", "expected NAME=VALUE,VALUE"),
    ("dropout_rate=", "expected NAME=VALUE,VALUE"),
    ("no_such=1,2", "unknown parameter 'no_such'"),
    ("dropout_rate=0.1,,0.2", "an empty value"),
    ("dropout_rate=0.1,0.10", "0.1 listed twice"),
])
def test_bad_grid_options_are_refused_naming_them(option: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        parse_grid_option(option)


def test_a_parameter_given_twice_is_refused() -> None:
    with pytest.raises(ParameterError, match="names 'epochs' twice"):
        parse_grid(["epochs=1,2", "epochs=3"])


def test_point_names_are_readable_and_stable() -> None:
    assert point_name(None, {"batch_norm": True, "dropout_rate": 0.3}) == \
        "batch_norm-true_dropout_rate-0.3"
    assert point_name(None, {"conv_filters": [32, 64]}) == "conv_filters-32-64"
    assert point_name(None, {"learning_rate": 1e-05}) == "learning_rate-1e-05"
    assert point_name("a", {"epochs": 3}) == "a_epochs-3"
    assert point_name("a", {}) == "a"
    assert point_name(None, {"layers": ["conv 32 3x3 relu", "flatten"]}) == \
        "layers-conv-32-3x3-relu-flatten"


def test_long_names_are_shortened_but_stay_unique() -> None:
    first = point_name(None, {"layers": ["conv 32 3x3 relu"] * 20})
    second = point_name(None, {"layers": ["conv 32 3x3 relu"] * 21})
    assert len(first) <= sweep_grid.MAX_NAME_LENGTH and first != second


def test_a_grid_is_every_combination_in_order(tmp_path: Path) -> None:
    base = params_file(tmp_path)
    grid = parse_grid(["batch_norm=true,false", "dropout_rate=0.0,0.3"])
    points = build_points([base], grid, [("epochs", "1")])
    assert [point.name for point in points] == [
        "batch_norm-true_dropout_rate-0.0", "batch_norm-true_dropout_rate-0.3",
        "batch_norm-false_dropout_rate-0.0", "batch_norm-false_dropout_rate-0.3"]
    assert points[1].overrides == (("epochs", "1"), ("batch_norm", "true"),
                                   ("dropout_rate", "0.3"))
    assert dict(points[1].swept) == {"batch_norm": True, "dropout_rate": 0.3}


def test_several_files_are_points_named_by_file(tmp_path: Path) -> None:
    first = params_file(tmp_path, "a.yaml")
    second = params_file(tmp_path, "b.yaml")
    points = build_points([first, second], parse_grid(["epochs=1,2"]), [])
    assert [point.name for point in points] == ["a_epochs-1", "a_epochs-2",
                                                "b_epochs-1", "b_epochs-2"]
    assert dict(points[2].swept) == {sweep_grid.FILE_DIMENSION: str(second), "epochs": 1}
    same_stem = [params_file(tmp_path / "x", "a.yaml"), params_file(tmp_path / "y", "a.yaml")]
    assert [point.name for point in build_points(same_stem, {}, [])] == ["x-a", "y-a"]


def test_a_swept_parameter_cannot_also_be_fixed(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="epochs is both fixed with -p and swept"):
        build_points([params_file(tmp_path)], parse_grid(["epochs=1,2"]), [("epochs", "3")])


def test_no_file_is_refused() -> None:
    with pytest.raises(ParameterError, match="needs a params file"):
        build_points([], parse_grid(["epochs=1,2"]), [])


def test_a_bad_grid_value_is_refused_naming_it(tmp_path: Path) -> None:
    grid = parse_grid(["dropout_rate=0.0,1.5"])
    points = build_points([params_file(tmp_path)], grid, [])
    with pytest.raises(ParameterError, match=r"--grid dropout_rate=1.5 is refused .*"
                                             r"parameter 'dropout_rate'"):
        check_points(points, grid)


def test_a_bad_file_among_several_is_named(tmp_path: Path) -> None:
    good = params_file(tmp_path, "good.yaml")
    bad = params_file(tmp_path, "bad.yaml", "dataset: mnist_5k\nepochs: 0\n")
    points = build_points([good, bad], {}, [])
    with pytest.raises(ParameterError, match="point bad is refused|bad.yaml"):
        check_points(points, {})


def test_valid_points_are_checked_into_parameters(tmp_path: Path) -> None:
    grid = parse_grid(["epochs=1,2"])
    checked = check_points(build_points([params_file(tmp_path)], grid, []), grid)
    assert [values.epochs for values in checked] == [1, 2]
    assert {values.dataset for values in checked} == {"mnist_5k"}


def test_the_default_name_comes_from_the_command(tmp_path: Path) -> None:
    grid = parse_grid(["batch_norm=true,false", "dropout_rate=0.0,0.3"])
    assert default_name([Path("params/default.yaml")], grid) == \
        "default-batch_norm-dropout_rate"
    assert default_name([Path("a.yaml"), Path("b.yaml")], {}) == "a-b"
