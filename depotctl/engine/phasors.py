"""Safe linear rows for a three-phase line's current: a polygon inside its phasor disk.

At unity power factor every EVSE's current on a line of a three-phase node is a
phasor ``a_e·∠θ_e`` per amp it draws: a line-to-neutral load at its phase's angle, a
line-to-line load in phase with its line-to-line voltage (leaving on one line,
returning on the other), each line of a three-phase load at its own angle; a
wye-wye transformer scales each line by its ratio, a delta-wye one puts
``(I_a − I_c)·ratio/√3`` on primary line A (and so on round) — exactly as the
replay's independent check (:mod:`depotctl.replay.loads`) adds them. A transformer
whose winding the site does not state is taken both ways (two *worlds*, every
unknown winding wye-wye in one and delta-wye in the other), each with its own rows:
the worse binds. A load whose angle is not known — a single-phase EVSE of unknown
phase, a site load (any power factor) — has a magnitude ``s_e`` that counts in full
whatever the angle, as the replay counts it.

A LIMIT IS A CEILING, NOT A SETPOINT: a vehicle may draw anything from 0 to its
limit ``x_e``, and with phasors drawing less can *raise* a line's magnitude (two
loads at more than 90° partly cancel). The rows bound the worst case over that box,
``max over 0 ≤ d ≤ x of |Σ a_e d_e ∠θ_e| + Σ s_e x_e ≤ C``. The disk ``|z| ≤ C`` is
approximated from inside by the regular ``K``-gon (``K`` = 24) inscribed in it with a
vertex at every multiple of 15° — every angle a unity-power-factor load has here
(multiples of 30°) is a vertex. Facet ``k`` has the normal ``φ_k = (k + ½)·15°``;
its worst case over the box is the positive part, and dividing the row by
``cos(π/K)`` keeps its right-hand side the line's own limit ``C``::

    Σ_e max(0, a_e·cos(θ_e − φ_k))/cos(π/K)·x_e + Σ_e s_e·x_e ≤ C

Every coefficient is ≥ 0, so the water-filling (a tree of positive rows) handles
these rows as it handles any other, and the rows of a line share its limit, its
source and its site-load reservation (a magnitude: coefficient 1).

(i) Safe. For any draw ``0 ≤ d ≤ x`` and every ``k``:
``Re(z·e^{−iφ_k}) = Σ a_e d_e cos(θ_e − φ_k) ≤ Σ max(0, a_e cos(θ_e − φ_k)) x_e ≤
cos(π/K)·(C − S)`` where ``S`` is everything of unknown angle. A point with
``Re(z·e^{−iφ_k}) ≤ r·cos(π/K)`` for every ``k`` lies in the ``K``-gon of
circumradius ``r``, so ``|z| ≤ C − S`` and ``|z| + S ≤ C``.

(ii) Never worse than today's single row ``Σ (|a_e| + s_e)·x_e ≤ C`` (magnitudes
added; through a delta-wye the windings' magnitudes added, which is never less than
their phasor difference). Each ``θ_e`` is a vertex and each ``φ_k`` is midway
between two, so ``|θ_e − φ_k| ≥ π/K`` and ``cos(θ_e − φ_k) ≤ cos(π/K)``: every facet
coefficient is at most the row's, so whatever that row allowed every facet allows.

(iii) Within ``1 − cos(π/K)`` = 0.86 % of exact. If the exact worst case
``W = max_d |z| + S`` is at most ``cos(π/K)·C``, then every facet holds, since its
left side is ``max_d Re(z·e^{−iφ_k})/cos(π/K) + S ≤ W/cos(π/K)`` (as ``S ≤
S/cos(π/K)``): the rows give up at most that share of the limit.

Cheap where it costs nothing: a line whose angled contributors all share one angle
(a wye node with only line-to-neutral loads on that phase, say) keeps one row with
the exact coefficients ``a_e + s_e`` (one per world, where the worlds differ and
neither covers the other). Otherwise of the ``K`` facets per world only the
non-dominated are kept: a facet whose every coefficient is at most another's (with
the same right-hand side) can never bind first. The facets of a wedge of angles
(line-to-neutral and line-to-line loads on one wye line: −30°, 0°, 30°) are four.

The issue spoke of facets with coefficients of both signs; those trust a vehicle
to draw exactly its limit, so this model takes the positive part instead.
"""

from __future__ import annotations

import cmath
import math

import numpy as np

from depotctl.domain.phases import SQRT3, Phase, PhaseConnection
from depotctl.engine.waterfill import Floats

#: Polygon vertices per turn: every 15°, so every unity-power-factor angle is one.
K = 24
#: The inscribed polygon's inradius over its circumradius.
FACET_COS = math.cos(math.pi / K)
#: Each facet's unit normal, midway between two vertices.
NORMALS = np.exp(1j * (np.arange(K) + 0.5) * 2 * math.pi / K)
#: The two readings of every transformer whose winding is not stated.
WORLDS = ("wye-wye", "delta-wye")
PHASES = (Phase.L1, Phase.L2, Phase.L3)

_UNIT = {
    Phase.L1: 1 + 0j,
    Phase.L2: cmath.exp(-2j * math.pi / 3),
    Phase.L3: cmath.exp(2j * math.pi / 3),
}
#: The windings ``(x, y)`` whose difference primary line L carries in delta-wye.
_DELTA = {
    Phase.L1: (Phase.L1, Phase.L3),
    Phase.L2: (Phase.L2, Phase.L1),
    Phase.L3: (Phase.L3, Phase.L2),
}
#: Relative size below which a coefficient is float noise (a load at 90° to a normal).
_NOISE = 1e-9

#: Per line, per amp drawn: (phasor of known angle, magnitude of unknown angle).
LineShares = dict[Phase, tuple[complex, float]]


def load_shares(connection: PhaseConnection | None) -> LineShares:
    """What one amp drawn by a load of ``connection`` puts on each line where it
    connects (None: a single phase not known, its magnitude on every line)."""
    if connection is None:
        return dict.fromkeys(PHASES, (0j, 1.0))
    shares: LineShares = dict.fromkeys(PHASES, (0j, 0.0))
    phases = connection.phases
    if len(phases) == 2:
        x, y = phases
        direction = _UNIT[x] - _UNIT[y]
        current = direction / abs(direction)
        shares[x], shares[y] = (current, 0.0), (-current, 0.0)
        return shares
    for phase in phases:
        shares[phase] = (_UNIT[phase], 0.0)
    return shares


def through(shares: LineShares, ratio: float, winding: str) -> LineShares:
    """The shares on a transformer's primary lines (``ratio`` = secondary/primary
    line-to-line voltage): line for line in wye-wye; in delta-wye the difference of the
    two windings meeting at a line, at ratio/√3 (magnitudes of unknown angle add)."""
    if winding == "wye-wye":
        return {p: (ratio * shares[p][0], ratio * shares[p][1]) for p in PHASES}
    k = ratio / SQRT3
    return {
        p: (k * (shares[x][0] - shares[y][0]), k * (shares[x][1] + shares[y][1]))
        for p, (x, y) in _DELTA.items()
    }


def line_rows(phasors: np.ndarray, loose: Floats) -> Floats:
    """The rows of one line, ``rows × contributors``: ``phasors`` and ``loose`` are
    ``worlds × contributors`` (a contributor's phasor and unknown-angle magnitude per
    amp; best each kind once: each row is compared with every other over them). Where the
    angled contributors share an angle, a row of magnitudes per world; else the facets
    of every world; of those, the non-dominated."""
    one_world = np.array_equal(phasors[0], phasors[-1]) and np.array_equal(loose[0], loose[-1])
    if one_world:  # no transformer of unknown winding below
        phasors, loose = phasors[:1], loose[:1]
    magnitude = np.abs(phasors)
    angled = magnitude > _NOISE
    if not angled.any() or _one_angle(phasors[angled] / magnitude[angled]):
        return _undominated(magnitude + loose)
    facets = [
        np.maximum((p[np.newaxis, :] * NORMALS.conj()[:, np.newaxis]).real, 0.0) / FACET_COS
        + s[np.newaxis, :]
        for p, s in zip(phasors, loose, strict=True)
    ]
    rows: Floats = np.concatenate(facets)
    rows[rows < _NOISE * rows.max(axis=1, keepdims=True)] = 0.0
    return _undominated(rows)


def _one_angle(units: np.ndarray) -> bool:
    return bool(np.all(np.abs(units - units[0]) < 1e-9))


def _undominated(rows: Floats) -> Floats:
    """The rows no other row covers coefficient by coefficient (of equal rows, the
    first)."""
    if len(rows) == 1:
        return rows
    slack = 1e-12 * max(1.0, float(rows.max(initial=0.0)))
    covers = np.all(rows[:, np.newaxis, :] >= rows[np.newaxis, :, :] - slack, axis=2)
    equal = covers & covers.T
    order = np.arange(len(rows))
    # row j is redundant if some other row i covers it, and is not equal to it, or is
    # equal and comes first
    redundant = covers & (~equal | (order[:, np.newaxis] < order[np.newaxis, :]))
    np.fill_diagonal(redundant, False)
    kept: Floats = rows[~redundant.any(axis=0)]
    return kept
