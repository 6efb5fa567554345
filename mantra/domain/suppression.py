"""Small counts hidden in published figures, so that no hidden value can be
worked out from anything else published (DESIGN section 7).

A month's publication is a set of cells (every count, totals included) and
the relations anyone can read off it: a total is the sum of its parts (one
answer per report: type, area, channel...), or at most the sum of its parts
(several answers per report: strands, kinds). An attacker who knows those
relations can set up a linear program and, for each hidden cell, find its
smallest and largest possible value. Protection means that interval still
holds the whole hidden range (1 to 4 for the default rule) for every hidden
cell.

Primary suppression hides the small counts; secondary suppression then hides,
while some hidden cell could be pinned down, the smallest shown count that
shares a relation with it, and asks again. The question is asked with a real
linear-programming solver (scipy's HiGHS), the same kind of attack the tests
make independently from the published files.

Rules: `default` hides counts 1-4 and shows every other count exactly;
`nhs` (NHS Digital style) hides 1-7 and rounds every other count to the
nearest 5, so a shown count is itself only known to within 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog


@dataclass(frozen=True)
class Rule:
    name: str
    hide_up_to: int  # counts 1..hide_up_to are hidden (0 is shown: nothing to protect)
    round_to: int | None = None  # shown counts rounded to this

    def shown(self, value: int) -> int:
        if self.round_to is None:
            return value
        return int(self.round_to * np.floor(value / self.round_to + 0.5))

    def known(self, shown: int) -> tuple[float, float]:
        """What a reader knows of a count from its shown value."""
        if self.round_to is None or shown == 0:
            return float(shown), float(shown)
        half = (self.round_to - 1) // 2
        return float(max(shown - half, self.hide_up_to + 1)), float(shown + half)


RULES = {
    "default": Rule("default", 4),
    "nhs": Rule("nhs", 7, round_to=5),
}


@dataclass
class Relation:
    total: int  # the index of the total's cell
    parts: list[int]  # the indices of the cells it is made of
    exact: bool = True  # total == sum(parts); otherwise total <= sum(parts)


@dataclass
class Publication:
    values: list[int]  # the true counts, one per cell
    relations: list[Relation] = field(default_factory=list)


def intervals(
    published: list[int | None], relations: list[Relation], rule: Rule, cells: list[int] | None = None
) -> dict[int, tuple[float, float]]:
    """For each hidden cell (or those asked for), the least and greatest value
    it could have given everything published: the attacker's linear program."""
    n = len(published)
    bounds = [(0.0, None) if v is None else rule.known(v) for v in published]
    a_eq, a_ub = [], []
    for relation in relations:
        row = np.zeros(n)
        row[relation.parts] = 1.0
        row[relation.total] -= 1.0
        (a_eq if relation.exact else a_ub).append(row if relation.exact else -row)  # total - sum(parts) <= 0
    kw = {
        "A_eq": np.array(a_eq) if a_eq else None,
        "b_eq": np.zeros(len(a_eq)) if a_eq else None,
        "A_ub": np.array(a_ub) if a_ub else None,
        "b_ub": np.zeros(len(a_ub)) if a_ub else None,
        "bounds": bounds,
        "method": "highs",
    }
    found = {}
    for i in cells if cells is not None else [i for i, v in enumerate(published) if v is None]:
        goal = np.zeros(n)
        goal[i] = 1.0
        low = linprog(goal, **kw)
        high = linprog(-goal, **kw)
        found[i] = (
            low.fun if low.status == 0 else 0.0,
            -high.fun if high.status == 0 else float("inf"),  # unbounded above: nothing learnt
        )
    return found


def _safe(interval: tuple[float, float], rule: Rule) -> bool:
    low, high = interval
    return low <= 1 + 1e-6 and high >= rule.hide_up_to - 1e-6


def protect(publication: Publication, rule: Rule) -> list[int | None]:
    """What may be published: each cell's shown value, or None where hidden."""
    values = publication.values
    hidden = {i for i, v in enumerate(values) if 1 <= v <= rule.hide_up_to}
    while True:
        published = [None if i in hidden else rule.shown(v) for i, v in enumerate(values)]
        exposed = [i for i, span in intervals(published, publication.relations, rule).items() if not _safe(span, rule)]
        if not exposed:
            return published
        partner = _complement(exposed[0], hidden, publication)
        if partner is None:  # nothing left to hide beside it: hide every cell it is related to
            related = {
                c for r in publication.relations if exposed[0] in (r.total, *r.parts) for c in (r.total, *r.parts)
            }
            if related <= hidden:
                raise RuntimeError("a cell cannot be protected")  # not reached: hiding all of a relation protects it
            hidden |= related
        else:
            hidden.add(partner)


def _complement(cell: int, hidden: set[int], publication: Publication) -> int | None:
    """The smallest shown count sharing a relation with `cell` (a part before
    a total, a count before a zero): hiding it widens what `cell` could be."""
    candidates = set()
    for relation in publication.relations:
        members = [relation.total, *relation.parts]
        if cell in members:
            candidates.update(m for m in members if m not in hidden)
    if not candidates:
        return None
    values = publication.values
    return min(
        candidates, key=lambda c: (values[c] == 0, any(c == r.total for r in publication.relations), values[c], c)
    )
