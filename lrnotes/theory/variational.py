r"""The continuum (variational) view of the best learning-rate schedule (Chapter 2).

Time is continuous, :math:`t \in [0, T]`, measured in optimisation steps.  A schedule is
a function :math:`\eta(t) \ge 0`; its *remaining budget* is

.. math:: S(t) = \int_t^T \eta(\tau)\,d\tau, \qquad \eta = -S', \qquad S(T) = 0,

and the functional we minimise is the continuum limit of the last-iterate bound of SGD

.. math::
    J[\eta] = \frac{D^2}{2\,S(0)} + \frac{G^2}{2}\int_0^T \frac{\eta(t)^2}{S(t)}\,dt .

Its minimiser is linear decay to zero,

.. math::
    \eta^\star(t) = \frac{D}{G\,T^{3/2}}\,(T - t), \qquad
    J^\star = \frac{2DG}{\sqrt{T}} .

Contents
--------
Symbolic (sympy; results are sympy expressions in the module symbols ``t, T, D, G``)

lagrangian                 :math:`L_p = S^p S'^2` (``p=-1``: this chapter)
euler_lagrange             the Euler--Lagrange equation of a Lagrangian, cleared and normalised
power_ansatz               exponents ``k`` with :math:`S = A(T-t)^k` solving an equation
reduce_by_power            substitute :math:`S = u^q` into an expression
linearising_exponent       the ``q`` that turns :math:`L_p` into :math:`q^2 u'^2`
general_solution           :math:`S = (a + b t)^q`, the general solution for :math:`L_p`
optimal_solution           the optimum: :math:`c^\star`, :math:`\eta^\star`, :math:`J^\star`, ...
functional                 :math:`S` and :math:`J[\eta]` of a closed-form schedule
summation_by_parts_gap     full discrete noise term minus its compact form (should be 0)
integration_by_parts_gap   the same identity in continuous time (should be 0)
show                       typeset ``lhs = rhs`` rows of sympy results as one aligned display

Numeric (numpy / torch)

eta_star, J_star           the closed-form optimum
discrete_objective         :math:`J` discretised on ``N`` cells (midpoint or right rule)
minimise_discrete          minimise that over all positive schedules (torch L-BFGS)
pl_objective               exact-to-round-off :math:`J` of piecewise-linear schedules
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from lrnotes.schedules import _int_at_least, _positive_real  # checks shared with the schedules
import sympy as sp
from sympy.calculus.euler import euler_equations

__all__ = [
    "t",
    "T",
    "D",
    "G",
    "tau",
    "S",
    "lagrangian",
    "euler_lagrange",
    "power_ansatz",
    "reduce_by_power",
    "linearising_exponent",
    "general_solution",
    "VariationalSolution",
    "optimal_solution",
    "functional",
    "summation_by_parts_gap",
    "integration_by_parts_gap",
    "show",
    "eta_star",
    "J_star",
    "RULES",
    "discrete_objective",
    "DiscreteOptimum",
    "minimise_discrete",
    "pl_objective",
]

#: Symbols shared by every symbolic helper: time, horizon, initial distance, gradient bound.
t, T, D, G = sp.symbols("t T D G", positive=True)
#: Integration variable.
tau = sp.Symbol("tau", positive=True)
#: The remaining budget :math:`S(t)` as an undefined sympy function.
S = sp.Function("S")

#: Discretisation rules of :func:`discrete_objective`.
RULES = ("midpoint", "right")


# --------------------------------------------------------------------------- checks


def _rational(name: str, value) -> sp.Rational:
    try:
        r = sp.Rational(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a rational number, got {value!r}") from exc
    return r


def _schedule_array(name: str, x, min_len: int) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of finite numbers >= 0") from exc
    if arr.ndim < 1 or arr.shape[-1] < min_len:
        raise ValueError(
            f"{name} must have shape (..., N) with N >= {min_len}, got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and >= 0 everywhere")
    return arr


# --------------------------------------------------------------------------- symbolic
def lagrangian(p=-1) -> sp.Expr:
    r"""The Lagrangian :math:`L_p(S, S') = S^p\,S'^2`, i.e. :math:`S^p\eta^2`.

    ``p = -1`` gives this chapter's integrand :math:`\eta^2/S = S'^2/S`; ``p = +1`` gives
    :math:`S\eta^2`, whose Euler--Lagrange equation is the one the source writes (its eq. 10).

    Parameters
    ----------
    p : rational, p != -2

    Returns
    -------
    sympy.Expr in ``S(t)`` and its derivative.
    """
    p = _rational("p", p)
    if p == -2:
        raise ValueError("p must be a rational number != -2 (L_{-2} = (d log S/dt)^2)")
    St = S(t)
    return St**p * St.diff(t) ** 2


def euler_lagrange(L: sp.Expr) -> sp.Expr:
    r"""Euler--Lagrange expression of :math:`\int L(S, S')\,dt`, cleared and normalised.

    Runs ``sympy.calculus.euler.euler_equations``,
    :math:`\partial L/\partial S - \frac{d}{dt}\,\partial L/\partial S' = 0`, multiplies by
    the power of :math:`S` that clears denominators (for :math:`L = S^p S'^2` that is
    :math:`S^{1-p}`) and divides by the coefficient of :math:`S'^2` (of :math:`S''` if
    there is none).  For :math:`L = S'^2/S` it returns :math:`S'^2 - 2 S S''`.

    Returns
    -------
    sympy.Expr ``E`` with: the EL equation holds (for :math:`S > 0`) iff ``E == 0``.
    """
    if not isinstance(L, sp.Expr) or not L.has(S(t)):
        raise ValueError("L must be a sympy expression in S(t) and its derivatives")
    (eq,) = euler_equations(L, S(t), t)
    expr = sp.together(eq.lhs - eq.rhs)
    num, _ = sp.fraction(expr)
    num = sp.expand(sp.powsimp(sp.expand(num), force=True))
    # remove a common power of S (S^{1-p} for L_p with rational p)
    factors = sp.factor_list(num)
    St = S(t)
    common = sp.Integer(1)
    for fac, mult in factors[1]:
        if fac == St or (fac.is_Pow and fac.base == St):
            common *= fac**mult
    num = sp.expand(sp.powsimp(sp.expand(num / common), force=True))
    dS, ddS = St.diff(t), St.diff(t, 2)
    lead = num.coeff(dS**2)
    if lead == 0:
        lead = num.coeff(ddS)
    return sp.expand(num / lead)


def power_ansatz(expr: sp.Expr):
    r"""Exponents :math:`k` for which :math:`S(t) = A\,(T-t)^k` solves ``expr == 0``.

    Substitutes the ansatz, strips every factor that depends on ``t`` or ``A`` and
    returns the remaining polynomial in :math:`k` (monic) with its roots.  For
    :math:`S'^2 - 2SS''` the polynomial is :math:`k^2 - 2k` (roots 0, 2); for the source's
    :math:`S'^2 + 2SS''` it is :math:`k^2 - \tfrac23 k` (roots 0, 2/3).

    Returns
    -------
    poly : sympy.Expr in the symbol ``k``
    roots : list of sympy numbers, sorted
    """
    A = sp.Symbol("A", positive=True)
    k = sp.Symbol("k", real=True)
    sub = expr.subs(S(t), A * (T - t) ** k).doit()
    sub = sp.factor(sp.powsimp(sp.expand(sp.powsimp(sub, force=True)), force=True))
    keep = [f for f in sp.Mul.make_args(sub) if not f.has(t) and not f.has(A)]
    poly = sp.Poly(sp.Mul(*keep), k)
    if poly.degree() < 1:
        raise ValueError("expr does not constrain k: the ansatz solves it for every k or none")
    poly = poly.monic()
    roots = sorted(sp.solve(poly.as_expr(), k), key=lambda r: float(r))
    return poly.as_expr(), roots


def reduce_by_power(expr: sp.Expr, q) -> sp.Expr:
    r"""Substitute :math:`S = u^q` into ``expr`` and factor.

    For the chapter's equation :math:`S'^2 - 2SS''` and :math:`q = 2` this gives
    :math:`-4u^3u''`; for the source's :math:`S'^2 + 2SS''` and :math:`q = 2/3` it gives
    :math:`\tfrac43 u^{1/3} u''`: both are linear, :math:`u'' = 0`, in the new unknown.

    Returns
    -------
    (sympy.Expr, sympy.Function) : the factored expression and the function ``u``.
    """
    q = _rational("q", q)
    u = sp.Function("u", positive=True)
    out = sp.factor(sp.powsimp(sp.expand(expr.subs(S(t), u(t) ** q).doit()), force=True))
    return out, u


def linearising_exponent(p) -> sp.Rational:
    r"""The :math:`q = 2/(p+2)` with which :math:`S = u^q` turns :math:`S^pS'^2` into
    :math:`q^2u'^2`.

    Since :math:`S^p S'^2 = q^2 u^{q(p+2)-2} u'^2`, the power of :math:`u` vanishes iff
    :math:`q(p+2) = 2`.  ``p=-1`` gives ``q=2`` (:math:`S = u^2`), ``p=+1`` gives ``q=2/3``.
    """
    p = _rational("p", p)
    if p == -2:
        raise ValueError("p must be a rational number != -2")
    return sp.Rational(2) / (p + 2)


def general_solution(p=-1):
    r"""General solution :math:`S(t) = (a + b\,t)^{2/(p+2)}` of the EL equation of
    :math:`S^pS'^2` (on an interval where :math:`a + bt > 0`).

    Returns
    -------
    (sympy.Expr, (a, b)) : the solution and its two free constants.
    """
    q = linearising_exponent(p)
    a, b = sp.symbols("a b", real=True)
    return (a + b * t) ** q, (a, b)


@dataclass(frozen=True)
class VariationalSolution:
    """The optimum of :math:`J`, every field a sympy expression (see :func:`optimal_solution`)."""

    c: sp.Symbol  #: the free constant of S = c (T - t)^2
    S_c: sp.Expr  #: c (T-t)^2
    eta_c: sp.Expr  #: -S_c' = 2c (T-t)
    J_c: sp.Expr  #: J as a function of c
    c_star: sp.Expr  #: argmin of J_c
    S_star: sp.Expr
    eta_star: sp.Expr
    J_star: sp.Expr
    eta0_star: sp.Expr  #: eta*(0), the peak learning rate
    S0_star: sp.Expr  #: S*(0), the total budget


def optimal_solution() -> VariationalSolution:
    r"""Solve the problem in closed form, from the EL solution family.

    :math:`S(T) = 0` leaves :math:`S = c\,(T-t)^2` (:func:`general_solution` with
    :math:`a = -bT`); then

    .. math::
        J(c) = \frac{D^2}{2cT^2} + 2G^2cT, \quad c^\star = \frac{D}{2GT^{3/2}}, \quad
        J^\star = \frac{2DG}{\sqrt T}, \quad \eta^\star(0) = \frac{D}{G\sqrt T}.

    All four are computed here (``sympy.integrate`` and ``sympy.solve``), not typed in.
    """
    c = sp.Symbol("c", positive=True)
    S_c = c * (T - t) ** 2
    eta_c = sp.expand(-S_c.diff(t))
    J_c = D**2 / (2 * S_c.subs(t, 0)) + G**2 / 2 * sp.integrate(
        sp.simplify(eta_c**2 / S_c), (t, 0, T)
    )
    (c_star,) = sp.solve(sp.diff(J_c, c), c)
    J_star_ = sp.simplify(J_c.subs(c, c_star))
    eta_star_ = sp.simplify(eta_c.subs(c, c_star))
    S_star = sp.simplify(S_c.subs(c, c_star))
    return VariationalSolution(
        c=c, S_c=S_c, eta_c=eta_c, J_c=sp.simplify(J_c), c_star=sp.simplify(c_star),
        S_star=S_star, eta_star=eta_star_, J_star=J_star_,
        eta0_star=sp.simplify(eta_star_.subs(t, 0)), S0_star=sp.simplify(S_star.subs(t, 0)),
    )


def functional(eta: sp.Expr, upper=None):
    r"""Remaining budget and value of :math:`J` for a closed-form schedule ``eta(t)``.

    .. math::
        S(t) = \int_t^T \eta, \qquad
        J = \frac{D^2}{2S(0)} + \frac{G^2}{2}\int_0^{\text{upper}}\frac{\eta^2}{S}\,dt .

    ``upper`` (default ``T``) lets you cut the integral off at ``T - eps`` to see how it
    diverges.  Without it the integral is taken to ``T - eps`` and ``eps -> 0+``, so a
    divergent integral comes back as ``sympy.oo``.

    Returns
    -------
    (S, integrand, J) : sympy expressions in ``t`` (``J`` free of ``t``).
    """
    if not isinstance(eta, sp.Expr):
        raise ValueError("eta must be a sympy expression in the module symbol t")
    S_t = sp.simplify(sp.integrate(eta.subs(t, tau), (tau, t, T)))
    integrand = sp.simplify(eta**2 / S_t)
    if upper is None:  # integrate to T - eps, then let eps -> 0+ (a divergence gives oo)
        eps = sp.Symbol("eps", positive=True)
        noise = sp.limit(sp.integrate(integrand, (t, 0, T - eps)), eps, 0, "+")
    else:
        noise = sp.integrate(integrand, (t, 0, upper))
    J = D**2 / (2 * S_t.subs(t, 0)) + G**2 / 2 * noise
    return S_t, integrand, sp.simplify(J)


def summation_by_parts_gap(n: int) -> sp.Expr:
    r"""Full discrete noise term minus its compact form, for symbolic
    :math:`\eta_1, \dots, \eta_n > 0` (should simplify to 0).

    With :math:`W_k = \eta_{k:n}` and :math:`Q_k = \sum_{t \ge k}\eta_t^2`, summation by parts
    gives

    .. math::
        \frac{Q_1}{W_1} + \sum_{k=1}^{n-1}\Big(\frac{1}{W_{k+1}} - \frac{1}{W_k}\Big) Q_k
        = \sum_{k=1}^{n-1}\frac{\eta_k^2}{W_{k+1}} + \eta_n .
    """
    n = _int_at_least("n", n, 2)
    eta = sp.symbols(f"eta1:{n + 1}", positive=True)
    W = [sum(eta[k:]) for k in range(n)]
    Q = [sum(e**2 for e in eta[k:]) for k in range(n)]
    full = Q[0] / W[0] + sum((1 / W[k + 1] - 1 / W[k]) * Q[k] for k in range(n - 1))
    compact = sum(eta[k] ** 2 / W[k + 1] for k in range(n - 1)) + eta[-1]
    return sp.simplify(sp.together(full - compact))


def integration_by_parts_gap() -> sp.Expr:
    r"""Continuous-time version of :func:`summation_by_parts_gap` (should be 0):

    .. math::
        \frac{d}{dt}\frac{Q}{S} - \Big(\frac{\eta\,Q}{S^2} - \frac{\eta^2}{S}\Big),
        \qquad Q(t) = \int_t^T \eta^2, \; S(t) = \int_t^T \eta,

    for an arbitrary (undefined) function :math:`\eta`.  Integrated over :math:`[0, T)`:
    :math:`\frac{Q(0)}{S(0)} + \int \frac{\eta Q}{S^2} = \int\frac{\eta^2}{S} +
    \lim_{t\to T}\frac{Q}{S}`.
    """
    eta = sp.Function("eta")
    S_t = sp.Integral(eta(tau), (tau, t, T))
    Q_t = sp.Integral(eta(tau) ** 2, (tau, t, T))
    gap = sp.diff(Q_t / S_t, t) - (eta(t) * Q_t / S_t**2 - eta(t) ** 2 / S_t)
    return sp.simplify(gap)


def show(*rows, relation: str = "=", fold: bool = False):
    r"""Typeset sympy results in a notebook: one aligned display of ``lhs = rhs`` rows.

    Each row is ``(lhs, rhs)``: ``lhs`` a LaTeX string, ``rhs`` a sympy expression (or
    equation) converted with ``sympy.latex`` (with ``fold=True`` short fractions are
    written :math:`a/b`), or a string used as LaTeX as it is.  The rows are aligned at
    the relation:

    .. math::
        \begin{aligned} \text{lhs}_1 &= \text{rhs}_1 \\ \text{lhs}_2 &= \text{rhs}_2
        \end{aligned}

    Returns the ``IPython.display.Math`` object it showed (its ``.data`` is the LaTeX).
    """
    from IPython.display import Math, display

    if not rows:
        raise ValueError("rows must hold at least one (lhs, rhs) pair")
    lines = []
    for row in rows:
        if not (isinstance(row, tuple) and len(row) == 2 and isinstance(row[0], str)):
            raise ValueError(f"each row must be a pair (lhs LaTeX string, rhs), got {row!r}")
        lhs, rhs = row
        tex = rhs if isinstance(rhs, str) else sp.latex(rhs, fold_short_frac=fold)
        lines.append(f"{lhs} &{relation} {tex}")
    math = Math(r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}")
    display(math)
    return math


# --------------------------------------------------------------------------- numeric
def eta_star(t_, *, D: float = 1.0, G: float = 1.0, T: float = 1.0):
    r"""The optimal schedule :math:`\eta^\star(t) = \dfrac{D}{G\,T^{3/2}}\,(T - t)`, for
    :math:`0 \le t \le T`.

    Parameters
    ----------
    t_ : float or array_like, in [0, T]
    D, G, T : float > 0
    """
    D, G, T = _positive_real("D", D), _positive_real("G", G), _positive_real("T", T)
    arr = np.asarray(t_, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > T):
        raise ValueError(f"t must lie in [0, T] = [0, {T}]")
    out = D / (G * T**1.5) * (T - arr)
    return float(out) if out.ndim == 0 else out


def J_star(D: float = 1.0, G: float = 1.0, T: float = 1.0) -> float:
    r"""The minimum :math:`J^\star = 2DG/\sqrt{T}`."""
    D, G, T = _positive_real("D", D), _positive_real("G", G), _positive_real("T", T)
    return float(2.0 * D * G / np.sqrt(T))


def _tail_sums(eta, h, xp):
    """S_i = h * sum_{j >= i} eta_j along the last axis (numpy or torch)."""
    if xp == "torch":
        import torch

        return torch.flip(torch.cumsum(torch.flip(eta, [-1]), -1), [-1]) * h
    return np.cumsum(eta[..., ::-1], axis=-1)[..., ::-1] * h


def _objective(eta, T, D, G, rule, xp, parts=False):
    n = eta.shape[-1]
    h = T / n
    S_left = _tail_sums(eta, h, xp)  # S at the left edge of every cell, S_N = 0 implied
    if rule == "midpoint":
        S_bar = S_left - 0.5 * h * eta  # = S_{i+1} + h eta_i / 2, the cell-midpoint value
    else:  # right: S_{i+1}; the last cell uses its left edge S_{N-1} = h eta_{N-1}
        if xp == "torch":
            import torch

            S_bar = torch.cat([S_left[..., 1:], S_left[..., -1:]], dim=-1)
        else:
            S_bar = np.concatenate([S_left[..., 1:], S_left[..., -1:]], axis=-1)
    # eta_i^2 / S_bar_i, read as 0 when both vanish and as inf when only S_bar_i does
    if xp == "torch":
        import torch

        safe = torch.where(S_bar > 0, S_bar, torch.ones_like(S_bar))
        empty = torch.where(eta > 0, torch.full_like(eta, float("inf")), torch.zeros_like(eta))
        ratio = torch.where(S_bar > 0, eta**2 / safe, empty)
    else:
        safe = np.where(S_bar > 0, S_bar, 1.0)
        ratio = np.where(S_bar > 0, eta**2 / safe, np.where(eta > 0, np.inf, 0.0))
    bias, noise = D**2 / (2.0 * S_left[..., 0]), 0.5 * G**2 * h * ratio.sum(-1)
    return (bias, noise) if parts else bias + noise


def discrete_objective(eta, *, T: float = 1.0, D: float = 1.0, G: float = 1.0,
                       rule: str = "midpoint", parts: bool = False):
    r""":math:`J` for a schedule that is constant on each of ``N`` cells of width
    :math:`h = T/N`.

    With :math:`S_i = h\sum_{j \ge i}\eta_j` (so :math:`S_0` is the budget, :math:`S_N = 0`),

    .. math::
        J_h &= \frac{D^2}{2S_0} + \frac{G^2}{2}\,h\sum_{i=0}^{N-1}\frac{\eta_i^2}{\bar S_i}, \\
        \bar S_i &= \begin{cases}
            S_{i+1} + h\eta_i/2 & \text{rule="midpoint"} \\
            S_{i+1}\ (i < N-1),\quad S_{N-1}\ (i = N-1) & \text{rule="right"}
        \end{cases}

    The exact integral of a piecewise-constant schedule is infinite (in the last cell
    :math:`S \to 0` linearly, a log divergence); both rules keep :math:`\bar S_i > 0`.  With
    ``rule="right"`` and :math:`h = 1` (``T == N`` steps), :math:`J_h` *is* the discrete
    last-iterate bound :math:`\frac{D^2}{2\eta_{1:T}} + \frac{G^2}{2}\big(\sum_{k<T}
    \eta_k^2/\eta_{k+1:T} + \eta_T\big)`.  Both rules are convex in :math:`\eta`
    (:math:`x^2/y` is jointly convex for :math:`y > 0`).  Terms with
    :math:`\eta_i = \bar S_i = 0` count as 0; with ``rule="right"`` a positive
    :math:`\eta_i` followed only by zeros costs ``inf``.

    Parameters
    ----------
    eta : array_like, shape (..., N), N >= 1, entries >= 0, budget :math:`S_0 > 0`
    T, D, G : float > 0
    rule : {"midpoint", "right"}
    parts : bool
        Return ``(bias, noise)``, the two terms of :math:`J_h`, instead of their sum.
        Scaling :math:`\eta \to \lambda\eta` gives ``bias/lambda + noise*lambda``, so the
        best height costs :math:`2\sqrt{\text{bias}\cdot\text{noise}}`.

    Returns
    -------
    float, or numpy.ndarray of shape ``eta.shape[:-1]`` (or a pair of them)
    """
    eta = _schedule_array("eta", eta, 1)
    T, D, G = _positive_real("T", T), _positive_real("D", D), _positive_real("G", G)
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    if np.any(eta.sum(-1) <= 0):
        raise ValueError("eta must have a positive budget (sum > 0) in every schedule")
    bias, noise = _objective(eta, T, D, G, rule, "numpy", parts=True)
    if parts:
        return (float(bias), float(noise)) if bias.ndim == 0 else (bias, noise)
    out = bias + noise
    return float(out) if out.ndim == 0 else out


@dataclass
class DiscreteOptimum:
    """Result of :func:`minimise_discrete`."""

    t: np.ndarray  #: cell midpoints (i + 1/2) h
    eta: np.ndarray  #: the optimal cell values
    J: float  #: discrete_objective at the optimum
    n_iter: int  #: L-BFGS iterations used
    converged: bool  #: the last outer round changed J by < 1e-13 (relative)


def minimise_discrete(n_cells: int, *, T: float = 1.0, D: float = 1.0, G: float = 1.0,
                      rule: str = "midpoint", init=None, max_rounds: int = 20):
    r"""Minimise :func:`discrete_objective` over all positive schedules on ``n_cells`` cells.

    Parametrises :math:`\eta_i = \operatorname{softplus}(z_i) > 0`, works in the
    dimensionless units :math:`\eta = \frac{D}{G\sqrt T}\tilde\eta(t/T)`, in which
    :math:`J = \frac{DG}{\sqrt T}\tilde J[\tilde\eta]`, and runs torch's L-BFGS (strong Wolfe
    line search, float64) until a round changes :math:`\tilde J` by less than 1e-13.  The
    problem is convex, so the minimiser found is the global one.

    Parameters
    ----------
    n_cells : int >= 2
    T, D, G : float > 0
    rule : {"midpoint", "right"}
    init : array_like of shape (n_cells,), > 0, optional
        Starting schedule in the original units; default constant :math:`D/(G\sqrt T)`.
    max_rounds : int >= 1

    Returns
    -------
    DiscreteOptimum
    """
    import torch

    n = _int_at_least("n_cells", n_cells, 2)
    T, D, G = _positive_real("T", T), _positive_real("D", D), _positive_real("G", G)
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    max_rounds = _int_at_least("max_rounds", max_rounds, 1)
    unit = D / (G * np.sqrt(T))
    if init is None:
        x0 = np.ones(n)
    else:
        x0 = _schedule_array("init", init, 1)
        if x0.shape != (n,) or np.any(x0 <= 0):
            raise ValueError(f"init must have shape ({n},) and be > 0 everywhere")
        x0 = x0 / unit
    z = torch.tensor(x0 + np.log(-np.expm1(-x0)), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([z], lr=1.0, max_iter=1000, tolerance_grad=1e-13,
                            tolerance_change=1e-16, history_size=50,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        val = _objective(torch.nn.functional.softplus(z), 1.0, 1.0, 1.0, rule, "torch")
        val.backward()
        return val

    prev, converged = np.inf, False
    for _ in range(max_rounds):
        opt.step(closure)
        with torch.no_grad():
            cur = float(_objective(torch.nn.functional.softplus(z), 1.0, 1.0, 1.0, rule,
                                   "torch"))
        if abs(prev - cur) <= 1e-13 * abs(cur):
            converged = True
            break
        prev = cur
    n_iter = int(opt.state[z].get("n_iter", 0))
    eta = unit * torch.nn.functional.softplus(z).detach().numpy()
    J = discrete_objective(eta, T=T, D=D, G=G, rule=rule)
    return DiscreteOptimum(t=(np.arange(n) + 0.5) * T / n, eta=eta, J=J, n_iter=n_iter,
                           converged=converged)


def pl_objective(knots, *, T: float = 1.0, D: float = 1.0, G: float = 1.0,
                 n_gauss: int = 8, parts: bool = False):
    r""":math:`J` of a continuous piecewise-linear schedule, by per-cell Gauss--Legendre.

    ``knots[..., j]`` is :math:`\eta(jh)`, :math:`h = T/K`, :math:`j = 0..K`.  On each cell
    :math:`\eta` is linear and :math:`S` quadratic (computed exactly from the knots), so
    :math:`\eta^2/S` is a smooth rational function and ``n_gauss`` nodes per cell give
    :math:`\int_0^T \eta^2/S` to near round-off.  In the last cell, if :math:`\eta(T) = 0`,
    :math:`\eta^2/S = 2\eta((K-1)h)/h` is constant; if :math:`\eta(T) > 0` the integral
    diverges (like :math:`\eta(T)\log\frac{1}{T-t}`) and ``inf`` is returned.

    Parameters
    ----------
    knots : array_like, shape (..., K+1), K >= 1, entries >= 0, positive budget
    T, D, G : float > 0
    n_gauss : int >= 1
    parts : bool
        Return ``(S0, I)`` with :math:`S_0 = S(0)` and :math:`I = \int_0^T\eta^2/S`
        instead of :math:`J = D^2/(2S_0) + G^2 I/2`.

    Returns
    -------
    float or numpy.ndarray of shape ``knots.shape[:-1]`` (or a pair of them)
    """
    e = _schedule_array("knots", knots, 2)
    T, D, G = _positive_real("T", T), _positive_real("D", D), _positive_real("G", G)
    n_gauss = _int_at_least("n_gauss", n_gauss, 1)
    K = e.shape[-1] - 1
    h = T / K
    cell = 0.5 * h * (e[..., :-1] + e[..., 1:])  # budget spent in each cell
    S_knot = np.concatenate(
        [np.cumsum(cell[..., ::-1], axis=-1)[..., ::-1], np.zeros(e.shape[:-1] + (1,))], -1
    )
    S0 = S_knot[..., 0]
    if np.any(S0 <= 0):
        raise ValueError("knots must have a positive budget S(0) in every schedule")
    x, w = np.polynomial.legendre.leggauss(n_gauss)
    s = 0.5 * h * (x + 1.0)  # distance back from the right edge of the cell, in (0, h)
    eL, eR, SR = e[..., :-1, None], e[..., 1:, None], S_knot[..., 1:, None]
    eta_s = eR + (eL - eR) * s / h
    S_s = SR + eR * s + (eL - eR) * s**2 / (2.0 * h)
    ratio = np.where(S_s > 0, eta_s**2 / np.where(S_s > 0, S_s, 1.0), 0.0)
    I = (0.5 * h * ratio * w).sum(axis=(-1, -2))
    I = np.where(e[..., -1] > 0, np.inf, I)
    if parts:
        return (float(S0), float(I)) if np.ndim(S0) == 0 else (S0, I)
    J = D**2 / (2.0 * S0) + 0.5 * G**2 * I
    return float(J) if np.ndim(J) == 0 else J
