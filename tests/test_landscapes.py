"""Tests for lrnotes.sim.landscapes: formulas against finite differences, minima, closed forms."""

import numpy as np
import pytest
import sympy as sp

from lrnotes.sim import landscapes as L


def _all():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(3, 3))
    return [
        L.DoubleWell(1.0, 0.3),
        L.DoubleWell(2.0, -1.1),
        L.Quadratic([1.0, 4.0, 0.25]),
        L.Quadratic(A @ A.T + np.eye(3), center=[1.0, -2.0, 0.5]),
        L.Multiscale(dim=1),
        L.Multiscale(dim=2),
        L.Cliff(dim=2),
        L.RiverValley(),
        L.RiverValley(amplitude=1.5, meander=2.0),
    ]


def _points(land, rng, n=40):
    if isinstance(land, L.Cliff):  # include points on the cliff itself
        x = rng.normal(size=(n, land.dim)) * 3
        x[: n // 2, 0] = land.position + rng.uniform(-3, 3, n // 2) * land.width
        return x
    scale = 20.0 if isinstance(land, L.RiverValley) else 2.0
    return rng.normal(size=(n, land.dim)) * scale


@pytest.mark.parametrize("land", _all(), ids=repr)
def test_grad_and_hess_match_finite_differences(land):
    rng = np.random.default_rng(1)
    x = _points(land, rng)
    g, H = land.grad(x), land.hess(x)
    assert g.shape == x.shape and H.shape == x.shape + (land.dim,)
    for i in range(land.dim):
        e = np.zeros(land.dim)
        e[i] = h = 1e-6 * max(1.0, float(np.abs(x).max()) * 1e-2)
        fd = (land.value(x + e) - land.value(x - e)) / (2 * h)
        np.testing.assert_allclose(g[:, i], fd, rtol=1e-5, atol=1e-5 * (1 + np.abs(g).max()))
        fd2 = (land.grad(x + e) - land.grad(x - e)) / (2 * h)
        np.testing.assert_allclose(H[..., :, i], fd2, rtol=1e-5, atol=1e-4 * (1 + np.abs(H).max()))
    np.testing.assert_allclose(H, np.swapaxes(H, -1, -2), atol=1e-12)


@pytest.mark.parametrize("land", _all(), ids=repr)
def test_minima_are_stationary_and_the_global_one_is_lowest(land):
    m = land.minima
    assert m.shape[1] == land.dim
    assert np.all(np.abs(land.grad(m)) < 1e-8 * (1 + np.abs(land.hess(m)).max()))
    assert np.all(np.linalg.eigvalsh(land.hess(m)) > 0)
    assert land.gap(land.x_star) == pytest.approx(0.0, abs=1e-12)
    assert np.all(land.value(m) >= land.f_star - 1e-12)
    rng = np.random.default_rng(2)
    x = _points(land, rng, n=2000)
    assert np.all(land.gap(x) >= -1e-12)


def test_vectorised_over_leading_axes():
    land = L.Multiscale(dim=2)
    x = np.random.default_rng(3).normal(size=(4, 5, 2))
    assert land.value(x).shape == (4, 5) and land.grad(x).shape == (4, 5, 2)
    assert land.curvature(x).shape == (4, 5)
    np.testing.assert_allclose(land.value(x)[2, 3], land.value(x[2, 3]))
    assert L.DoubleWell().value(0.5) == pytest.approx(0.5**4 - 2 * 0.25 + 0.3 * 0.5)


# --------------------------------------------------------------------------- double well
def test_double_well_closed_forms_with_sympy():
    ns = L.double_well_sympy()
    a, b = ns.a, ns.b
    # the discriminant of f' = 4 theta^3 - 4 a theta + b, computed here from the textbook formula
    A3, A2, A1, A0 = 4, 0, -4 * a, b
    textbook = 18 * A3 * A2 * A1 * A0 - 4 * A2**3 * A0 + A2**2 * A1**2 - 4 * A3 * A1**3 - 27 * A3**2 * A0**2
    assert sp.expand(ns.disc - textbook) == 0
    assert sp.expand(ns.disc - (1024 * a**3 - 432 * b**2)) == 0
    roots = sp.solve(sp.Eq(ns.disc, 0), b)
    assert len(roots) == 2 and sp.simplify(sum(roots)) == 0
    assert sp.simplify(max(roots, key=lambda r: r.subs(a, 1)) - ns.b_crit) == 0
    assert sp.simplify(ns.b_crit**2 - sp.Rational(64, 27) * a**3) == 0
    assert sp.simplify(ns.b_crit - 8 / (3 * sp.sqrt(3)) * a ** sp.Rational(3, 2)) == 0
    assert sp.simplify(ns.depth_difference + 2 * b * ns.theta) == 0
    # the trigonometric roots solve f' = 0 (50 digits) at rational parameters on both sides of 0
    for av, bv in [(1, sp.Rational(3, 10)), (2, sp.Rational(-11, 10)), (sp.Rational(1, 2), sp.Rational(1, 7))]:
        vals = [sp.N(p.subs({a: av, b: bv}), 50) for p in ns.critical_points]
        for v in vals:
            assert abs(sp.N(ns.df.subs({a: av, b: bv, ns.theta: v}), 50)) < sp.Float("1e-40")
        assert vals[0] > vals[1] > vals[2]   # right well, barrier, left well
        numeric = L.DoubleWell(float(av), float(bv)).critical_points
        np.testing.assert_allclose(numeric, [float(vals[2]), float(vals[1]), float(vals[0])], rtol=1e-13)


@pytest.mark.parametrize("a", [0.3, 1.0, 2.5])
def test_double_well_two_wells_exactly_inside_the_critical_tilt(a):
    bc = L.DoubleWell.b_crit(a)
    for b in np.linspace(-1.5 * bc, 1.5 * bc, 31):
        r = np.roots([4, 0, -4 * a, b])
        three_real = np.all(np.abs(r.imag) < 1e-9) and np.min(np.abs(np.diff(np.sort(r.real)))) > 1e-6
        assert three_real == (abs(b) < bc * (1 - 1e-9)), (a, b)
    with pytest.raises(ValueError, match=r"b must be in"):
        L.DoubleWell(a, 1.0001 * bc)
    L.DoubleWell(a, 0.9999 * bc)


@pytest.mark.parametrize("a,b", [(1.0, 0.3), (1.0, -0.3), (2.0, 1.5), (0.5, 0.0)])
def test_double_well_depth_barriers_curvatures(a, b):
    dw = L.DoubleWell(a, b)
    left, mid, right = dw.critical_points
    np.testing.assert_allclose(dw.grad(dw.critical_points[:, None])[:, 0], 0, atol=1e-12)
    np.testing.assert_allclose(sorted(np.roots([4, 0, -4 * a, b]).real), [left, mid, right], rtol=1e-10, atol=1e-12)
    f = dw.value(np.array([[left], [mid], [right]]))
    assert dw.barrier == mid
    np.testing.assert_allclose(dw.barrier_heights, [f[1] - f[0], f[1] - f[2]])
    assert np.all(dw.barrier_heights > 0)
    np.testing.assert_allclose(dw.well_curvatures, [12 * left**2 - 4 * a, 12 * right**2 - 4 * a])
    deeper = 0 if f[0] <= f[2] else 2
    assert dw.deeper == ("left" if deeper == 0 else "right")
    assert dw.x_star[0] == pytest.approx([left, mid, right][deeper])
    if b != 0:
        assert (f[0] < f[2]) == (b > 0)
        # here the deeper well is the *sharper* one: it sits further out, and f'' = 12 theta^2 - 4a
        sharp = np.argmax(dw.well_curvatures)
        assert sharp == (0 if deeper == 0 else 1)
    assert dw.in_deeper_well(np.array([[left], [right]])).tolist() == [deeper == 0, deeper == 2]


# --------------------------------------------------------------------------- quadratic
def test_quadratic_spectrum_and_forms():
    H = np.array([[2.0, 1.0], [1.0, 3.0]])
    q = L.Quadratic(H, center=[1.0, 2.0])
    ev = np.linalg.eigvalsh(H)
    assert q.L == pytest.approx(ev[-1]) and q.mu == pytest.approx(ev[0])
    assert q.condition_number == pytest.approx(ev[-1] / ev[0])
    x = np.array([[0.0, 0.0], [1.0, 2.0], [3.0, -1.0]])
    y = x - [1.0, 2.0]
    np.testing.assert_allclose(q.value(x), 0.5 * np.einsum("ni,ij,nj->n", y, H, y))
    np.testing.assert_allclose(q.grad(x), y @ H)
    d = L.Quadratic([1.0, 5.0])
    np.testing.assert_allclose(d.value(x), L.Quadratic(np.diag([1.0, 5.0])).value(x))
    assert L.Quadratic(3.0).L == 3.0 and L.Quadratic(3.0).dim == 1
    np.testing.assert_allclose(q.curvature(x), ev[-1])


def test_multiscale_global_minimum_by_brute_force():
    m = L.Multiscale()
    u = np.linspace(-40, 40, 1_600_001)     # spacing 5e-5, far beyond the search radius
    f = m.value(u[:, None])
    assert f.min() >= m.f_star - 1e-10
    assert abs(u[np.argmin(f)] - m.x_star[0]) < 1e-4
    assert len(m.minima_1d) > 20             # many local minima at several scales
    assert np.all(np.diff(m.minima_1d_values) >= 0)
    # 2-D: separable, so the minimiser is (u*, u*) and f* doubles
    m2 = L.Multiscale(dim=2)
    np.testing.assert_allclose(m2.x_star, [m.x_star[0]] * 2)
    assert m2.f_star == pytest.approx(2 * m.f_star)


def test_cliff_gradients():
    c = L.Cliff()
    assert c.max_cliff_grad == pytest.approx(1005.0)
    assert np.abs(c.grad(np.array([[c.position]])))[0, 0] == pytest.approx(1005.0)
    assert np.abs(c.grad(np.array([[10.0]])))[0, 0] == pytest.approx(10.0, rel=1e-12)
    u = np.linspace(-20, 20, 400_001)[:, None]
    g = np.abs(c.grad(u))[:, 0]
    assert g.max() == pytest.approx(1005.0, rel=1e-3)
    narrow = np.mean(c.in_cliff(u)) * 40          # width of the region where the cliff dominates
    assert 0.05 < narrow < 0.5
    assert abs(c.x_star[0]) < 1e-80 and c.f_star < 1e-150
    assert np.all(c.in_cliff(np.array([[c.position], [0.0]])) == [True, False])


def test_river_valley_floor_and_slope():
    r = L.RiverValley(amplitude=1.0, meander=3.0)
    u = np.linspace(-10, 15, 101)
    floor = np.stack([u, r.floor(u)], axis=-1)
    np.testing.assert_allclose(r.hill_loss(floor), 0, atol=1e-12)
    np.testing.assert_allclose(r.value(floor), r.river_loss(floor))
    # the river descends towards the lake with slope at most s, the walls are kappa steep
    assert np.all(np.diff(r.river_loss(floor)) < 0)
    assert np.all(np.abs(r.grad(floor)) <= r.slope + 1e-12)
    np.testing.assert_allclose(r.hess(floor)[..., 1, 1], r.kappa)
    assert r.curvature(floor).min() > 0.99 * r.kappa
    np.testing.assert_allclose(r.river_loss(np.array([[1e3, 0.0]])), r.slope * (1e3 - r.lake - np.log(2)))


def test_bad_parameters():
    with pytest.raises(ValueError, match=r"a must be a finite real number > 0"):
        L.DoubleWell(a=0.0)
    with pytest.raises(ValueError, match=r"b must be a finite real"):
        L.DoubleWell(b=np.nan)
    with pytest.raises(ValueError, match=r"H must be positive definite"):
        L.Quadratic([1.0, 0.0])
    with pytest.raises(ValueError, match=r"H must be symmetric"):
        L.Quadratic([[1.0, 2.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match=r"H must be a number, a diagonal"):
        L.Quadratic(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"center must be a finite array of shape \(2,\)"):
        L.Quadratic([1.0, 2.0], center=[0.0])
    with pytest.raises(ValueError, match=r"dim must be an integer >= 1"):
        L.Multiscale(dim=0)
    with pytest.raises(ValueError, match=r"same length"):
        L.Multiscale(amplitudes=(1.0,), wavelengths=(1.0, 2.0), phases=(0.0,))
    with pytest.raises(ValueError, match=r"wavelengths\[1\] must be a finite real number > 0"):
        L.Multiscale(amplitudes=(1.0, 1.0), wavelengths=(1.0, -2.0), phases=(0.0, 0.0))
    with pytest.raises(ValueError, match=r"position must be in \[0.25, inf\)"):
        L.Cliff(position=0.1)
    with pytest.raises(ValueError, match=r"height must be a finite real number > 0"):
        L.Cliff(height=-1)
    with pytest.raises(ValueError, match=r"amplitude must be in \[0.0, inf\)"):
        L.RiverValley(amplitude=-1.0)
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 2\)"):
        L.RiverValley().value(np.zeros(3))


@pytest.mark.parametrize("i", [0, 1, 5])
def test_multiscale_basins_are_bounded_by_maxima_and_gradient_flow_stays(i):
    ms = L.Multiscale()
    lo, hi = ms.basin_1d(i)
    u0 = ms.minima_1d[i]
    assert lo < u0 < hi
    ends = np.array([lo, hi])
    assert np.allclose(ms._df1(ends), 0.0, atol=1e-9) and np.all(ms._d2f1(ends) < 0)
    # small-step gradient descent from anywhere inside ends at the basin's minimum
    u = np.linspace(lo, hi, 41)[1:-1]
    for _ in range(4000):
        u = u - 0.005 * ms._df1(u)
    assert np.allclose(u, u0, atol=1e-6)
    # and from just outside, it does not
    v = np.array([lo - 1e-3, hi + 1e-3])
    for _ in range(4000):
        v = v - 0.005 * ms._df1(v)
    assert np.all(np.abs(v - u0) > 1e-2)


def test_multiscale_in_global_basin():
    ms = L.Multiscale(dim=2)
    lo, hi = ms.basin_1d(0)
    mid = 0.5 * (lo + hi)
    x = np.array([[mid, mid], [mid, hi + 0.01], [lo - 0.01, mid]])
    assert ms.in_global_basin(x).tolist() == [True, False, False]
    assert ms.in_global_basin(ms.x_star[None])[0]
    with pytest.raises(ValueError, match="i must be"):
        ms.basin_1d(len(ms.minima_1d))
