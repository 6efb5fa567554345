"""Published figures attacked as a statistician would: a linear program built
from everything published (every cell shown, every total, the relations
between them, the known bounds) finds, for each hidden cell, its least and
greatest possible value. Protection holds when that interval still contains
the whole hidden range, for every hidden cell.

The attacker here is written apart from the product's own check: it reads
only what is published."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy.optimize import linprog

from mantra.domain.suppression import RULES, Publication, Relation, protect


def attack(published, relations, rule):
    """{hidden cell: (least, greatest)} from the published values alone."""
    n = len(published)
    bounds = []
    for v in published:
        if v is None:
            bounds.append((0, None))
        elif rule.round_to and v:
            bounds.append((max(v - 2, rule.hide_up_to + 1), v + 2))
        else:
            bounds.append((v, v))
    eq = [r for r in relations if r.exact]
    ge = [r for r in relations if not r.exact]

    def rows(rels, sign):
        out = []
        for r in rels:
            row = np.zeros(n)
            row[r.parts] = 1
            row[r.total] = -1
            out.append(sign * row)
        return np.array(out) if out else None

    found = {}
    for i, v in enumerate(published):
        if v is not None:
            continue
        c = np.zeros(n)
        c[i] = 1
        kw = dict(
            A_eq=rows(eq, 1),
            b_eq=np.zeros(len(eq)) if eq else None,
            A_ub=rows(ge, -1),
            b_ub=np.zeros(len(ge)) if ge else None,
            bounds=bounds,
            method="highs",
        )
        low, high = linprog(c, **kw), linprog(-c, **kw)
        assert low.status == 0, "the published figures must be consistent"
        found[i] = (low.fun, -high.fun if high.status == 0 else float("inf"))
    return found


def assert_protected(publication, rule):
    published = protect(publication, rule)
    for i, v in enumerate(publication.values):  # every small count is hidden; nothing else is changed
        if 1 <= v <= rule.hide_up_to:
            assert published[i] is None
        elif published[i] is not None:
            assert published[i] == rule.shown(v)
    for cell, (low, high) in attack(published, publication.relations, rule).items():
        assert low <= 1 + 1e-6 and high >= rule.hide_up_to - 1e-6, (cell, low, high, published)
    return published


def grid(rows):
    """A two-way table with its row, column and grand totals, as cells and relations."""
    r, c = len(rows), len(rows[0])
    values = [v for row in rows for v in row]
    row_totals = [sum(row) for row in rows]
    col_totals = [sum(rows[i][j] for i in range(r)) for j in range(c)]
    values += row_totals + col_totals + [sum(row_totals)]
    cell = lambda i, j: i * c + j  # noqa: E731
    rt, ct, grand = r * c, r * c + r, r * c + r + c
    relations = [Relation(rt + i, [cell(i, j) for j in range(c)]) for i in range(r)]
    relations += [Relation(ct + j, [cell(i, j) for i in range(r)]) for j in range(c)]
    relations += [Relation(grand, [rt + i for i in range(r)]), Relation(grand, [ct + j for j in range(c)])]
    return Publication(values, relations)


def test_a_four_by_four_table_gives_away_a_hidden_cell_until_it_is_protected():
    rule = RULES["default"]
    table = grid([[20, 3, 15, 9], [12, 30, 8, 14], [25, 11, 40, 6], [7, 18, 10, 22]])
    # Hiding only the small cell: its row total gives it away exactly.
    naive = [None if v == 3 else v for v in table.values]
    ((low, high),) = attack(naive, table.relations, rule).values()
    assert (low, high) == (3, 3)
    published = assert_protected(table, rule)
    assert sum(v is None for v in published) >= 4  # a rectangle at least: two rows, two columns


@pytest.mark.parametrize("rule", ["default", "nhs"])
def test_awkward_months_stay_protected(rule):
    rule = RULES[rule]
    awkward = [
        [0, 0, 9, 0],  # a single non-zero cell: equal to the total
        [1, 0, 0, 0, 0],  # a total of one: everything hidden
        [2, 5],  # a row total just above one cell
        [3, 40, 0, 0],  # one small cell among large ones
        [1, 1, 1, 1, 1],  # five reports, all different
        [4, 4, 60],
    ]
    for parts in awkward:
        values = parts + [sum(parts)]
        assert_protected(Publication(values, [Relation(len(parts), list(range(len(parts))))]), rule)


@pytest.mark.parametrize("rule", ["default", "nhs"])
def test_generated_months_of_several_tables_stay_protected(rule):
    """Tables of one month share their total (the reports received); a table
    of several answers per report (strands) is at least the total."""
    rule, rng = RULES[rule], random.Random(20261125)
    for _ in range(25):
        reports = rng.choice([1, 3, 5, 6, 9, 14, 30, 120])
        values, relations = [reports], []
        for _table in range(3):  # one answer per report: the parts add up to the total
            parts = [0] * rng.randint(2, 7)
            for _r in range(reports):
                parts[min(int(rng.expovariate(0.8)), len(parts) - 1)] += 1
            start = len(values)
            values += parts
            relations.append(Relation(0, list(range(start, len(values)))))
        strands = [0] * 8  # several answers per report: a strand with one report, too
        for _r in range(reports):
            for s in rng.sample(range(8), rng.choice([1, 1, 2])):
                strands[s] += 1
        start = len(values)
        values += strands
        relations.append(Relation(0, list(range(start, len(values))), exact=False))
        assert_protected(Publication(values, relations), rule)
