"""Log expected improvement and its optimisation over a mixed (continuous/integer/categorical) cube.

Log-EI instead of EI: far from the incumbent EI underflows to exactly 0 and every candidate ties,
while its logarithm still ranks them (Ament et al., 2023, "Unexpected improvements to EI").

The optimiser is a three-stage search, cheap enough to stay inside the suggestion-time budget:

1. score many random points plus perturbations of the best observed points;
2. refine the best few by stochastic local search with a shrinking step, snapping every candidate to
   a runnable configuration, which is what moves integer and categorical coordinates;
3. polish the best few with L-BFGS-B on the continuous coordinates only (analytic gradients), the
   discrete ones held fixed, for the precision that random steps cannot reach.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import scipy.optimize
import scipy.special

from trainplane.tuning.gp import GaussianProcess
from trainplane.tuning.space import SearchSpace

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_SQRT_HALF_PI = math.sqrt(math.pi / 2)


def _log_h(z: np.ndarray) -> np.ndarray:
    """log(phi(z) + z * Phi(z)), stable for very negative z."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    mid = z > -25.0
    zm = z[mid]
    # phi(z) + z Phi(z) = phi(z) * (1 + z * Phi(z) / phi(z)); Phi/phi = sqrt(pi/2) * erfcx(-z / sqrt 2).
    inner = 1.0 + zm * _SQRT_HALF_PI * scipy.special.erfcx(-zm / math.sqrt(2))
    out[mid] = -0.5 * zm * zm - _LOG_SQRT_2PI + np.log(np.maximum(inner, 1e-300))
    zt = z[~mid]
    out[~mid] = -0.5 * zt * zt - _LOG_SQRT_2PI - 2.0 * np.log(-zt)  # Mills-ratio asymptote
    return out


def log_ei(gp: GaussianProcess, q: np.ndarray, best: float) -> np.ndarray:
    """Log expected improvement over ``best`` (targets are maximised) at the rows of ``q``."""
    mean, var = gp.predict(q)
    sd = np.sqrt(var)
    return np.log(sd) + _log_h((mean - best) / sd)


def _log_ei_and_grad(gp: GaussianProcess, q: np.ndarray, best: float) -> tuple[float, np.ndarray]:
    mean, var, dmean, dvar = gp.predict_with_grad(q)
    sd = math.sqrt(var)
    z = (mean - best) / sd
    log_h = float(_log_h(np.array([z]))[0])
    # d log(sd * h(z)) = dsd/sd + h'(z)/h(z) dz, h'(z) = Phi(z), dz = dmean/sd - z dsd/sd.
    ratio = math.exp(float(scipy.special.log_ndtr(z)) - log_h)
    dsd = dvar / (2 * sd)
    grad = dsd / sd + ratio * (dmean / sd - z * dsd / sd)
    return math.log(sd) + log_h, grad


def maximize_log_ei(
    gp: GaussianProcess,
    space: SearchSpace,
    best: float,
    anchors: np.ndarray,
    rng: np.random.Generator,
    n_random: int = 1024,
    n_local: int = 6,
    n_polish: int = 2,
    penalty: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """The snapped unit point with the highest log-EI found; ``anchors`` are good observed points.

    ``penalty`` (log of an expected cost per point) is subtracted from log-EI: the score is then
    log(EI / expected cost), expected improvement per unit spent. Gradient polishing is skipped then.
    """
    score_of = _scorer(gp, best, penalty)
    dim = space.dim
    pools = [rng.random((n_random, dim))]
    if len(anchors):
        picks = anchors[rng.integers(len(anchors), size=n_random // 2)]
        pools.append(picks + rng.normal(scale=0.05, size=picks.shape))
    cand = space.snap(np.vstack(pools))
    score = score_of(cand)
    order = np.argsort(-score)[:n_local]
    starts, start_scores = cand[order], score[order]
    starts, start_scores = _local_search(score_of, space, starts, start_scores, rng)
    continuous = _continuous_mask(space)
    if continuous.any() and penalty is None:
        for i in np.argsort(-start_scores)[:n_polish]:
            x, s = _polish(gp, space, best, starts[i], continuous)
            if s > start_scores[i]:
                starts[i], start_scores[i] = x, s
    return starts[int(np.argmax(start_scores))]


def _scorer(
    gp: GaussianProcess, best: float, penalty: Callable[[np.ndarray], np.ndarray] | None
) -> Callable[[np.ndarray], np.ndarray]:
    if penalty is None:
        return lambda q: log_ei(gp, q, best)
    return lambda q: log_ei(gp, q, best) - penalty(q)


def _local_search(
    score_of: Callable[[np.ndarray], np.ndarray],
    space: SearchSpace,
    x: np.ndarray,
    s: np.ndarray,
    rng: np.random.Generator,
    steps: int = 10,
    per_step: int = 24,
) -> tuple[np.ndarray, np.ndarray]:
    x, s = x.copy(), s.copy()
    k, dim = x.shape
    for step in range(steps):
        sigma = 0.2 * 0.5**step
        trial = space.snap(np.repeat(x, per_step, axis=0) + rng.normal(scale=sigma, size=(k * per_step, dim)))
        ts = score_of(trial).reshape(k, per_step)
        j = np.argmax(ts, axis=1)
        better = ts[np.arange(k), j] > s
        x[better] = trial.reshape(k, per_step, dim)[np.arange(k), j][better]
        s[better] = ts[np.arange(k), j][better]
    return x, s


def _continuous_mask(space: SearchSpace) -> np.ndarray:
    mask = []
    for p in space.parameters:
        mask += [p.kind.value == "Continuous"] * p.width
    return np.array(mask, dtype=bool)


def _polish(
    gp: GaussianProcess, space: SearchSpace, best: float, x0: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, float]:
    def negative(xc: np.ndarray) -> tuple[float, np.ndarray]:
        x = x0.copy()
        x[mask] = xc
        value, grad = _log_ei_and_grad(gp, x, best)
        if not math.isfinite(value):
            return 1e10, np.zeros_like(xc)
        return -value, -grad[mask]

    res = scipy.optimize.minimize(
        negative, x0[mask], jac=True, method="L-BFGS-B", bounds=[(0.0, 1.0)] * int(mask.sum()),
        options={"maxiter": 50},
    )  # fmt: skip
    x = x0.copy()
    x[mask] = res.x
    return x, float(-res.fun)
