"""HMC kernels of surrogates.bnn.hmc: reversibility, integrator order, adaptation, divergences."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from surrogates.bnn.hmc import (
    DualAveraging,
    find_initial_step_size,
    hmc_transition,
    leapfrog,
    run_chains,
)


def _gaussian(scales: torch.Tensor):
    """Zero-mean Gaussian with per-coordinate std ``scales``: log_prob_and_grad."""

    def log_prob_and_grad(theta):
        lp = -0.5 * ((theta / scales) ** 2).sum(dim=1)
        return lp, -theta / scales**2

    return log_prob_and_grad


def _banana(theta):
    """Non-quadratic 2-d target (Rosenbrock-like), so leapfrog is not trivially exact."""
    x, y = theta[:, 0], theta[:, 1]
    lp = -0.5 * x**2 - 0.5 * (y - x**2) ** 2 * 4
    grad = torch.stack([-x + 8 * (y - x**2) * x, -4 * (y - x**2)], dim=1)
    return lp, grad


def test_leapfrog_is_reversible():
    torch.manual_seed(0)
    theta = torch.randn(5, 2, dtype=torch.float64)
    momentum = torch.randn_like(theta)
    _, grad = _banana(theta)
    step = torch.full((5,), 0.05, dtype=torch.float64)
    t1, p1, _, g1 = leapfrog(theta, momentum, grad, step, 40, _banana)
    assert not torch.allclose(t1, theta)
    t2, p2, _, _ = leapfrog(t1, -p1, g1, step, 40, _banana)
    # exact in exact arithmetic; 80 float64 steps lose at most ~1e-13
    torch.testing.assert_close(t2, theta, rtol=0, atol=1e-10)
    torch.testing.assert_close(-p2, momentum, rtol=0, atol=1e-10)


def test_leapfrog_with_mass_matrix_is_reversible():
    torch.manual_seed(6)
    theta = torch.randn(5, 2, dtype=torch.float64)
    inv_mass = torch.rand(5, 2, dtype=torch.float64) + 0.2
    momentum = torch.randn_like(theta)
    _, grad = _banana(theta)
    step = torch.full((5,), 0.05, dtype=torch.float64)
    t1, p1, _, g1 = leapfrog(theta, momentum, grad, step, 40, _banana, inv_mass)
    t2, p2, _, _ = leapfrog(t1, -p1, g1, step, 40, _banana, inv_mass)
    torch.testing.assert_close(t2, theta, rtol=0, atol=1e-10)
    torch.testing.assert_close(-p2, momentum, rtol=0, atol=1e-10)


def test_mass_matrix_matching_the_scales_allows_unit_steps():
    """With M^-1 = covariance, a badly scaled Gaussian becomes isotropic: leapfrog is stable
    up to step 2 whatever the scales (Neal 2011, Sec. 4.1)."""
    torch.manual_seed(7)
    scales = torch.tensor([1e-3, 1.0, 1e3], dtype=torch.float64)
    lpg = _gaussian(scales)
    theta = torch.randn(4, 3, dtype=torch.float64) * scales
    lp, grad = lpg(theta)
    inv_mass = (scales**2).expand(4, 3)
    step = torch.full((4,), 1.5, dtype=torch.float64)
    _, _, _, acc, div = hmc_transition(theta, lp, grad, step, 20, lpg, inv_mass=inv_mass)
    assert not div.any() and acc.min() > 0.1
    _, _, _, acc, div = hmc_transition(theta, lp, grad, step, 20, lpg)
    assert div.all()


def test_leapfrog_energy_error_is_second_order():
    """Over a fixed time, leapfrog's energy error scales as step^2 (Neal 2011, Sec. 5.2.3.3)."""
    torch.manual_seed(1)
    theta = torch.randn(8, 2, dtype=torch.float64) * 0.5
    momentum = torch.randn_like(theta)
    lp0, grad = _banana(theta)
    h0 = -lp0 + 0.5 * (momentum**2).sum(1)
    errors = []
    for n in (20, 40):
        step = torch.full((8,), 1.0 / n, dtype=torch.float64)
        _, p, lp, _ = leapfrog(theta, momentum, grad, step, n, _banana)
        errors.append((-lp + 0.5 * (p**2).sum(1) - h0).abs().max().item())
    assert errors[0] / errors[1] == pytest.approx(4.0, rel=0.25)


def test_adaptation_reaches_target_acceptance():
    torch.manual_seed(2)
    scales = torch.linspace(0.5, 2.0, 100, dtype=torch.float64)
    target = 0.65
    res = run_chains(_gaussian(scales), torch.randn(4, 100, dtype=torch.float64) * scales,
                     n_burnin=500, n_samples=300, n_leapfrog=10, target_accept=target)
    nb = res.n_burnin
    # dual averaging drives the running mean of (target - accept) to zero: the second half of
    # burn-in averages to the target within its standard error (momenta are refreshed every
    # iteration, so iterations are treated as independent)
    burn = res.accept_prob[nb // 2 : nb].numpy()
    assert abs(burn.mean() - target) < 4 * burn.std() / math.sqrt(burn.size)
    # the averaged step that is frozen afterwards sits on the stable side of the burn-in
    # iterates' spread, which raises the acceptance by a few percent (as in Stan)
    acc = res.accept_prob[nb:].numpy()
    assert target - 4 * acc.std() / math.sqrt(acc.size) < acc.mean() < target + 0.08
    assert torch.equal(res.step_size[nb], res.step_size[-1])


def test_sampler_recovers_gaussian_moments():
    torch.manual_seed(3)
    scales = torch.tensor([0.1, 1.0, 3.0], dtype=torch.float64)
    res = run_chains(_gaussian(scales), torch.zeros(8, 3, dtype=torch.float64), n_burnin=200,
                     n_samples=500, n_leapfrog=15)
    draws = res.draws.reshape(-1, 3)
    import arviz as az

    ess = az.ess(az.convert_to_dataset(res.draws.numpy()))["x"].values
    z_mean = draws.mean(0).numpy() / (scales.numpy() / np.sqrt(ess))
    z_var = (draws.var(0).numpy() - scales.numpy() ** 2) / (scales.numpy() ** 2 * np.sqrt(2 / ess))
    assert np.all(np.abs(z_mean) < 4) and np.all(np.abs(z_var) < 4)
    assert res.divergent[res.n_burnin :].sum() == 0


def test_divergent_transition_is_flagged_and_rejected():
    torch.manual_seed(4)
    lpg = _gaussian(torch.ones(10, dtype=torch.float64))
    theta = torch.randn(3, 10, dtype=torch.float64)
    lp, grad = lpg(theta)
    step = torch.tensor([0.1, 50.0, 0.1], dtype=torch.float64)  # middle chain: unstable (> 2)
    t1, lp1, _, acc, div = hmc_transition(theta, lp, grad, step, 20, lpg)
    assert div.tolist() == [False, True, False]
    assert acc[1] == 0
    assert torch.equal(t1[1], theta[1]) and lp1[1] == lp[1]


def test_initial_step_size_brackets_half_acceptance():
    """Hoffman & Gelman (2014), Algorithm 4: from 1, halving stops at the first step whose
    single-leapfrog acceptance is >= 1/2, so twice that step is accepted with < 1/2."""
    scales = torch.full((2,), 0.01, dtype=torch.float64)  # 200 chains, each its own bracket
    lpg = _gaussian(scales)
    theta = torch.randn(200, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    theta *= 0.01
    lp, grad = lpg(theta)
    torch.manual_seed(5)
    step = find_initial_step_size(theta, lp, grad, lpg)
    torch.manual_seed(5)
    momentum = torch.randn_like(theta)  # the momentum the search drew

    def accept(eps):
        _, p1, lp1, _ = leapfrog(theta, momentum, grad, eps, 1, lpg)
        return torch.exp(lp1 - lp - 0.5 * (p1**2).sum(1) + 0.5 * (momentum**2).sum(1))

    assert torch.all(accept(step) >= 0.5) and torch.all(accept(2 * step) < 0.5)


def test_dual_averaging_shrinks_step_of_low_acceptance():
    da = DualAveraging.start(torch.tensor([1.0, 1.0]))
    for _ in range(20):
        da = da.update(torch.tensor([0.1, 0.99]), target=0.65)
    assert da.step_size[0] < 1.0 < da.step_size[1]
    assert da.final_step_size[0] < 1.0 < da.final_step_size[1]


def _correlated(theta):
    """Gaussian with stds (1, 2) and correlation 0.9."""
    cov = torch.tensor([[1.0, 1.8], [1.8, 4.0]], dtype=torch.float64)
    prec = torch.linalg.inv(cov)
    return -0.5 * ((theta @ prec) * theta).sum(1), -theta @ prec


def _mild_banana(theta):
    """x ~ N(0, 1), y | x ~ N(x^2 / 2, 1): curved, non-Gaussian, known moments."""
    x, y = theta[:, 0], theta[:, 1]
    r = y - 0.5 * x**2
    return -0.5 * x**2 - 0.5 * r**2, torch.stack([-x + r * x, -r], dim=1)


@pytest.mark.parametrize(
    ("target", "expectations"),
    [
        # E[x1], E[x2], E[x1^2], E[x2^2], E[x1 x2]
        (_correlated, [0.0, 0.0, 1.0, 4.0, 1.8]),
        # E[x], E[y], E[x^2], Var y = Var(x^2) / 4 + 1, E[x y] = E[x^3] / 2. (On _banana,
        # y | x ~ N(x^2, 1/4), a fixed step diverges in the tails and E[y] came out 0.81.)
        (_mild_banana, [0.0, 0.5, 1.0, 1.5, 0.0]),
    ],
    ids=["correlated", "banana"],
)
def test_sampler_recovers_known_moments_of_non_isotropic_targets(target, expectations):
    """Each moment within 4 Monte Carlo standard errors, std(g) / sqrt(ESS(g)) with the
    bulk ESS of g's own chains (arviz), so the tolerance follows the sampler's mixing."""
    import arviz as az

    torch.manual_seed(8)
    res = run_chains(target, torch.zeros(8, 2, dtype=torch.float64), n_burnin=300,
                     n_samples=600, n_leapfrog=15)
    a, b = res.draws[..., 0].numpy(), res.draws[..., 1].numpy()
    centre = 0.5 if target is _mild_banana else 0.0
    functions = [a, b, a**2, (b - centre) ** 2, a * b]
    for g, expected in zip(functions, expectations, strict=True):
        ess = az.ess(g)
        z = (g.mean() - expected) / (g.std() / np.sqrt(ess))
        assert abs(z) < 4, (expected, g.mean(), ess)
    if target is _correlated:  # the banana's far tails are stiffer than any one step allows
        assert res.divergent[res.n_burnin :].sum() == 0


def test_trajectory_lengths_are_jittered_uniformly():
    """n_leapfrog = 10, jitter 0.2: lengths uniform on {8, ..., 12}; a chi^2 test at 0.1 %."""
    from scipy.stats import chisquare

    torch.manual_seed(9)
    res = run_chains(_gaussian(torch.ones(2, dtype=torch.float64)),
                     torch.zeros(2, 2, dtype=torch.float64), n_burnin=100, n_samples=400,
                     n_leapfrog=10, jitter=0.2)
    counts = np.bincount(res.n_leapfrog, minlength=13)
    assert counts[:8].sum() == 0 and len(res.n_leapfrog) == 500
    assert chisquare(counts[8:]).pvalue > 1e-3


# ------------------------------------------------- hierarchical BNN posterior vs a long RWM chain
_SIGMA = 0.3  # known noise of the tiny regression
_X = np.linspace(-1.0, 1.0, 8)
_Z = np.sin(2 * _X) + _SIGMA * np.random.default_rng(0).standard_normal(8)


def _tiny_net(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """1 -> 2 (tanh) -> 1 network on the layout [W1 (2), b1 (2), W2 (2), b2, ln s (4)]."""
    w1, b1, w2, b2 = theta[:, 0:2], theta[:, 2:4], theta[:, 4:6], theta[:, 6]
    h = np.tanh(x[None, :, None] * w1[:, None, :] + b1[:, None, :])
    return (h * w2[:, None, :]).sum(2) + b2[:, None]


def _tiny_log_posterior(theta: np.ndarray) -> np.ndarray:
    """Written out independently of BNNPosterior/WeightPrior: Gaussian likelihood, Cauchy(0, s)
    weights with one scale per weight matrix and bias vector, half-Cauchy(1) on each s taken in
    u = ln s (Jacobian e^u); constants dropped."""
    lp = -0.5 * ((_Z - _tiny_net(theta, _X)) ** 2).sum(1) / _SIGMA**2
    u = theta[:, 7:]
    for k, (lo, hi) in enumerate(((0, 2), (2, 4), (4, 6), (6, 7))):
        r = theta[:, lo:hi] / np.exp(u[:, k : k + 1])
        lp += (-u[:, k : k + 1] - np.log1p(r * r)).sum(1)
    return lp + (u - np.log1p(np.exp(2 * u))).sum(1)


def _random_walk_metropolis(n_chains: int, n_iter: int, seed: int) -> np.ndarray:
    """Reference draws (n_chains, n_kept, 11): isotropic random-walk Metropolis whose step is
    tuned towards 25 % acceptance during the first half, which is then discarded."""
    rng = np.random.default_rng(seed)
    theta = 0.1 * rng.standard_normal((n_chains, 11))
    lp = _tiny_log_posterior(theta)
    step, accepted, kept = 0.05, 0.0, []
    for it in range(n_iter):
        proposal = theta + step * rng.standard_normal(theta.shape)
        lp_new = _tiny_log_posterior(proposal)
        accept = np.log(rng.random(n_chains)) < lp_new - lp
        theta[accept], lp[accept] = proposal[accept], lp_new[accept]
        accepted += accept.mean()
        if it < n_iter // 2 and it % 100 == 99:
            step *= math.exp(accepted / 100 - 0.25)
            accepted = 0.0
        if it >= n_iter // 2 and it % 5 == 0:
            kept.append(theta.copy())
    return np.stack(kept, axis=1)


def test_sampler_matches_a_long_reference_chain_on_a_hierarchical_bnn_posterior():
    """A 1-2-1 tanh network with sampled Cauchy scales under half-Cauchy hyper-priors (a
    funnel-shaped, multi-modal 11-d posterior): HMC on BNNPosterior and random-walk Metropolis
    on the density written out above agree on the posterior mean and second moment of f(0.5),
    f(2) (an extrapolation) and the output layer's ln s, within 4 combined Monte Carlo
    standard errors sqrt(var/ESS_hmc + var/ESS_ref) (arviz bulk ESS). The functionals are
    invariant under the hidden units' sign flips and exchange, so the modes need not be
    visited in the same proportions."""
    import arviz as az

    from surrogates.bnn import WeightPrior
    from surrogates.bnn.posterior import BNNPosterior, ParameterLayout

    layout = ParameterLayout.for_network(1, [2], sample_scales=True, sample_noise=False)
    post = BNNPosterior(torch.tensor(_X[:, None]), torch.tensor(_Z), layout=layout,
                        prior=WeightPrior("cauchy", hyper_scale=1.0), activation="tanh",
                        classifier=False, noise_sigma=_SIGMA)
    torch.manual_seed(10)
    res = run_chains(post.log_prob_and_grad, 0.1 * torch.randn(64, 11, dtype=torch.float64),
                     n_burnin=100, n_samples=100, n_leapfrog=8, target_accept=0.8)
    reference = _random_walk_metropolis(n_chains=256, n_iter=5000, seed=11)

    def functionals(draws):
        c, s, p = draws.shape
        f = _tiny_net(draws.reshape(-1, p), np.array([0.5, 2.0])).reshape(c, s, 2)
        return [f[..., 0], f[..., 1], draws[..., 9]]  # column 9: ln s of W2

    for g_hmc, g_ref in zip(functionals(res.draws.numpy()), functionals(reference), strict=True):
        for power in (1, 2):
            a, b = g_hmc**power, g_ref**power
            se = math.sqrt(a.var() / az.ess(a) + b.var() / az.ess(b))
            assert abs(a.mean() - b.mean()) < 4 * se, (power, a.mean(), b.mean(), se)


def test_dual_averaging_follows_hoffman_gelman_equation_6():
    """Written out from Hoffman & Gelman (2014), Sec. 3.2 and Algorithm 5, with their
    gamma = 0.05, t0 = 10, kappa = 0.75, mu = ln(10 eps_0), H_0 = 0, ln eps_bar_0 = 0."""
    eps0, target = np.array([0.3, 2.0]), 0.65
    accepts = np.random.default_rng(12).uniform(size=(30, 2))
    da = DualAveraging.start(torch.tensor(eps0, dtype=torch.float64))
    mu, h_bar, log_eps_bar = np.log(10 * eps0), np.zeros(2), np.zeros(2)
    for t, alpha in enumerate(accepts, start=1):
        h_bar = (1 - 1 / (t + 10)) * h_bar + (target - alpha) / (t + 10)
        log_eps = mu - np.sqrt(t) / 0.05 * h_bar
        log_eps_bar = t**-0.75 * log_eps + (1 - t**-0.75) * log_eps_bar
        da = da.update(torch.tensor(alpha, dtype=torch.float64), target)
        np.testing.assert_allclose(da.step_size.numpy(), np.exp(log_eps), rtol=1e-12)
        np.testing.assert_allclose(da.final_step_size.numpy(), np.exp(log_eps_bar), rtol=1e-12)
    assert da.t == 30


def test_thinning_keeps_every_thin_th_state_and_the_progress_bar_changes_nothing():
    """Same seed, same number of iterations: thin = 3 keeps iterations 3, 6, ... after burn-in
    of the thin = 1 chain; showing progress draws no random numbers."""
    lpg = _gaussian(torch.tensor([0.5, 2.0], dtype=torch.float64))
    start = torch.zeros(3, 2, dtype=torch.float64)
    runs = []
    for thin, n_samples, progress in [(1, 30, False), (3, 10, False), (3, 10, True)]:
        torch.manual_seed(13)
        runs.append(run_chains(lpg, start, n_burnin=20, n_samples=n_samples, thin=thin,
                               n_leapfrog=5, progress=progress))
    every, thinned, shown = runs
    assert thinned.draws.shape == (3, 10, 2)
    torch.testing.assert_close(thinned.draws, every.draws[:, 2::3], rtol=0, atol=0)
    for field in ("draws", "accept_prob", "divergent", "step_size"):
        assert torch.equal(getattr(shown, field), getattr(thinned, field))
    assert shown.n_leapfrog == thinned.n_leapfrog and shown.n_burnin == 20


# -------------------------------- exact references for the survivors of mutation testing
# (tools/mutation.py surrogates.bnn.hmc): the same seeded momenta, recomputed in numpy


def _numpy_gaussian(precision):
    def log_prob_and_grad(theta):
        return -0.5 * (precision * theta**2).sum(axis=1), -precision * theta
    return log_prob_and_grad


def _one_step_log_ratio(theta, p, eps, f, inv_mass):
    """-(H1 - H0) of one leapfrog step of size eps (n_chains,), numpy."""
    lp0, g0 = f(theta)
    p_half = p + 0.5 * eps[:, None] * g0
    theta1 = theta + eps[:, None] * inv_mass * p_half
    lp1, g1 = f(theta1)
    p1 = p_half + 0.5 * eps[:, None] * g1
    h0 = -lp0 + 0.5 * (p * p * inv_mass).sum(axis=1)
    h1 = -lp1 + 0.5 * (p1 * p1 * inv_mass).sum(axis=1)
    return -(h1 - h0)


def _mass_problem(seed=0):
    rng = np.random.default_rng(seed)
    n, d = 256, 3
    precision = np.exp(rng.uniform(-3, 3, (n, 1))) * np.exp(rng.uniform(-0.5, 0.5, (n, d)))
    inv_mass = np.exp(rng.uniform(-1, 1, (n, d)))
    theta = rng.normal(size=(n, d)) / np.sqrt(precision)
    return precision, inv_mass, theta


def test_initial_step_size_is_algorithm_4_with_the_mass_matrix():
    """Hoffman & Gelman (2014), Algorithm 4, written again in numpy on Gaussians whose
    crossing of acceptance 1/2 lies below 1, between 1 and 2 and above 2."""
    precision, inv_mass, theta = _mass_problem()
    f = _numpy_gaussian(precision)
    torch.manual_seed(3)
    p = torch.randn(theta.shape, dtype=torch.float64).numpy() / np.sqrt(inv_mass)
    eps = np.ones(len(theta))
    lr = _one_step_log_ratio(theta, p, eps, f, inv_mass)
    a = np.where(lr > -math.log(2.0), 1.0, -1.0)
    active = np.ones(len(theta), bool)
    for _ in range(60):
        active &= a * lr > -a * math.log(2.0)
        if not active.any():
            break
        eps = np.where(active, eps * 2.0**a, eps)
        lr = np.where(active, _one_step_log_ratio(theta, p, eps, f, inv_mass), lr)
    assert (eps < 1).any() and (eps == 2).any() and (eps > 2).any()

    torch.manual_seed(3)
    tp, ti = torch.tensor(precision), torch.tensor(inv_mass)
    tt = torch.tensor(theta)
    lp, grad = _gaussian(1 / tp.sqrt())(tt)
    step = find_initial_step_size(tt, lp, grad, _gaussian(1 / tp.sqrt()), inv_mass=ti)
    np.testing.assert_array_equal(step.numpy(), eps)


def test_transition_accept_probability_is_min_1_exp_minus_dh_with_the_mass():
    precision, inv_mass, theta = _mass_problem(1)
    f = _numpy_gaussian(precision)
    eps = np.full(len(theta), 0.7)
    torch.manual_seed(5)
    p = torch.randn(theta.shape, dtype=torch.float64).numpy() / np.sqrt(inv_mass)
    expected = np.exp(np.minimum(_one_step_log_ratio(theta, p, eps, f, inv_mass), 0.0))
    assert (expected == 1.0).any() and (expected < 0.5).any()  # both cases occur

    torch.manual_seed(5)
    tt, tp = torch.tensor(theta), torch.tensor(precision)
    lp, grad = _gaussian(1 / tp.sqrt())(tt)
    *_, accept_prob, _ = hmc_transition(tt, lp, grad, torch.tensor(eps), 1,
                                        _gaussian(1 / tp.sqrt()), inv_mass=torch.tensor(inv_mass))
    np.testing.assert_allclose(accept_prob.numpy(), expected, rtol=1e-12)


def test_run_chains_uses_its_mass_matrix_from_the_first_step():
    """The first iteration of run_chains is find_initial_step_size, one draw of the trajectory
    length and one hmc_transition, all with the given inverse mass."""
    precision, inv_mass, theta = _mass_problem(2)
    target = _gaussian(1 / torch.tensor(precision).sqrt())
    tt, ti = torch.tensor(theta), torch.tensor(inv_mass)
    torch.manual_seed(7)
    result = run_chains(target, tt, n_burnin=2, n_samples=1, n_leapfrog=3, jitter=0.0,
                        inv_mass=ti)
    torch.manual_seed(7)
    lp, grad = target(tt)
    step = DualAveraging.start(find_initial_step_size(tt, lp, grad, target, inv_mass=ti)).step_size
    torch.randint(3, 4, ())
    *_, accept_prob, _ = hmc_transition(tt, lp, grad, step, 3, target, inv_mass=ti)
    torch.testing.assert_close(result.step_size[0], step, rtol=0, atol=0)
    torch.testing.assert_close(result.accept_prob[0], accept_prob, rtol=0, atol=0)


def test_dual_averaging_keeps_its_constants_across_updates():
    state = DualAveraging.start(torch.tensor([0.1]))
    state = DualAveraging(state.mu, state.log_step, state.log_step_avg, state.h_bar,
                          kappa=0.5, gamma=0.1, t0=3.0)
    two = state.update(torch.tensor([0.2]), 0.65).update(torch.tensor([0.9]), 0.65)
    assert (two.kappa, two.gamma, two.t0, two.t) == (0.5, 0.1, 3.0, 2)
    # by hand: eta_t = 1/(t + t0), w_t = t^-kappa (Hoffman & Gelman 2014, eq. 6)
    h1 = (0.65 - 0.2) / 4
    h2 = (1 - 1 / 5) * h1 + (0.65 - 0.9) / 5
    mu = math.log(0.1) + math.log(10.0)
    x1, x2 = mu - 1 / 0.1 * h1, mu - math.sqrt(2) / 0.1 * h2
    avg = 2**-0.5 * x2 + (1 - 2**-0.5) * x1
    assert two.log_step_avg.item() == pytest.approx(avg, rel=1e-6)


def test_run_chains_step_schedule_and_fixed_trajectory_lengths():
    """Without jitter every trajectory has n_leapfrog steps (one step is allowed); the step
    size follows dual averaging through burn-in and its average after (eq. 6)."""
    target = _gaussian(torch.tensor([1.0, 3.0]))
    torch.manual_seed(11)
    n_burnin = 6
    result = run_chains(target, torch.zeros(4, 2), n_burnin=n_burnin, n_samples=3,
                        n_leapfrog=1, jitter=0.0)
    assert result.n_leapfrog == [1] * (n_burnin + 3)
    adapt = DualAveraging.start(result.step_size[0])
    for it in range(n_burnin):
        adapt = adapt.update(result.accept_prob[it], 0.65)
        expected = adapt.step_size if it < n_burnin - 1 else adapt.final_step_size
        torch.testing.assert_close(result.step_size[it + 1], expected, rtol=1e-12, atol=0)
    torch.manual_seed(11)
    five = run_chains(target, torch.zeros(4, 2), n_burnin=2, n_samples=2, n_leapfrog=5,
                      jitter=0.0)
    assert five.n_leapfrog == [5] * 4
