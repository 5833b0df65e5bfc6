import pytest

from trainplane.spot import AttemptUsage, CostReport, catalog_prices, cost_report, on_demand_price, total

PRICES = {"ml.m5.xlarge": 0.23, "ml.g5.xlarge": 1.41}
FRACTION = {"cpu": 0.2}


def spot(start: float, end: float, **kwargs: object) -> AttemptUsage:
    return AttemptUsage(start=start, end=end, instance_type="ml.m5.xlarge", spot=True, **kwargs)  # type: ignore[arg-type]


def test_spot_500_seconds_at_fraction_0_2_bills_100_and_saves_80_percent() -> None:
    report = cost_report([spot(1000.0, 1500.0)], prices=PRICES, fractions=FRACTION)
    assert (report.training_seconds, report.billable_seconds) == (500, 100)
    assert report.savings_percent == pytest.approx(80.0)
    assert report.cost_usd == pytest.approx(0.23 * 100 / 3600)
    assert report.on_demand_cost_usd == pytest.approx(0.23 * 500 / 3600)


def test_on_demand_bills_what_it_trains() -> None:
    attempt = AttemptUsage(start=0.0, end=125.0, instance_type="ml.m5.xlarge")
    report = cost_report([attempt], prices=PRICES)
    assert (report.training_seconds, report.billable_seconds, report.savings_percent) == (125, 125, 0.0)
    assert report.cost_usd == report.on_demand_cost_usd == pytest.approx(0.23 * 125 / 3600)


def test_attempts_sum_and_on_demand_fallback_is_billed_in_full() -> None:
    attempts = [spot(0.0, 300.0), spot(400.0, 600.0), spot(700.0, 800.0, on_demand_fallback=True)]
    report = cost_report(attempts, prices=PRICES, fractions=FRACTION)
    # 300 + 200 + 100 = 600 trained; 0.2 * 500 + 100 = 200 billable.
    assert (report.training_seconds, report.billable_seconds, report.attempts) == (600, 200, 3)
    assert report.savings_percent == pytest.approx(100 * (1 - 200 / 600))
    assert report.cost_usd == pytest.approx(0.23 * 200 / 3600)


def test_instance_count_multiplies_dollars_not_seconds() -> None:
    one = cost_report([spot(0.0, 500.0)], prices=PRICES, fractions=FRACTION)
    four = cost_report([spot(0.0, 500.0, instance_count=4)], prices=PRICES, fractions=FRACTION)
    assert (four.training_seconds, four.billable_seconds) == (one.training_seconds, one.billable_seconds)
    assert four.cost_usd == pytest.approx(4 * one.cost_usd)  # type: ignore[operator]


def test_the_sdk_example_874_seconds_at_0_3_bills_262() -> None:
    report = cost_report([spot(0.0, 874.0)], prices=PRICES, fractions={"cpu": 0.3})
    assert report.billable_seconds == 262  # 262.2 rounds down
    assert f"{report.savings_percent:.1f}" == "70.0"


def test_seconds_are_summed_exactly_then_rounded_half_up_once() -> None:
    attempts = [spot(0.0, 10.4), spot(20.0, 30.4)]  # 20.8 s: per-attempt rounding would give 20
    report = cost_report(attempts, prices=PRICES, fractions={"cpu": 0.5})
    assert (report.training_seconds, report.billable_seconds) == (21, 10)  # 10.4 billable
    assert cost_report([spot(0.0, 2.5)], prices=PRICES, fractions={"cpu": 1.0}).training_seconds == 3


def test_any_training_reports_at_least_one_billable_second() -> None:
    report = cost_report([spot(0.0, 0.3)], prices=PRICES, fractions={"cpu": 0.1})
    assert (report.training_seconds, report.billable_seconds) == (1, 1)
    empty = cost_report([], prices=PRICES)
    assert (empty.training_seconds, empty.billable_seconds, empty.savings_percent) == (0, 0, 0.0)
    assert empty.cost_usd == 0.0


def test_dollars_price_the_billable_seconds_describe_reports() -> None:
    # 0.2 s trained reports 1 billable second, and 1 s is what is priced (not 0.2 s).
    short = cost_report([AttemptUsage(0.0, 0.2, "ml.m5.xlarge", instance_count=2)], prices=PRICES)
    assert short.billable_seconds == 1
    assert short.cost_usd == short.on_demand_cost_usd == pytest.approx(0.23 * 1 / 3600 * 2)
    # 10.4 billable seconds at spot round to 10: the spot dollars are 10 s, the on-demand ones 21 s.
    attempts = [spot(0.0, 10.4), spot(20.0, 30.4)]
    report = cost_report(attempts, prices=PRICES, fractions={"cpu": 0.5})
    assert report.cost_usd == pytest.approx(0.23 * 10 / 3600)
    assert report.on_demand_cost_usd == pytest.approx(0.23 * 21 / 3600)


def test_a_type_without_a_price_has_no_cost_rather_than_a_guess() -> None:
    attempts = [spot(0.0, 100.0), AttemptUsage(0.0, 100.0, "ml.m7i.xlarge", spot=True)]
    report = cost_report(attempts, prices=PRICES)
    assert report.cost_usd is None and report.on_demand_cost_usd is None
    assert report.training_seconds == 200


def test_prices_come_from_the_packaged_catalog() -> None:
    assert on_demand_price("ml.m5.xlarge") == 0.23
    assert on_demand_price("ml.p3.2xlarge") == 3.825
    assert on_demand_price("ml.m7i.xlarge") is None
    assert len(catalog_prices()) == 61
    report = cost_report([AttemptUsage(0.0, 3600.0, "ml.g5.xlarge", instance_count=2, spot=True)])
    assert report.cost_usd == pytest.approx(1.41 * 0.35 * 2)


def test_total_sums_jobs_and_recomputes_savings() -> None:
    a = cost_report([spot(0.0, 500.0)], prices=PRICES, fractions=FRACTION)
    b = cost_report([AttemptUsage(0.0, 500.0, "ml.m5.xlarge")], prices=PRICES)
    both = total([a, b])
    assert (both.training_seconds, both.billable_seconds, both.attempts) == (1000, 600, 2)
    assert both.savings_percent == pytest.approx(40.0)
    assert both.cost_usd == pytest.approx(a.cost_usd + b.cost_usd)  # type: ignore[operator]
    unknown = CostReport(10, 10, None, None, 1)
    assert total([a, unknown]).cost_usd is None
    assert total([]) == CostReport(0, 0, 0.0, 0.0, 0)


def test_attempts_are_validated() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        AttemptUsage(10.0, 5.0, "ml.m5.xlarge")
    with pytest.raises(ValueError, match="instance_count"):
        AttemptUsage(0.0, 5.0, "ml.m5.xlarge", instance_count=0)
