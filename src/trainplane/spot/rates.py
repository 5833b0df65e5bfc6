"""Spot price fraction and interruption rate per instance type.

The instance catalog has on-demand prices only, so spot behaviour comes from this small table: an exact
instance type beats its family (``p3``), which beats its accelerator class (``cpu``, ``gpu``,
``accelerator``). Every lookup takes an optional ``overrides`` mapping whose keys may be any of those
three levels; the most specific key wins.

Where the numbers come from (traces in ``trainplane/spot/traces``, see its README):

* ``p3`` price fraction 0.30: the us-east-1c p3.2xlarge trace records a flat spot price of $0.918/h,
  against the EC2 on-demand list price of $3.06/h (us-east-1).
* ``r5`` price fraction 0.45: the us-east-1c r5.16xlarge trace averages $1.816/h (1.738-1.852) against
  the EC2 on-demand list price of $4.032/h.
* ``gpu`` and ``p3`` interruption rate 0.3/h: losses of full capacity per hour at full capacity in the
  three p3.2xlarge traces are 0.74 (us-east-1c), 0.095 (us-west-2b) and 0.27 (us-west-2c, 4 nodes,
  any node lost); 0.3 is about their median.
* ``r5`` interruption rate 1.3/h: the r5.16xlarge trace loses its instance 128 times in 97 h up.
* ``cpu`` 0.30 / 0.2/h and ``gpu``/``accelerator`` 0.35: assumptions, not measurements (no trace for
  small CPU or Trainium instances); AWS advertises spot savings of "up to 90%", so these are cautious.

Fractions are taken against EC2 list prices because SageMaker does not publish its spot price; the
billing module applies them to SageMaker's on-demand price (spec §10.4).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class SpotRates:
    price_fraction: float  # spot price / on-demand price, in (0, 1]
    interruptions_per_hour: float  # expected interruption notices per hour of running, >= 0


CLASS_RATES: Mapping[str, SpotRates] = {
    "cpu": SpotRates(price_fraction=0.30, interruptions_per_hour=0.2),
    "gpu": SpotRates(price_fraction=0.35, interruptions_per_hour=0.3),
    "accelerator": SpotRates(price_fraction=0.35, interruptions_per_hour=0.3),
}

FAMILY_RATES: Mapping[str, SpotRates] = {
    "p3": SpotRates(price_fraction=0.30, interruptions_per_hour=0.3),
    "r5": SpotRates(price_fraction=0.45, interruptions_per_hour=1.3),
}

# Family name prefixes by class; anything else is a CPU family (m, c, r, t, x ...).
_GPU_PREFIXES = ("g", "p")
_ACCELERATOR_PREFIXES = ("trn", "inf", "dl")
_TYPE_RE = re.compile(r"^ml\.([a-z]+[0-9]+[a-z]*)\.([a-z0-9]+)$")


def family_of(instance_type: str) -> str:
    """``ml.p3.2xlarge`` -> ``p3``; ValueError for names that are not SageMaker instance types."""
    match = _TYPE_RE.match(instance_type)
    if match is None:
        raise ValueError(f"not a SageMaker instance type (expected ml.<family>.<size>): {instance_type!r}")
    return match.group(1)


def class_of(instance_type: str) -> str:
    """The accelerator class: ``cpu``, ``gpu`` or ``accelerator`` (Trainium/Inferentia/Gaudi)."""
    family = family_of(instance_type)
    # Check the longer accelerator prefixes first: "inf1" must not fall into a one-letter class.
    if family.startswith(_ACCELERATOR_PREFIXES):
        return "accelerator"
    if family.startswith(_GPU_PREFIXES):
        return "gpu"
    return "cpu"


def spot_rates(instance_type: str) -> SpotRates:
    """The table entry for this type: its family's row if there is one, else its class's."""
    return FAMILY_RATES.get(family_of(instance_type)) or CLASS_RATES[class_of(instance_type)]


def _override(instance_type: str, overrides: Mapping[str, float] | None) -> float | None:
    if not overrides:
        return None
    for key in (instance_type, family_of(instance_type), class_of(instance_type)):
        if key in overrides:
            return float(overrides[key])
    return None


def spot_price_fraction(instance_type: str, overrides: Mapping[str, float] | None = None) -> float:
    """Spot price as a fraction of on-demand, in (0, 1]."""
    value = _override(instance_type, overrides)
    if value is None:
        return spot_rates(instance_type).price_fraction
    if not 0.0 < value <= 1.0:
        raise ValueError(f"spot price fraction for {instance_type} must be in (0, 1], got {value}")
    return value


def interruption_rate_per_hour(instance_type: str, overrides: Mapping[str, float] | None = None) -> float:
    """Expected interruption notices per instance-hour of running (a Poisson rate), >= 0."""
    value = _override(instance_type, overrides)
    if value is None:
        return spot_rates(instance_type).interruptions_per_hour
    if not value >= 0.0:  # also rejects NaN
        raise ValueError(f"interruption rate for {instance_type} must be >= 0 per hour, got {value}")
    return value
