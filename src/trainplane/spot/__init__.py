"""Managed spot training, pure parts: spot rates, interruption sources and billing."""

from trainplane.spot.billing import (
    AttemptUsage,
    CostReport,
    catalog_prices,
    cost_report,
    on_demand_price,
    total,
)
from trainplane.spot.rates import (
    SpotRates,
    class_of,
    family_of,
    interruption_rate_per_hour,
    spot_price_fraction,
    spot_rates,
)
from trainplane.spot.sources import (
    Interruption,
    InterruptionAt,
    InterruptionSource,
    NoInterruptions,
    Outage,
    PoissonInterruptions,
    ScheduledInterruptions,
    capacity_available,
)
from trainplane.spot.spec import parse_source
from trainplane.spot.trace import SpotTrace, TraceReplay, bundled_traces, load_trace, parse_trace

__all__ = [
    "AttemptUsage",
    "CostReport",
    "Interruption",
    "InterruptionAt",
    "InterruptionSource",
    "NoInterruptions",
    "Outage",
    "PoissonInterruptions",
    "ScheduledInterruptions",
    "SpotRates",
    "SpotTrace",
    "TraceReplay",
    "bundled_traces",
    "capacity_available",
    "catalog_prices",
    "class_of",
    "cost_report",
    "family_of",
    "interruption_rate_per_hour",
    "load_trace",
    "on_demand_price",
    "parse_source",
    "parse_trace",
    "spot_price_fraction",
    "spot_rates",
    "total",
]
