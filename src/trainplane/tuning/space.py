"""Search spaces parsed from SageMaker ``ParameterRanges`` and their map onto the unit cube.

Encoding (what ``to_unit``/``from_unit`` speak):

* every integer or continuous range is one coordinate in [0, 1] on its *scaled* axis
  (Linear: the value itself; Logarithmic: ``log(value)``; ReverseLogarithmic: ``log(1 - value)``);
* integer ranges are widened by half a step on each side before scaling (``[min - 0.5, max + 0.5]``),
  so a uniform unit coordinate rounds to each integer with the probability its scaled bin has
  (equal for Linear, log-uniform-like for Logarithmic) and ``to_unit`` puts an integer at its bin's centre;
* a categorical range with ``k`` values is ``k`` one-hot coordinates; ``from_unit`` takes the arg-max,
  so a uniform vector picks each value with probability ``1/k``. One-hot (rather than an index) keeps
  the values unordered for the Bayesian surrogate.

``ScalingType=Auto`` resolves to Linear unless ``0 < min`` and ``max / min >= 10``, then Logarithmic
(the §7.3 heuristic; integer and continuous alike). Values are rendered the way SageMaker hands them
to a training job: integers as integers, floats as Python's shortest round-trip ``repr``
(``0.001``, ``1e-05``), categoricals verbatim.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

MAX_TUNABLE = 30
MAX_CATEGORICAL_VALUES = 30
MAX_EXACT_INTEGER = 2**53  # integer bounds beyond this are not exact as floats (see _parse_number)


class RangeError(ValueError):
    """An invalid ``ParameterRanges`` document; the service reports it as ValidationException."""


class Kind(StrEnum):
    INTEGER = "Integer"
    CONTINUOUS = "Continuous"
    CATEGORICAL = "Categorical"


class Scaling(StrEnum):
    AUTO = "Auto"
    LINEAR = "Linear"
    LOGARITHMIC = "Logarithmic"
    REVERSE_LOGARITHMIC = "ReverseLogarithmic"


@dataclass(frozen=True)
class Parameter:
    """One tunable hyperparameter. ``scaling`` is already resolved (never ``Auto``)."""

    name: str
    kind: Kind
    low: float = 0.0
    high: float = 0.0
    scaling: Scaling = Scaling.LINEAR
    values: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        """Number of unit-cube coordinates this parameter takes."""
        return len(self.values) if self.kind is Kind.CATEGORICAL else 1

    def _bounds(self) -> tuple[float, float]:
        # Integers get half a step either side so rounding gives every integer its own bin.
        pad = 0.5 if self.kind is Kind.INTEGER else 0.0
        return self._warp(self.low - pad), self._warp(self.high + pad)

    def _warp(self, x: Any) -> Any:
        if self.scaling is Scaling.LOGARITHMIC:
            return np.log(x)
        if self.scaling is Scaling.REVERSE_LOGARITHMIC:
            return np.log1p(-x)
        return x

    def _unwarp(self, t: Any) -> Any:
        if self.scaling is Scaling.LOGARITHMIC:
            return np.exp(t)
        if self.scaling is Scaling.REVERSE_LOGARITHMIC:
            return -np.expm1(t)
        return t

    def number_to_unit(self, value: Any) -> Any:
        """Scaled position of ``value`` (a number or an array) in [0, 1], clipped."""
        lo, hi = self._bounds()
        if hi == lo:
            return np.full_like(np.asarray(value, dtype=float), 0.5)
        return np.clip((self._warp(value) - lo) / (hi - lo), 0.0, 1.0)

    def unit_to_number(self, u: np.ndarray) -> np.ndarray:
        """Vectorised inverse of ``number_to_unit``: rounded for integers, clipped to the range."""
        lo, hi = self._bounds()
        x = self._unwarp(lo + np.clip(u, 0.0, 1.0) * (hi - lo))
        if self.kind is Kind.INTEGER:
            x = np.round(x)
        return np.clip(x, self.low, self.high)

    def render(self, value: float) -> str:
        if self.kind is Kind.INTEGER:
            return str(int(value))
        return repr(float(value))


class SearchSpace:
    """An ordered tuple of parameters and the unit-cube encoding described in the module docstring."""

    def __init__(self, parameters: Sequence[Parameter]) -> None:
        self.parameters = tuple(parameters)
        self.dim = sum(p.width for p in self.parameters)
        self._slices: list[slice] = []
        start = 0
        for p in self.parameters:
            self._slices.append(slice(start, start + p.width))
            start += p.width

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def combinations(self) -> float:
        """How many distinct configurations the space holds: ``math.inf`` with a continuous range."""
        sizes = [
            math.inf if p.kind is Kind.CONTINUOUS
            else len(p.values) if p.kind is Kind.CATEGORICAL
            else int(p.high) - int(p.low) + 1
            for p in self.parameters
        ]  # fmt: skip
        return float(math.prod(sizes))

    def to_unit(self, config: Mapping[str, str]) -> np.ndarray:
        """Encode a config. Numbers outside the range are clipped; unknown categories raise ``RangeError``."""
        out = np.zeros(self.dim)
        for p, sl in zip(self.parameters, self._slices, strict=True):
            raw = config.get(p.name)
            if raw is None:
                raise RangeError(f"Hyperparameter '{p.name}' is missing from the configuration.")
            if p.kind is Kind.CATEGORICAL:
                if raw not in p.values:
                    raise RangeError(f"Value '{raw}' is not one of the Values of hyperparameter '{p.name}'.")
                out[sl.start + p.values.index(raw)] = 1.0
            else:
                out[sl.start] = float(p.number_to_unit(_parse_number(p.name, raw, p.kind)))
        return out

    def from_unit(self, vector: Sequence[float] | np.ndarray) -> dict[str, str]:
        """Decode a point of [0, 1]^dim into SageMaker hyperparameter strings."""
        u = np.asarray(vector, dtype=float)
        if u.shape != (self.dim,):
            raise ValueError(f"expected a vector of length {self.dim}, got shape {u.shape}")
        config: dict[str, str] = {}
        for p, sl in zip(self.parameters, self._slices, strict=True):
            if p.kind is Kind.CATEGORICAL:
                config[p.name] = p.values[int(np.argmax(u[sl]))]
            else:
                config[p.name] = p.render(float(p.unit_to_number(u[sl.start])))
        return config

    def snap(self, units: np.ndarray) -> np.ndarray:
        """Round a batch ``(n, dim)`` of unit points to the encodings of the configs they decode to.

        Integer coordinates move to their bin centre and categorical blocks become exact one-hots. The
        Bayesian surrogate applies this before its kernel, so it never sees values no job can run.
        """
        out = np.clip(np.array(units, dtype=float, copy=True), 0.0, 1.0)
        for p, sl in zip(self.parameters, self._slices, strict=True):
            if p.kind is Kind.CATEGORICAL:
                block = np.zeros_like(out[:, sl])
                block[np.arange(len(out)), np.argmax(out[:, sl], axis=1)] = 1.0
                out[:, sl] = block
            elif p.kind is Kind.INTEGER:
                out[:, sl.start] = p.number_to_unit(p.unit_to_number(out[:, sl.start]))
        return out

    def contains(self, config: Mapping[str, str]) -> bool:
        """Whether ``config`` names every parameter with a value inside its range."""
        try:
            for p in self.parameters:
                raw = config[p.name]
                if p.kind is Kind.CATEGORICAL:
                    if raw not in p.values:
                        return False
                elif not p.low <= _parse_number(p.name, raw, p.kind) <= p.high:
                    return False
        except (KeyError, RangeError):
            return False
        return True


def parse_parameter_ranges(ranges: Mapping[str, Any]) -> SearchSpace:
    """Parse a SageMaker ``ParameterRanges`` document; raise ``RangeError`` when it is invalid."""
    params: list[Parameter] = []
    for item in ranges.get("IntegerParameterRanges") or []:
        params.append(_numeric(item, Kind.INTEGER))
    for item in ranges.get("ContinuousParameterRanges") or []:
        params.append(_numeric(item, Kind.CONTINUOUS))
    for item in ranges.get("CategoricalParameterRanges") or []:
        params.append(_categorical(item))
    if len(params) > MAX_TUNABLE:
        raise RangeError(
            f"The number of tunable hyperparameters ({len(params)}) exceeds the maximum of {MAX_TUNABLE}."
        )
    seen: set[str] = set()
    for p in params:
        if p.name in seen:
            raise RangeError(f"The hyperparameter '{p.name}' is specified in more than one parameter range.")
        seen.add(p.name)
    return SearchSpace(params)


def _name(item: Mapping[str, Any]) -> str:
    name = item.get("Name")
    if not isinstance(name, str) or not 1 <= len(name) <= 256:
        raise RangeError("Each parameter range must have a Name of 1 to 256 characters.")
    return name


def _numeric(item: Mapping[str, Any], kind: Kind) -> Parameter:
    name = _name(item)
    for key in ("MinValue", "MaxValue"):
        if not isinstance(item.get(key), str):
            raise RangeError(f"The {key} for hyperparameter '{name}' must be a string.")
    low = _parse_number(name, item["MinValue"], kind)
    high = _parse_number(name, item["MaxValue"], kind)
    if low > high:
        raise RangeError(
            f"The MinValue ({item['MinValue']}) for hyperparameter '{name}' must be less than or equal "
            f"to its MaxValue ({item['MaxValue']})."
        )
    try:
        scaling = Scaling(item.get("ScalingType", "Auto"))
    except ValueError:
        raise RangeError(
            f"The ScalingType '{item.get('ScalingType')}' for hyperparameter '{name}' is not one of "
            "Auto, Linear, Logarithmic, ReverseLogarithmic."
        ) from None
    if scaling is Scaling.AUTO:
        scaling = Scaling.LOGARITHMIC if low > 0 and high / low >= 10 else Scaling.LINEAR
    if scaling is Scaling.LOGARITHMIC and low <= 0:
        raise RangeError(
            f"The MinValue for hyperparameter '{name}' must be greater than 0 for Logarithmic scaling."
        )
    if scaling is Scaling.REVERSE_LOGARITHMIC:
        if kind is Kind.INTEGER:
            raise RangeError(
                f"ReverseLogarithmic scaling is not supported for integer hyperparameter '{name}'."
            )
        if not (0 <= low < high < 1):
            raise RangeError(
                f"ReverseLogarithmic scaling for hyperparameter '{name}' requires "
                "0 <= MinValue < MaxValue < 1."
            )
    return Parameter(name, kind, float(low), float(high), scaling)


def _categorical(item: Mapping[str, Any]) -> Parameter:
    name = _name(item)
    values = item.get("Values")
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise RangeError(f"The Values for categorical hyperparameter '{name}' must be 1 to 30 strings.")
    if len(values) > MAX_CATEGORICAL_VALUES:
        raise RangeError(
            f"The categorical hyperparameter '{name}' has {len(values)} values, more than the "
            f"maximum of {MAX_CATEGORICAL_VALUES}."
        )
    if len(set(values)) != len(values):
        raise RangeError(f"The Values for categorical hyperparameter '{name}' must be unique.")
    return Parameter(name, Kind.CATEGORICAL, values=tuple(values))


def _parse_number(name: str, raw: str, kind: Kind) -> float:
    try:
        exact = int(raw.strip()) if kind is Kind.INTEGER else None
        value = float(exact) if exact is not None else float(raw)
    except (ValueError, AttributeError):
        what = "an integer" if kind is Kind.INTEGER else "a number"
        raise RangeError(f"The value '{raw}' for hyperparameter '{name}' is not {what}.") from None
    # Integers are searched as floats: beyond 2**53 two neighbours are one float, and a proposal could
    # round to a value outside the declared range.
    if exact is not None and abs(exact) > MAX_EXACT_INTEGER:
        raise RangeError(
            f"The value '{raw}' for integer hyperparameter '{name}' is outside the supported range "
            f"-{MAX_EXACT_INTEGER} to {MAX_EXACT_INTEGER}."
        )
    if not math.isfinite(value):
        raise RangeError(f"The value '{raw}' for hyperparameter '{name}' must be finite.")
    return value
