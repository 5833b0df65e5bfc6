"""What a job's attempts cost: SageMaker's TrainingTimeInSeconds, BillableTimeInSeconds and dollars.

Rules (spec §4.3 and §10.4):

* Training time is the sum of attempt durations. It is summed exactly and rounded half-up to whole
  seconds once, at the end, so many short attempts do not pile up rounding error. SageMaker reports
  whole seconds and bills per second but does not publish its rounding; half-up is our choice.
* Billable time is the sum of ``seconds x spot_price_fraction`` over spot attempts plus the plain
  seconds of on-demand attempts (including spot jobs that fell back to on-demand), rounded the same
  way. Both are at least 1 when any training happened (SageMaker never reports 0 for a job that ran).
* Dollars are ``on-demand price/h x BillableTimeInSeconds / 3600 x instance count``: the rounded
  billable seconds DescribeTrainingJob reports, so the two figures agree (a job billed 1 s costs 1 s).
  On-demand dollars price TrainingTimeInSeconds the same way. Should one job's attempts differ in type
  or count, each attempt's price weighs its share of the seconds. A type without a catalog price gives
  ``None``: never a guessed price.
* Savings % is ``(1 - billable / training) x 100`` over the rounded values, as the SageMaker SDK prints.
"""

from __future__ import annotations

import csv
import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from trainplane.spot.rates import spot_price_fraction

_PRICE_COLUMN = "price_usd_per_hour_on_demand_us_east_1"


@dataclass(frozen=True)
class AttemptUsage:
    """One attempt's time on instances: [start, end] in epoch seconds (the attempt's billing interval)."""

    start: float
    end: float
    instance_type: str
    instance_count: int = 1
    spot: bool = False
    on_demand_fallback: bool = False  # a spot job that ran this attempt on on-demand capacity

    def __post_init__(self) -> None:
        if not self.end >= self.start:
            raise ValueError(f"attempt ends ({self.end}) before it starts ({self.start})")
        if self.instance_count < 1:
            raise ValueError(f"instance_count must be >= 1, got {self.instance_count}")

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def billed_at_spot(self) -> bool:
        return self.spot and not self.on_demand_fallback


@dataclass(frozen=True)
class CostReport:
    training_seconds: int  # TrainingTimeInSeconds
    billable_seconds: int  # BillableTimeInSeconds (per instance)
    cost_usd: float | None  # all instances; None if any attempt's type has no catalog price
    on_demand_cost_usd: float | None  # the same attempts billed at on-demand
    attempts: int

    @property
    def savings_percent(self) -> float:
        """Managed Spot Training savings; 0 when nothing ran."""
        if self.training_seconds == 0:
            return 0.0
        return (1.0 - self.billable_seconds / self.training_seconds) * 100.0


@functools.cache
def catalog_prices() -> Mapping[str, float | None]:
    """On-demand USD/hour by instance type from the packaged catalog; None where the cell is empty."""
    text = (resources.files("trainplane") / "catalog" / "instances.csv").read_text(encoding="utf-8")
    prices: dict[str, float | None] = {}
    for row in csv.DictReader(text.splitlines()):
        cell = (row.get(_PRICE_COLUMN) or "").strip()
        prices[row["instance_type"]] = float(cell) if cell else None
    return prices


def on_demand_price(instance_type: str, prices: Mapping[str, float | None] | None = None) -> float | None:
    """USD/hour for one instance; None for types the catalog (or ``prices``) does not price."""
    return (catalog_prices() if prices is None else prices).get(instance_type)


def _round_seconds(seconds: float) -> int:
    return math.floor(seconds + 0.5)


def cost_report(
    attempts: Sequence[AttemptUsage],
    *,
    prices: Mapping[str, float | None] | None = None,
    fractions: Mapping[str, float] | None = None,
) -> CostReport:
    """Account one job. ``prices`` replaces the catalog; ``fractions`` overrides rates.py (any level)."""
    training = billable = 0.0
    cost: float | None = 0.0  # dollars per hour x seconds, summed over the attempts (unrounded)
    on_demand: float | None = 0.0
    for attempt in attempts:
        fraction = spot_price_fraction(attempt.instance_type, fractions) if attempt.billed_at_spot else 1.0
        training += attempt.seconds
        billable += attempt.seconds * fraction
        price = on_demand_price(attempt.instance_type, prices)
        if price is None:
            cost = on_demand = None
        elif cost is not None and on_demand is not None:
            full = price * attempt.seconds * attempt.instance_count
            cost, on_demand = cost + full * fraction, on_demand + full
    # Anything that ran reports at least one second, so savings stay defined and billable <= training.
    floor = 1 if training > 0 else 0
    training_seconds = max(floor, _round_seconds(training))
    billable_seconds = max(floor, _round_seconds(billable))
    return CostReport(
        training_seconds=training_seconds,
        billable_seconds=billable_seconds,
        cost_usd=_priced(cost, billable, billable_seconds),
        on_demand_cost_usd=_priced(on_demand, training, training_seconds),
        attempts=len(attempts),
    )


def _priced(price_seconds: float | None, seconds: float, reported: int) -> float | None:
    """Dollars for the ``reported`` whole seconds, at the price per second of the unrounded ``seconds``
    (``price_seconds`` is their sum of price/h x seconds x instance count)."""
    if price_seconds is None:
        return None
    if seconds <= 0:
        return 0.0
    return price_seconds / seconds * reported / 3600.0


def _sum_or_none(values: Iterable[float | None]) -> float | None:
    total = 0.0
    for value in values:
        if value is None:
            return None
        total += value
    return total


def total(reports: Iterable[CostReport]) -> CostReport:
    """Several jobs together (e.g. a tuning job's children); unknown cost anywhere makes the cost None."""
    reports = list(reports)
    return CostReport(
        training_seconds=sum(r.training_seconds for r in reports),
        billable_seconds=sum(r.billable_seconds for r in reports),
        cost_usd=_sum_or_none(r.cost_usd for r in reports),
        on_demand_cost_usd=_sum_or_none(r.on_demand_cost_usd for r in reports),
        attempts=sum(r.attempts for r in reports),
    )
