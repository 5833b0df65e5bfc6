"""A small Gaussian process in NumPy: Matern 5/2 kernel with ARD, fitted noise, MAP hyperparameters.

Kept dependency-free (NumPy + SciPy, which scikit-learn already brings) so the Bayesian strategy needs
no torch. The model and priors follow Optuna's ``GPSampler`` (a design that benchmarks well):

* inputs live in the unit cube, targets are standardised by the caller;
* ``k(x, x') = s * matern52(r)``, ``r^2 = sum_i lam_i (x_i - x'_i)^2`` (``lam`` = inverse squared
  length scales), plus ``noise`` on the diagonal;
* log prior ``-(0.1/lam + 0.1 lam)`` per dimension, Gamma(2, 1) on ``s``, Gamma(1.1, 30) on ``noise``,
  which keeps length scales away from both degenerate ends with few points;
* hyperparameters are optimised in log space with L-BFGS-B and analytic gradients, warm-started from
  the previous fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.optimize

MIN_NOISE = 1e-6
_SQRT5 = math.sqrt(5.0)


def _matern(sqd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Matern 5/2 of a squared distance and its derivative with respect to that squared distance."""
    r5 = np.sqrt(5.0 * sqd)
    e = np.exp(-r5)
    return e * (1.0 + r5 + (5.0 / 3.0) * sqd), (-5.0 / 6.0) * (1.0 + r5) * e


@dataclass(frozen=True)
class Hyper:
    """Kernel hyperparameters: inverse squared length scales, kernel scale and noise variance."""

    lam: np.ndarray
    scale: float
    noise: float

    def to_vector(self) -> np.ndarray:
        return np.concatenate([np.log(self.lam), [math.log(self.scale), math.log(self.noise - MIN_NOISE)]])

    @staticmethod
    def from_vector(theta: np.ndarray) -> Hyper:
        return Hyper(np.exp(theta[:-2]), float(np.exp(theta[-2])), MIN_NOISE + float(np.exp(theta[-1])))

    @staticmethod
    def default(dim: int) -> Hyper:
        return Hyper(np.ones(dim), 1.0, 0.01)


def _neg_log_posterior(theta: np.ndarray, sqd: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Negative log marginal likelihood minus log prior, and its gradient in log space."""
    h = Hyper.from_vector(theta)
    n = len(y)
    r2 = sqd @ h.lam
    base, dbase = _matern(r2)
    cov = h.scale * base
    cov[np.diag_indices(n)] += h.noise
    try:
        chol = scipy.linalg.cho_factor(cov, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return 1e25, np.zeros_like(theta)
    alpha = scipy.linalg.cho_solve(chol, y, check_finite=False)
    inv = scipy.linalg.cho_solve(chol, np.eye(n), check_finite=False)
    nll = 0.5 * y @ alpha + np.log(np.diag(chol[0])).sum() + 0.5 * n * math.log(2 * math.pi)
    w = np.outer(alpha, alpha) - inv  # d nll / dK = -w / 2
    grad_lam = -0.5 * h.scale * np.einsum("jk,jkd->d", w * dbase, sqd) * h.lam
    grad_scale = -0.5 * np.sum(w * base) * h.scale
    grad_noise = -0.5 * np.trace(w) * (h.noise - MIN_NOISE)
    log_prior = (
        -(0.1 / h.lam + 0.1 * h.lam).sum()
        + (math.log(h.scale) - h.scale)
        + (0.1 * math.log(h.noise) - 30.0 * h.noise)
    )
    d_prior = np.concatenate(
        [
            0.1 / h.lam - 0.1 * h.lam,
            [1.0 - h.scale, (0.1 / h.noise - 30.0) * (h.noise - MIN_NOISE)],
        ]
    )
    grad = np.concatenate([grad_lam, [grad_scale, grad_noise]]) - d_prior
    return float(nll - log_prior), grad


def fit_hyper(x: np.ndarray, y: np.ndarray, start: Hyper | None = None, maxiter: int = 100) -> Hyper:
    """MAP kernel hyperparameters for inputs ``x`` (n, d) and standardised targets ``y`` (n,)."""
    dim = x.shape[1]
    sqd = (x[:, None, :] - x[None, :, :]) ** 2
    theta0 = (start or Hyper.default(dim)).to_vector()
    bounds = [(math.log(1e-3), math.log(1e4))] * dim + [(math.log(1e-2), math.log(20.0))]
    bounds.append((math.log(1e-9), math.log(2.0)))
    theta0 = np.clip(theta0, [b[0] for b in bounds], [b[1] for b in bounds])
    res = scipy.optimize.minimize(
        _neg_log_posterior, theta0, args=(sqd, y), jac=True, method="L-BFGS-B", bounds=bounds,
        options={"maxiter": maxiter},
    )  # fmt: skip
    return Hyper.from_vector(res.x)


class GaussianProcess:
    """Posterior of a zero-mean GP with fixed hyperparameters, conditioned on ``(x, y)``."""

    def __init__(self, x: np.ndarray, y: np.ndarray, hyper: Hyper) -> None:
        self.x, self.y, self.hyper = x, y, hyper
        cov = self._kernel(x, x)
        cov[np.diag_indices(len(x))] += hyper.noise
        self._chol = scipy.linalg.cholesky(cov, lower=True, check_finite=False)
        self._alpha = scipy.linalg.cho_solve((self._chol, True), y, check_finite=False)

    def _kernel(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        sqd = ((a[:, None, :] - b[None, :, :]) ** 2) @ self.hyper.lam
        return self.hyper.scale * _matern(sqd)[0]

    def predict(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance (of the latent function) at the rows of ``q``."""
        kq = self._kernel(q, self.x)
        mean = kq @ self._alpha
        v = scipy.linalg.solve_triangular(self._chol, kq.T, lower=True, check_finite=False)
        var = np.maximum(self.hyper.scale - np.sum(v * v, axis=0), 1e-12)
        return mean, var

    def predict_with_grad(self, q: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray]:
        """Mean, variance and their gradients at the single point ``q`` (d,)."""
        diff = q[None, :] - self.x
        r2 = (diff * diff) @ self.hyper.lam
        base, dbase = _matern(r2)
        kq = self.hyper.scale * base
        dk = (self.hyper.scale * dbase)[:, None] * 2.0 * diff * self.hyper.lam  # (n, d)
        mean = float(kq @ self._alpha)
        v = scipy.linalg.solve_triangular(self._chol, kq, lower=True, check_finite=False)
        kinv_k = scipy.linalg.solve_triangular(self._chol.T, v, lower=False, check_finite=False)
        var = max(self.hyper.scale - float(v @ v), 1e-12)
        return mean, var, dk.T @ self._alpha, -2.0 * dk.T @ kinv_k

    def condition(self, x_new: np.ndarray, y_new: np.ndarray) -> GaussianProcess:
        """The same model with extra observations (used for pending-trial fantasies)."""
        return GaussianProcess(np.vstack([self.x, x_new]), np.concatenate([self.y, y_new]), self.hyper)
