import pytest

from trainplane.spot import class_of, family_of, interruption_rate_per_hour, spot_price_fraction


@pytest.mark.parametrize(
    ("instance_type", "family", "klass"),
    [
        ("ml.m5.large", "m5", "cpu"),
        ("ml.r5.16xlarge", "r5", "cpu"),
        ("ml.p3dn.24xlarge", "p3dn", "gpu"),
        ("ml.g4dn.xlarge", "g4dn", "gpu"),
        ("ml.trn1.32xlarge", "trn1", "accelerator"),
        ("ml.inf2.xlarge", "inf2", "accelerator"),
    ],
)
def test_family_and_class_come_from_the_type_name(instance_type: str, family: str, klass: str) -> None:
    assert family_of(instance_type) == family
    assert class_of(instance_type) == klass


@pytest.mark.parametrize("bad", ["m5.large", "ml.large", "ML.M5.LARGE", "", "ml.m5.large.extra"])
def test_malformed_instance_types_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="not a SageMaker instance type"):
        family_of(bad)


def test_class_defaults_apply_to_families_without_their_own_row() -> None:
    assert spot_price_fraction("ml.m5.xlarge") == 0.30
    assert spot_price_fraction("ml.g5.xlarge") == 0.35
    assert interruption_rate_per_hour("ml.c5.xlarge") == 0.2


def test_trace_calibrated_families_beat_their_class() -> None:
    assert spot_price_fraction("ml.p3.2xlarge") == 0.30
    assert spot_price_fraction("ml.r5.16xlarge") == 0.45
    assert interruption_rate_per_hour("ml.r5.large") == 1.3


def test_the_most_specific_override_wins() -> None:
    overrides = {"gpu": 0.5, "g5": 0.4, "ml.g5.2xlarge": 0.2}
    assert spot_price_fraction("ml.g5.2xlarge", overrides) == 0.2
    assert spot_price_fraction("ml.g5.xlarge", overrides) == 0.4
    assert spot_price_fraction("ml.g4dn.xlarge", overrides) == 0.5
    assert spot_price_fraction("ml.m5.large", overrides) == 0.30


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5, float("nan")])
def test_out_of_range_price_fractions_are_rejected(fraction: float) -> None:
    with pytest.raises(ValueError, match=r"in \(0, 1\]"):
        spot_price_fraction("ml.m5.large", {"cpu": fraction})


def test_negative_interruption_rates_are_rejected() -> None:
    assert interruption_rate_per_hour("ml.m5.large", {"m5": 0}) == 0.0
    with pytest.raises(ValueError, match=">= 0"):
        interruption_rate_per_hour("ml.m5.large", {"m5": -1})


def test_the_package_exports_exactly_its_public_names() -> None:
    import trainplane.spot as spot

    assert spot.__all__ == sorted(spot.__all__)
    assert all(hasattr(spot, name) for name in spot.__all__)
