r"""Hamiltonian Monte Carlo for many chains at once, as pure functions over stacked tensors.

The state of ``n_chains`` chains is a tensor ``theta`` of shape (n_chains, n_params); the
target is given as a function returning ``(log_prob, grad)`` of shapes (n_chains,) and
(n_chains, n_params), so that one call evaluates every chain (one batched forward/backward).
Each chain has its own step size; the number of leapfrog steps is shared (one program).

- leapfrog integration with a diagonal mass matrix :math:`M` given by its inverse
  ``inv_mass`` (unit mass when None) (Neal, *MCMC using Hamiltonian dynamics*, Handbook of
  MCMC (2011), arXiv:1206.1901, eq. 5.18-5.20 and Sec. 4.1);
- Metropolis correction with :math:`H = -\ln p(\theta) + \tfrac12 r^\top M^{-1} r`,
  :math:`r \sim \mathcal N(0, M)`, :math:`a = \min(1, e^{-\Delta H})`;
- a transition whose energy error exceeds ``max_energy_error`` (or is not finite) is flagged
  *divergent* and rejected (threshold 1000 as in Stan and pyro);
- the initial step size by Hoffman & Gelman, JMLR 15 (2014) 1593, arXiv:1111.4246,
  Algorithm 4, and its adaptation during burn-in by their dual averaging (Sec. 3.2, eq. 6,
  :math:`\gamma = 0.05`, :math:`t_0 = 10`, :math:`\kappa = 0.75`, :math:`\mu = \ln 10\epsilon_0`);
- the trajectory length is jittered uniformly by a fraction ``jitter`` each iteration
  (Neal 2011, Sec. 5.4.2.2), which breaks periodic orbits.

The random numbers come from torch's global generator on the device of ``theta``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

__all__ = [
    "ChainResult",
    "DualAveraging",
    "find_initial_step_size",
    "hmc_transition",
    "leapfrog",
    "run_chains",
]

LogProbGrad = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]

MAX_ENERGY_ERROR = 1000.0  # Stan, pyro


def leapfrog(
    theta: torch.Tensor,
    momentum: torch.Tensor,
    grad: torch.Tensor,
    step_size: torch.Tensor,
    n_steps: int,
    log_prob_and_grad: LogProbGrad,
    inv_mass: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Integrate Hamilton's equations with ``n_steps`` leapfrog steps.

    Parameters
    ----------
    theta, momentum, grad : Tensor of shape (n_chains, n_params)
        Position, momentum and the gradient of the log density at ``theta``.
    step_size : Tensor of shape (n_chains,)
    n_steps : int
    log_prob_and_grad : callable
        ``theta -> (log_prob (n_chains,), grad (n_chains, n_params))``.
    inv_mass : Tensor of shape (n_chains, n_params), optional
        Diagonal of the inverse mass matrix; unit mass when None.

    Returns
    -------
    theta, momentum, log_prob, grad
        At the end of the trajectory.
    """
    eps = step_size[:, None]
    velocity_scale = eps if inv_mass is None else eps * inv_mass
    momentum = momentum + 0.5 * eps * grad
    for i in range(n_steps):
        theta = theta + velocity_scale * momentum
        log_prob, grad = log_prob_and_grad(theta)
        momentum = momentum + (eps if i < n_steps - 1 else 0.5 * eps) * grad
    return theta, momentum, log_prob, grad


def _energy(
    log_prob: torch.Tensor, momentum: torch.Tensor, inv_mass: torch.Tensor | None
) -> torch.Tensor:
    kinetic = momentum * momentum if inv_mass is None else momentum * momentum * inv_mass
    return -log_prob + 0.5 * kinetic.sum(dim=1)


def _momentum(theta: torch.Tensor, inv_mass: torch.Tensor | None) -> torch.Tensor:
    """Draw ``r ~ N(0, M)``."""
    r = torch.randn_like(theta)
    return r if inv_mass is None else r * torch.rsqrt(inv_mass)


def _energy_error(h0: torch.Tensor, h1: torch.Tensor) -> torch.Tensor:
    """``h1 - h0`` with NaN (a blown-up trajectory) mapped to +inf."""
    dh = h1 - h0
    return torch.where(torch.isnan(dh), torch.full_like(dh, math.inf), dh)


def hmc_transition(
    theta: torch.Tensor,
    log_prob: torch.Tensor,
    grad: torch.Tensor,
    step_size: torch.Tensor,
    n_steps: int,
    log_prob_and_grad: LogProbGrad,
    max_energy_error: float = MAX_ENERGY_ERROR,
    inv_mass: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One HMC transition of every chain: fresh momentum, leapfrog, Metropolis step.

    Returns
    -------
    theta, log_prob, grad : Tensor
        The new state (the old one where the proposal was rejected).
    accept_prob : Tensor of shape (n_chains,)
        :math:`\\min(1, e^{-\\Delta H})`.
    divergent : Tensor of bool, shape (n_chains,)
        Energy error above ``max_energy_error`` or not finite.
    """
    momentum = _momentum(theta, inv_mass)
    h0 = _energy(log_prob, momentum, inv_mass)
    theta1, momentum1, log_prob1, grad1 = leapfrog(
        theta, momentum, grad, step_size, n_steps, log_prob_and_grad, inv_mass
    )
    dh = _energy_error(h0, _energy(log_prob1, momentum1, inv_mass))
    accept_prob = torch.exp(torch.clamp(-dh, max=0.0))
    accept = torch.rand_like(accept_prob) < accept_prob
    theta = torch.where(accept[:, None], theta1, theta)
    log_prob = torch.where(accept, log_prob1, log_prob)
    grad = torch.where(accept[:, None], grad1, grad)
    return theta, log_prob, grad, accept_prob, dh > max_energy_error


def find_initial_step_size(
    theta: torch.Tensor,
    log_prob: torch.Tensor,
    grad: torch.Tensor,
    log_prob_and_grad: LogProbGrad,
    initial: float = 1.0,
    max_doublings: int = 60,
    inv_mass: torch.Tensor | None = None,
) -> torch.Tensor:
    """Per-chain step size whose single leapfrog step is accepted with probability ~1/2.

    Hoffman & Gelman (2014), Algorithm 4: double (or halve) until the acceptance ratio of one
    step crosses 1/2.

    Returns
    -------
    Tensor of shape (n_chains,)
    """
    n = theta.shape[0]
    step = theta.new_full((n,), initial)
    momentum = _momentum(theta, inv_mass)
    h0 = _energy(log_prob, momentum, inv_mass)

    def log_ratio(eps: torch.Tensor) -> torch.Tensor:
        _, m1, lp1, _ = leapfrog(theta, momentum, grad, eps, 1, log_prob_and_grad, inv_mass)
        return -_energy_error(h0, _energy(lp1, m1, inv_mass))

    lr = log_ratio(step)
    direction = torch.where(lr > -math.log(2.0), 1.0, -1.0).to(theta.dtype)
    active = torch.ones(n, dtype=torch.bool, device=theta.device)
    for _ in range(max_doublings):
        active &= direction * lr > -direction * math.log(2.0)
        if not active.any():
            break
        step = torch.where(active, step * 2.0**direction, step)
        lr = torch.where(active, log_ratio(step), lr)
    return step


@dataclass
class DualAveraging:
    """Dual-averaging step-size adaptation state of every chain (Hoffman & Gelman 2014).

    Attributes
    ----------
    mu : Tensor of shape (n_chains,)
        Shrinkage point, ``ln(10 eps_0)``.
    log_step, log_step_avg, h_bar : Tensor of shape (n_chains,)
    t : int
        Number of updates so far.
    """

    mu: torch.Tensor
    log_step: torch.Tensor
    log_step_avg: torch.Tensor
    h_bar: torch.Tensor
    t: int = 0
    gamma: float = 0.05  # Hoffman & Gelman (2014)
    t0: float = 10.0  # Hoffman & Gelman (2014)
    kappa: float = 0.75  # Hoffman & Gelman (2014)

    @classmethod
    def start(cls, step_size: torch.Tensor) -> DualAveraging:
        """Begin adaptation from the initial per-chain step sizes."""
        log_step = torch.log(step_size)
        return cls(mu=log_step + math.log(10.0), log_step=log_step,
                   log_step_avg=torch.zeros_like(log_step), h_bar=torch.zeros_like(log_step))

    def update(self, accept_prob: torch.Tensor, target: float) -> DualAveraging:
        """Next state after an iteration with acceptance probabilities ``accept_prob``."""
        t = self.t + 1
        eta = 1.0 / (t + self.t0)
        h_bar = (1 - eta) * self.h_bar + eta * (target - accept_prob)
        log_step = self.mu - math.sqrt(t) / self.gamma * h_bar
        w = t ** (-self.kappa)
        log_step_avg = w * log_step + (1 - w) * self.log_step_avg
        return DualAveraging(self.mu, log_step, log_step_avg, h_bar, t,
                             self.gamma, self.t0, self.kappa)

    @property
    def step_size(self) -> torch.Tensor:
        """Step size of the next burn-in iteration."""
        return torch.exp(self.log_step)

    @property
    def final_step_size(self) -> torch.Tensor:
        """Averaged step size used after burn-in."""
        return torch.exp(self.log_step_avg)


@dataclass
class ChainResult:
    """Draws and per-iteration diagnostics of :func:`run_chains`.

    Attributes
    ----------
    draws : Tensor of shape (n_chains, n_samples, n_params)
    accept_prob : Tensor of shape (n_iterations, n_chains)
        Burn-in first, then sampling iterations.
    divergent : Tensor of bool, shape (n_iterations, n_chains)
    step_size : Tensor of shape (n_iterations, n_chains)
    n_leapfrog : list of int
        Leapfrog steps of each iteration.
    n_burnin : int
    """

    draws: torch.Tensor
    accept_prob: torch.Tensor
    divergent: torch.Tensor
    step_size: torch.Tensor
    n_leapfrog: list[int]
    n_burnin: int


def run_chains(
    log_prob_and_grad: LogProbGrad,
    theta0: torch.Tensor,
    *,
    n_burnin: int,
    n_samples: int,
    thin: int = 1,
    n_leapfrog: int = 20,
    jitter: float = 0.2,
    target_accept: float = 0.65,
    max_energy_error: float = MAX_ENERGY_ERROR,
    inv_mass: torch.Tensor | None = None,
    progress: bool = False,
    desc: str = "hmc",
) -> ChainResult:
    """Run ``n_chains`` HMC chains: adapt the step size during burn-in, then sample.

    Parameters
    ----------
    log_prob_and_grad : callable
        ``theta (n_chains, n_params) -> (log_prob (n_chains,), grad (n_chains, n_params))``.
    theta0 : Tensor of shape (n_chains, n_params)
        Starting points.
    n_burnin : int
        Adaptation iterations, discarded.
    n_samples : int
        Draws kept per chain, one every ``thin`` iterations after burn-in.
    n_leapfrog : int
        Mean leapfrog steps per trajectory; each iteration draws the number uniformly from
        ``[(1 - jitter) n_leapfrog, (1 + jitter) n_leapfrog]``.
    target_accept : float
        Target mean acceptance probability of the adaptation; 0.65 is optimal for HMC in high
        dimension (Beskos et al., Bernoulli 19 (2013) 1501).
    inv_mass : Tensor of shape (n_chains, n_params), optional
        Diagonal inverse mass matrix, fixed for the run; unit mass when None.

    Returns
    -------
    ChainResult
    """
    theta = theta0.detach().clone()
    log_prob, grad = log_prob_and_grad(theta)
    adapt = DualAveraging.start(
        find_initial_step_size(theta, log_prob, grad, log_prob_and_grad, inv_mass=inv_mass)
    )
    step = adapt.step_size
    lo = max(1, round(n_leapfrog * (1 - jitter)))
    hi = max(lo, round(n_leapfrog * (1 + jitter)))
    n_iter = n_burnin + n_samples * thin
    draws, accepts, divs, steps, lengths = [], [], [], [], []
    bar = tqdm(range(n_iter), desc=desc, disable=not progress)
    for it in bar:
        n_steps = int(torch.randint(lo, hi + 1, ()).item())
        theta, log_prob, grad, acc, div = hmc_transition(
            theta, log_prob, grad, step, n_steps, log_prob_and_grad, max_energy_error, inv_mass
        )
        accepts.append(acc)
        divs.append(div)
        steps.append(step)
        lengths.append(n_steps)
        if it < n_burnin:
            adapt = adapt.update(acc, target_accept)
            step = adapt.step_size if it < n_burnin - 1 else adapt.final_step_size
        elif (it - n_burnin + 1) % thin == 0:
            draws.append(theta.detach().clone())
        if progress and it % 10 == 0:
            bar.set_postfix(
                accept=f"{torch.stack(accepts[-10:]).mean().item():.2f}",
                step=f"{step.median().item():.2e}",
                divergent=int(torch.stack(divs).sum().item()),
            )
    return ChainResult(
        draws=torch.stack(draws, dim=1),
        accept_prob=torch.stack(accepts),
        divergent=torch.stack(divs),
        step_size=torch.stack(steps),
        n_leapfrog=lengths,
        n_burnin=n_burnin,
    )
