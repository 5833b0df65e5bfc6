"""Synthetic test functions for the sample-efficiency benchmark (all minimised, known optimum).

Each problem is a name, box bounds per dimension, the optimal value and a function of a float vector.
The noisy Hartmann6 adds Gaussian noise to what the optimiser sees; its regret is measured on the
noise-free value of the trial the optimiser believes best.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Problem:
    name: str
    bounds: tuple[tuple[float, float], ...]
    optimum: float
    fn: Callable[[np.ndarray], float]
    noise: float = 0.0

    @property
    def dim(self) -> int:
        return len(self.bounds)


def branin(x: np.ndarray) -> float:
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return float((x[1] - b * x[0] ** 2 + c * x[0] - 6) ** 2 + 10 * (1 - t) * math.cos(x[0]) + 10)


_H3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_H3_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]])
_H6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def _hartmann(x: np.ndarray, a: np.ndarray, p: np.ndarray) -> float:
    return float(-np.sum(_H_ALPHA * np.exp(-np.sum(a * (x - p) ** 2, axis=1))))


def levy(x: np.ndarray) -> float:
    w = 1 + (x - 1) / 4
    head = math.sin(math.pi * w[0]) ** 2
    mid = np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2))
    tail = (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)
    return float(head + mid + tail)


def ackley(x: np.ndarray) -> float:
    d = len(x)
    s1 = -0.2 * math.sqrt(np.sum(x * x) / d)
    s2 = np.sum(np.cos(2 * math.pi * x)) / d
    return float(-20 * math.exp(s1) - math.exp(s2) + 20 + math.e)


def rosenbrock(x: np.ndarray) -> float:
    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def styblinski_tang(x: np.ndarray) -> float:
    return float(0.5 * np.sum(x**4 - 16 * x**2 + 5 * x))


PROBLEMS: tuple[Problem, ...] = (
    Problem("Branin", ((-5.0, 10.0), (0.0, 15.0)), 0.397887357729739, branin),
    Problem("Hartmann3", ((0.0, 1.0),) * 3, -3.86278214782076, lambda x: _hartmann(x, _H3_A, _H3_P)),
    Problem("Hartmann6", ((0.0, 1.0),) * 6, -3.32236801141551, lambda x: _hartmann(x, _H6_A, _H6_P)),
    Problem("Levy4", ((-10.0, 10.0),) * 4, 0.0, levy),
    Problem("Ackley6", ((-32.768, 32.768),) * 6, 0.0, ackley),
    Problem("Rosenbrock4", ((-5.0, 10.0),) * 4, 0.0, rosenbrock),
    Problem("StyblinskiTang8", ((-5.0, 5.0),) * 8, -39.16616570377142 * 8, styblinski_tang),
    Problem(
        "NoisyHartmann6", ((0.0, 1.0),) * 6, -3.32236801141551, lambda x: _hartmann(x, _H6_A, _H6_P), 0.1
    ),
)
