r"""The true function of the closure tests: the tree-level light-chargino mass of the pMSSM-19.

An analytic observable of the pMSSM-19 parameters that is cheap to evaluate: the tree-level
mass of the lightest chargino (Martin, "A Supersymmetry Primer", hep-ph/9709356, eqs.
8.2.5-8.2.6). With the chargino mass matrix

.. math:: X = \begin{pmatrix} M_2 & \sqrt2\, m_W \sin\beta \\ \sqrt2\, m_W\cos\beta & \mu
          \end{pmatrix},

the masses are its singular values,

.. math:: m^2_{\tilde\chi^\pm_{1,2}} = \tfrac12\Big[A \mp \sqrt{A^2 - 4\,|\mu M_2 - m_W^2
          \sin 2\beta|^2}\Big], \qquad A = M_2^2 + \mu^2 + 2 m_W^2,

a smooth function of :math:`(M_2, \mu, \tan\beta)` with a ridge where :math:`|M_2| \approx
|\mu|` (wino-higgsino mixing): a fit to a measured chargino mass has a curved, L-shaped
posterior in :math:`(M_2, \mu)`, a fair test for samplers and surrogates alike.
"""

from __future__ import annotations

import numpy as np

from surrogates.space import parameter_index
from surrogates.targets import Quantity, Selection, Target

__all__ = ["CHARGINO", "M_W", "light_chargino_mass"]

M_W = 80.379  # GeV, PDG 2020 W mass
#: The light-chargino mass as a surrogate target (not one of the three library targets).
CHARGINO = Target(Quantity("m_chargino1", "regression", "GeV", "standardize"),
                  Selection("m_C1", "analytic"))


def light_chargino_mass(X: np.ndarray) -> np.ndarray:
    """Tree-level mass of the lightest chargino, GeV.

    Parameters
    ----------
    X : ndarray of shape (n, 19)
        Points of the pMSSM-19 space (uses ``M2``, ``mu`` and ``tanb``).

    Returns
    -------
    ndarray of shape (n,)
    """
    m2 = X[:, parameter_index("M2")]
    mu = X[:, parameter_index("mu")]
    beta = np.arctan(X[:, parameter_index("tanb")])
    a = m2**2 + mu**2 + 2 * M_W**2
    det = mu * m2 - M_W**2 * np.sin(2 * beta)
    return np.sqrt(0.5 * (a - np.sqrt(np.maximum(a**2 - 4 * det**2, 0.0))))
