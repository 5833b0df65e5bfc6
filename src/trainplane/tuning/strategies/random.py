"""Random search: every suggestion is an independent draw from the ranges (respecting ScalingType).

A uniform point of the unit cube decodes to a uniform draw on each parameter's scaled axis (see
``trainplane.tuning.space``), so sampling is just ``from_unit(rng.random(dim))``. The history is
ignored, which is why parallelism does not hurt random search.
"""

from __future__ import annotations

from trainplane.tuning.strategies.base import History, Strategy


class RandomStrategy(Strategy):
    def suggest(self, history: History) -> dict[str, str] | None:
        return self.space.from_unit(self._next_rng().random(self.space.dim))
