import math

import numpy as np
import pytest

from trainplane.tuning.space import Kind, RangeError, Scaling, parse_parameter_ranges


def _space(**ranges):
    return parse_parameter_ranges(ranges)


def _cont(name, lo, hi, scaling="Linear"):
    return {"Name": name, "MinValue": lo, "MaxValue": hi, "ScalingType": scaling}


def test_parses_all_three_kinds_in_order():
    space = _space(
        IntegerParameterRanges=[_cont("depth", "1", "8")],
        ContinuousParameterRanges=[_cont("eta", "0.1", "0.5")],
        CategoricalParameterRanges=[{"Name": "booster", "Values": ["gbtree", "dart"]}],
    )
    assert space.names == ("depth", "eta", "booster")
    assert [p.kind for p in space.parameters] == [Kind.INTEGER, Kind.CONTINUOUS, Kind.CATEGORICAL]
    assert space.dim == 4  # categoricals are one-hot


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [("0.001", "0.1", Scaling.LOGARITHMIC), ("0.1", "0.5", Scaling.LINEAR), ("0", "100", Scaling.LINEAR)],
)
def test_auto_scaling_is_log_only_for_positive_ranges_spanning_a_decade(lo, hi, expected):
    space = _space(ContinuousParameterRanges=[_cont("x", lo, hi, "Auto")])
    assert space.parameters[0].scaling is expected


def test_values_render_as_sagemaker_strings():
    space = _space(
        IntegerParameterRanges=[_cont("n", "10", "20")],
        ContinuousParameterRanges=[_cont("lr", "1e-6", "1e-5", "Logarithmic")],
        CategoricalParameterRanges=[{"Name": "opt", "Values": ["adam", "sgd"]}],
    )
    config = space.from_unit(np.array([0.5, 0.0, 0.0, 1.0]))
    assert config["n"] == "15" and config["opt"] == "sgd"
    assert float(config["lr"]) == pytest.approx(1e-6) and "e-" in config["lr"]
    assert space.to_unit(config)[3] == 1.0


def test_round_trip_through_the_unit_cube():
    space = _space(
        IntegerParameterRanges=[_cont("n", "1", "1000", "Logarithmic")],
        ContinuousParameterRanges=[_cont("m", "0.5", "0.999", "ReverseLogarithmic")],
    )
    rng = np.random.default_rng(0)
    for _ in range(50):
        config = space.from_unit(rng.random(space.dim))
        assert space.from_unit(space.to_unit(config)) == config
        assert space.contains(config)


def test_log_scaling_is_uniform_in_log_space():
    space = _space(ContinuousParameterRanges=[_cont("lr", "1e-5", "1e-1", "Logarithmic")])
    rng = np.random.default_rng(1)
    logs = np.log10([float(space.from_unit(rng.random(1))["lr"]) for _ in range(4000)])
    assert np.mean(logs < -4) == pytest.approx(0.25, abs=0.03)
    assert np.mean(logs > -2) == pytest.approx(0.25, abs=0.03)


def test_reverse_log_scaling_is_dense_near_one():
    space = _space(ContinuousParameterRanges=[_cont("beta", "0.0", "0.999", "ReverseLogarithmic")])
    rng = np.random.default_rng(2)
    values = np.array([float(space.from_unit(rng.random(1))["beta"]) for _ in range(4000)])
    assert values.min() >= 0.0 and values.max() <= 0.999
    # log(1 - x) is uniform on [log 0.001, 0]: a third of the mass is beyond 0.99.
    assert np.mean(values > 0.99) == pytest.approx(1 / 3, abs=0.03)
    assert np.mean(values < 0.9) == pytest.approx(1 / 3, abs=0.03)


def test_integers_are_sampled_evenly_and_stay_in_range():
    space = _space(IntegerParameterRanges=[_cont("k", "1", "4", "Linear")])
    rng = np.random.default_rng(3)
    counts = np.bincount([int(space.from_unit(rng.random(1))["k"]) for _ in range(4000)], minlength=5)
    assert counts[0] == 0 and np.all(np.abs(counts[1:] / 4000 - 0.25) < 0.03)


def test_snap_moves_points_onto_runnable_configs():
    space = _space(
        IntegerParameterRanges=[_cont("k", "0", "9", "Linear")],
        CategoricalParameterRanges=[{"Name": "c", "Values": ["a", "b", "c"]}],
    )
    snapped = space.snap(np.array([[0.123, 0.2, 0.7, 0.1]]))
    assert snapped[0, 1:].tolist() == [0.0, 1.0, 0.0]
    assert math.isclose(snapped[0, 0], 1.5 / 10)


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        ({"ContinuousParameterRanges": [_cont("x", "2", "1")]}, "less than or equal"),
        ({"ContinuousParameterRanges": [_cont("x", "0", "1", "Logarithmic")]}, "greater than 0"),
        ({"IntegerParameterRanges": [_cont("x", "0", "1", "ReverseLogarithmic")]}, "not supported"),
        ({"ContinuousParameterRanges": [_cont("x", "0.5", "1.0", "ReverseLogarithmic")]}, "MaxValue < 1"),
        ({"ContinuousParameterRanges": [_cont("x", "abc", "1")]}, "not a number"),
        ({"IntegerParameterRanges": [_cont("x", "1.5", "3")]}, "not an integer"),
        ({"ContinuousParameterRanges": [_cont("x", "0", "1", "Cubic")]}, "ScalingType"),
        (
            {"CategoricalParameterRanges": [{"Name": "c", "Values": [str(i) for i in range(31)]}]},
            "maximum of 30",
        ),
        ({"ContinuousParameterRanges": [_cont(f"x{i}", "0", "1") for i in range(31)]}, "exceeds the maximum"),
        (
            {
                "ContinuousParameterRanges": [_cont("x", "0", "1")],
                "IntegerParameterRanges": [_cont("x", "0", "1")],
            },
            "more than one",
        ),
    ],
)
def test_invalid_ranges_raise_range_error(ranges, message):
    with pytest.raises(RangeError, match=message):
        parse_parameter_ranges(ranges)


def test_range_error_is_a_value_error():
    assert issubclass(RangeError, ValueError)


def test_integer_bounds_beyond_exact_floats_are_rejected() -> None:
    big = str(2**53 + 1)
    with pytest.raises(RangeError, match=f"'{big}' for integer hyperparameter 'n' is outside the supported"):
        parse_parameter_ranges({"IntegerParameterRanges": [{"Name": "n", "MinValue": "0", "MaxValue": big}]})
    space = parse_parameter_ranges(
        {"IntegerParameterRanges": [{"Name": "n", "MinValue": "0", "MaxValue": str(2**53)}]}
    )
    assert space.names == ("n",)
