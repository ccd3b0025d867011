"""Tree-level MSSM quantities: diagonalisation identities, limits, and the reference spectra."""

import math

import numpy as np
import pytest

from surrogates import tree_level as tl


def _draw(n=500, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.uniform(-4000, 4000, n), rng.uniform(-4000, 4000, n), rng.uniform(-4000, 4000, n),
            rng.uniform(1, 60, n))


def test_weak_mixing_from_the_reference_sminputs():
    # s^2 c^2 = pi alpha / (sqrt 2 G_F M_Z^2) with alpha^-1 = 127.916 (PROVENANCE.md)
    s2 = tl.SIN2_THETA_W
    assert s2 * (1 - s2) == pytest.approx(math.pi / 127.916 / (math.sqrt(2) * 1.16637e-5
                                                                * 91.1876**2))
    assert tl.V_HIGGS == pytest.approx(246.22, abs=0.01)


def test_neutralino_and_chargino_matrices_are_diagonalised():
    M1, M2, mu, tb = _draw()
    masses, n = tl.neutralinos(M1, M2, mu, tb)
    sb, cb = np.sin(np.arctan(tb)), np.cos(np.arctan(tb))
    sw, cw = math.sqrt(tl.SIN2_THETA_W), math.sqrt(1 - tl.SIN2_THETA_W)
    mz = tl.M_Z
    m = np.zeros((len(M1), 4, 4))
    m[:, 0, 0], m[:, 1, 1], m[:, 2, 3], m[:, 3, 2] = M1, M2, -mu, -mu
    m[:, 0, 2] = m[:, 2, 0] = -cb * sw * mz
    m[:, 0, 3] = m[:, 3, 0] = sb * sw * mz
    m[:, 1, 2] = m[:, 2, 1] = cb * cw * mz
    m[:, 1, 3] = m[:, 3, 1] = -sb * cw * mz
    diag = n @ m @ n.transpose(0, 2, 1)
    np.testing.assert_allclose(diag, masses[:, :, None] * np.eye(4), atol=1e-8 * 4000)
    assert (np.diff(np.abs(masses), axis=1) >= 0).all()
    mc, u, v = tl.charginos(M2, mu, tb)
    x = np.stack([np.stack([M2, math.sqrt(2) * sb * tl.M_W], 1),
                  np.stack([math.sqrt(2) * cb * tl.M_W, mu], 1)], 1)
    np.testing.assert_allclose(u @ x @ v.transpose(0, 2, 1), mc[:, :, None] * np.eye(2),
                               atol=1e-8 * 4000)
    assert (mc[:, 0] <= mc[:, 1]).all()


def test_decoupled_wino_pair_and_tree_level_higgs_limit():
    # |M1| < |M2| << |mu|: N1 bino, N2 and C1 winos of mass ~|M2|, fW -> 1, fH -> 0
    m, f_w, f_h, _ = tl.xsec_n2c1_tree(np.array([200.0]), np.array([400.0]),
                                        np.array([3900.0]), np.array([10.0]))
    assert f_w[0] > 0.99 and f_h[0] < 0.01 and m[0] == pytest.approx(400, rel=0.01)
    # a wino LSP with a bino N2 (|M2| < |M1| < |mu|): no wino or higgsino N2, fW + fH -> 0
    _, f_w, f_h, _ = tl.xsec_n2c1_tree(np.array([800.0]), np.array([400.0]),
                                        np.array([3900.0]), np.array([10.0]))
    assert f_w[0] + f_h[0] < 0.01
    # mA >> MZ: m_h,tree -> MZ |cos 2 beta|
    tree, _ = tl.higgs_mass_one_loop(np.array([1e5]), np.array([10.0]), np.zeros(1),
                                     np.zeros(1), np.full(1, 1000.0), np.full(1, 1000.0))
    assert tree[0] == pytest.approx(tl.M_Z * 99 / 101, rel=1e-6)


def test_tachyonic_sfermion_is_negative():
    assert tl.lightest_sfermion(np.array([100.0]), np.array([100.0]), tl.M_B,
                                np.array([-60.0 * 3000.0]))[0] < 0
    assert tl.lightest_sfermion(np.array([1000.0]), np.array([1000.0]), tl.M_B,
                                np.zeros(1))[0] == pytest.approx(math.hypot(1000, tl.M_B))


def test_tree_level_cross_section_is_close_to_the_softsusy_one():
    from surrogates.data import load_dataset

    xs = load_dataset("xsec").iloc[:3000]
    _, _, _, sigma = tl.xsec_n2c1_tree(*(xs[c].to_numpy() for c in ("M1", "M2", "mu", "tanb")))
    err = np.abs(np.log(sigma / xs["xsec_n2c1_fb"].to_numpy()))
    # measured on the full data: median 0.082 in ln sigma (ln sigma itself spans sd 5.5)
    assert np.median(err) < 0.12


def test_loop_function_matches_its_closed_form_and_the_degenerate_limit():
    rng = np.random.default_rng(1)
    a, b, c = (rng.uniform(1e2, 1.6e7, 200) for _ in range(3))
    closed = (a * b * np.log(a / b) + b * c * np.log(b / c) + c * a * np.log(c / a)) / (
        (a - b) * (b - c) * (a - c))
    np.testing.assert_allclose(tl.loop_function_i(a, b, c), closed, rtol=1e-4)
    # I(m, m, m) = 1 / (2m) and I(m, m, 0) -> 1 / m, where the closed form is 0/0
    m = np.array([1e4, 1e6])
    np.testing.assert_allclose(tl.loop_function_i(m, m, m), 1 / (2 * m), rtol=1e-4)
    np.testing.assert_allclose(tl.loop_function_i(m, m, np.ones(2)), 1 / m, rtol=1e-3)


def test_delta_b_gluino_term_in_the_degenerate_limit():
    # all masses equal to M: Delta_b(gluino) = 2 alpha_s / (3 pi) * mu tanb / (2 M), the
    # higgsino-stop term vanishes with A_t = 0 (hep-ph/9912516)
    M, mu, tanb = np.array([2000.0]), np.array([1500.0]), np.array([40.0])
    db = tl.bottom_yukawa_correction(M, mu, tanb, np.zeros(1), M, M, M)
    assert db[0] == pytest.approx(2 * tl.ALPHA_S / (3 * math.pi) * mu[0] * tanb[0] / (2 * M[0]),
                                  rel=1e-4)
    assert tl.bottom_yukawa_correction(M, -mu, tanb, np.zeros(1), M, M, M)[0] == pytest.approx(
        -db[0])


def test_sbottom_and_stau_terms_scale_as_mu_to_the_fourth_and_clip():
    tanb, zero = np.array([50.0]), np.zeros(1)
    m = np.array([3000.0])
    s1, t1 = tl.sbottom_stau_higgs_terms(np.array([500.0]), tanb, zero, m, m, m, m)
    s2, t2 = tl.sbottom_stau_higgs_terms(np.array([1000.0]), tanb, zero, m, m, m, m)
    assert s1[0] < 0 and t1[0] < 0
    assert s2[0] / s1[0] == pytest.approx(16.0) and t2[0] / t1[0] == pytest.approx(16.0)
    # the stau term: colour factor 1 against 3 and no Delta_b
    y_b, y_tau = tl.M_B / (174.1 * np.cos(np.arctan(50.0))), tl.M_TAU / (174.1 * np.cos(
        np.arctan(50.0)))
    assert t1[0] / s1[0] == pytest.approx((y_tau / y_b) ** 4 / 3, rel=1e-3)
    light = np.array([10.0])
    clipped, _ = tl.sbottom_stau_higgs_terms(np.array([4000.0]), tanb, zero, light, light, m, m)
    at_limit, _ = tl.sbottom_stau_higgs_terms(
        np.array([2 * 6**0.5]) * tl.sfermion_scale(light, light, tl.M_B), tanb, zero, light,
        light, m, m)
    assert clipped[0] == pytest.approx(at_limit[0])


def test_d_terms_give_the_su2_mass_sum_rules():
    # Martin Sec. 8.4: m^2(e_L) - m^2(nu) = m^2(d_L) - m^2(u_L) = -cos(2 beta) M_W^2
    rng = np.random.default_rng(2)
    tanb = rng.uniform(1, 60, 50)
    soft = [rng.uniform(0, 4000, 50) for _ in range(5)]
    m2 = tl.first_generation_sfermions(tanb, *soft)
    cos2b = (1 - tanb**2) / (1 + tanb**2)
    np.testing.assert_allclose(m2[:, 4] - m2[:, 6], -cos2b * tl.M_W**2, rtol=1e-9)
    np.testing.assert_allclose(m2[:, 2] - m2[:, 0], -cos2b * tl.M_W**2, rtol=1e-9)


def test_higgs_soft_masses_reproduce_m_a_and_the_hypercharge_trace():
    rng = np.random.default_rng(3)
    mA, mu, tanb = rng.uniform(0, 4000, 50), rng.uniform(-4000, 4000, 50), rng.uniform(1, 60, 50)
    hu, hd = tl.higgs_soft_masses(mA, mu, tanb).T
    # m_A^2 = m_Hu^2 + m_Hd^2 + 2 mu^2 (Martin Sec. 8.1)
    np.testing.assert_allclose(hu + hd + 2 * mu**2, mA**2, rtol=1e-9, atol=1e-6)
    zeros = (np.zeros(50),) * 5
    np.testing.assert_allclose(tl.hypercharge_trace(mA, tanb, zeros, zeros), hu - hd,
                               rtol=1e-9, atol=1e-6)
    # one generation of equal soft masses contributes Tr Y = 0
    m = np.full(50, 1234.0)
    np.testing.assert_allclose(tl.hypercharge_trace(mA, tanb, (m,) * 5, zeros), hu - hd,
                               rtol=1e-9, atol=1e-3)
