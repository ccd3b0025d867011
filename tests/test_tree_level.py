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
