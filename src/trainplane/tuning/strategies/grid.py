"""Grid search: the Cartesian product of the categorical ranges, each combination once.

Order: ranges in the order they were given, values in the order listed, the *last* range varying
fastest (``itertools.product`` order). For ranges ``a: [x, y]`` and ``b: [1, 2]`` that is
``(x,1), (x,2), (y,1), (y,2)``.

The strategy keeps no position of its own: it proposes the first combination not yet present in the
history (whatever that trial's status), so a resumed or replayed control loop can never launch a
combination twice, and ``suggest`` returns ``None`` once all are taken.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

from trainplane.tuning.space import Kind, RangeError, SearchSpace
from trainplane.tuning.strategies.base import History, Strategy

MAX_GRID_SIZE = 750


def grid_size(space: SearchSpace) -> int:
    """Number of combinations; raises ``RangeError`` unless every range is categorical and there are
    at most 750 combinations (the Grid quota)."""
    if not space.parameters:
        raise RangeError("The Grid strategy requires at least one CategoricalParameterRange.")
    for p in space.parameters:
        if p.kind is not Kind.CATEGORICAL:
            raise RangeError(
                f"The Grid strategy supports only CategoricalParameterRanges; '{p.name}' is {p.kind.value}."
            )
    size = math.prod(len(p.values) for p in space.parameters)
    if size > MAX_GRID_SIZE:
        raise RangeError(
            f"The Grid strategy allows at most {MAX_GRID_SIZE} combinations; the ranges give {size}."
        )
    return size


def grid_configs(space: SearchSpace) -> Iterator[dict[str, str]]:
    """Every combination, in the documented order."""
    names = space.names
    for combo in itertools.product(*(p.values for p in space.parameters)):
        yield dict(zip(names, combo, strict=True))


class GridStrategy(Strategy):
    def __init__(self, space: SearchSpace, *, seed: int | None = None) -> None:
        grid_size(space)  # validate up front
        super().__init__(space, seed=seed)

    def suggest(self, history: History) -> dict[str, str] | None:
        names = self.space.names
        taken = {tuple(t.config.get(n) for n in names) for t in history.trials}
        for config in grid_configs(self.space):
            if tuple(config[n] for n in names) not in taken:
                self._suggestions += 1
                return config
        return None
