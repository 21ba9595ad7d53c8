"""Judge panels: several judges each judge every pair; the panel decides by majority.

Per member m and prompt i, the item score s_mi is the mean of the member's valid line scores (its
two orders) and its outcome o_mi is tuned, base or tie as s_mi is above, below or at 0.5, exactly
as for one judge. Over the members with a valid item on prompt i:

    panel outcome  = the outcome more than half of them give; otherwise tie (an even split ties)
    panel score    = mean_m s_mi (the soft score)

The panel's pairwise block is the single-judge block of these items (judge/stats/pairwise.py's
item_block): win_rate = mean of panel scores with its paired bootstrap interval, wins / ties /
losses and discrete_win_rate (Wilson) from the panel outcomes, n_invalid the members' invalid lines.
Per prompt and order the panel's verdict is the majority of the members' valid line outcomes in
that order; position statistics, the bias block and the panel's controls read those.

How much the members agree, over the N prompts that every member judged validly (any member's
invalid item leaves a prompt out; `n` says how many remain), categories j ∈ {base, tie, tuned}:

    Fleiss' kappa   n_ij = members giving prompt i outcome j; m members
                    P_i = (Σ_j n_ij² − m) / (m(m − 1)),  P̄ = (1/N) Σ_i P_i
                    p_j = Σ_i n_ij / (N·m),              P̄_e = Σ_j p_j²
                    κ = (P̄ − P̄_e) / (1 − P̄_e); null when N = 0 or P̄_e = 1 (one outcome only)
    Cohen's kappa   per pair of members over the prompts both judged validly
                    (judge/stats/agreement.py's cohen_kappa: classes present in either)
    sides_with_panel  per member: #(o_mi = panel outcome) / #(prompts it judged validly)
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np

from judge.errors import InputError
from judge.runs.summary import MemberPair, PairwiseStats, PanelStats
from judge.stats.agreement import AgreementLine, cohen_kappa
from judge.stats.bias import bias_diagnostics
from judge.stats.categories import group_items
from judge.stats.lines import lengths
from judge.stats.pairwise import (
    WINNER_SCORE,
    item_block,
    item_scores,
    line_score,
    outcome,
)
from judge.stats.style import style_control

Rows = Sequence[Mapping[str, Any]]
OUTCOMES = ("base", "tie", "tuned")
TOLERANCE = 1e-12


def majority(votes: Sequence[str]) -> str:
    """The vote more than half give, else tie (an even split, or no majority at all)."""
    if not votes:
        raise ValueError("no votes")
    best, count = Counter(votes).most_common(1)[0]
    return best if 2 * count > len(votes) else "tie"


def member_items(rows: Rows) -> dict[str, float]:
    """prompt_id -> the member's item score, for the prompts it judged validly."""
    grouped, _ = item_scores(rows)
    return {pid: float(np.mean(scores)) for pid, scores in grouped.items()}


def fleiss_kappa(counts: Sequence[Sequence[int]]) -> float | None:
    """Fleiss' kappa of a table: one row per item, one column per category, each row the number
    of raters who gave the item that category (every row sums to the same m ≥ 2)."""
    if not counts:
        return None
    m = sum(counts[0])
    if m < 2 or any(sum(row) != m for row in counts):
        raise ValueError("every item needs the same number (at least 2) of ratings")
    n_items = len(counts)
    p_item = [(sum(c * c for c in row) - m) / (m * (m - 1)) for row in counts]
    p_bar = sum(p_item) / n_items
    shares = [sum(row[j] for row in counts) / (n_items * m) for j in range(len(counts[0]))]
    p_e = sum(p * p for p in shares)
    if p_e >= 1 - TOLERANCE:
        return None
    return (p_bar - p_e) / (1 - p_e)


def panel_items(members: Mapping[str, Rows]) -> tuple[list[str], np.ndarray, list[str]]:
    """The panel's items: prompt ids in order, panel scores, panel outcomes."""
    items = [member_items(rows) for rows in members.values()]
    ids = sorted(set().union(*items))
    if not ids:
        raise InputError("no valid judgment to aggregate (every member's every line is invalid)")
    scores, outcomes = [], []
    for pid in ids:
        valid = [m[pid] for m in items if pid in m]
        scores.append(float(np.mean(valid)))
        outcomes.append(majority([outcome(s) for s in valid]))
    return ids, np.array(scores), outcomes


def order_lines(members: Mapping[str, Rows]) -> list[dict[str, Any]]:
    """One line per prompt and order: the majority of the members' valid line outcomes there."""
    votes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for rows in members.values():
        for row in rows:
            order, score = row.get("order"), line_score(row)
            if order in ("base_first", "tuned_first") and score is not None:
                votes[(str(row["prompt_id"]), order)].append(outcome(score))
    return [{"prompt_id": pid, "order": order, "score": WINNER_SCORE[majority(v)]}
            for (pid, order), v in sorted(votes.items())]


def panel_soft(members: Mapping[str, Rows]) -> float | None:
    """Mean over prompts of the members' mean p_tuned (members without one left out)."""
    per_prompt: dict[str, list[float]] = defaultdict(list)
    for rows in members.values():
        grouped: dict[str, list[float]] = defaultdict(list)
        for row in rows:
            if row.get("p_tuned") is not None:
                grouped[str(row["prompt_id"])].append(float(row["p_tuned"]))
        for pid, values in grouped.items():
            per_prompt[pid].append(sum(values) / len(values))
    if not per_prompt:
        return None
    return float(np.mean([np.mean(per_prompt[pid]) for pid in sorted(per_prompt)]))


def panel_pairwise(members: Mapping[str, Rows], confidence: float = 0.95, resamples: int = 2000,
                   seed: int = 0) -> PairwiseStats:
    """The pairwise block of the panel (module docstring)."""
    ids, scores, outcomes = panel_items(members)
    every = [row for rows in members.values() for row in rows]
    invalid = sum(item_scores(rows)[1] for rows in members.values())
    return item_block(ids, scores, outcomes, order_lines(members), invalid, len(every),
                      lengths(every), panel_soft(members), confidence, resamples, seed)


def panel_by_category(members: Mapping[str, Rows], confidence: float = 0.95,
                      resamples: int = 2000, seed: int = 0) -> dict[str, PairwiseStats | None]:
    """The panel's block per prompt category (grouped as judge/stats/categories.py groups)."""
    category = {str(row["prompt_id"]): row.get("category")
                for rows in members.values() for row in rows}
    pids = sorted(category)
    groups = group_items(pids, [category[p] for p in pids])
    blocks: dict[str, PairwiseStats | None] = {}
    for name, group in groups.items():
        keep = set(group)
        sub = {m: [r for r in rows if str(r["prompt_id"]) in keep] for m, rows in members.items()}
        valid = any(member_items(rows) for rows in sub.values())
        blocks[name] = panel_pairwise(sub, confidence, resamples, seed) if valid else None
    return blocks


def panel_stats(members: Mapping[str, Rows]) -> PanelStats:
    """Fleiss' kappa, pairwise Cohen's kappa and each member's siding rate (module docstring)."""
    labels = list(members)
    items = {label: {pid: outcome(s) for pid, s in member_items(rows).items()}
             for label, rows in members.items()}
    ids, _, outcomes = panel_items(members)
    panel = dict(zip(ids, outcomes, strict=True))
    common = sorted(set.intersection(*(set(found) for found in items.values())))
    table = [[sum(items[m][pid] == j for m in labels) for j in OUTCOMES] for pid in common]
    pairs = []
    for a, b in combinations(labels, 2):
        both = sorted(set(items[a]) & set(items[b]))
        first, second = [items[a][p] for p in both], [items[b][p] for p in both]
        pairs.append(MemberPair(
            a=a, b=b, n=len(both),
            agreement=(sum(x == y for x, y in zip(first, second, strict=True)) / len(both)
                       if both else None),
            cohen_kappa=cohen_kappa(first, second) if both else None,
        ))
    sides = {m: (sum(o == panel[p] for p, o in items[m].items()) / len(items[m])
                 if items[m] else None) for m in labels}
    return PanelStats(members=labels, n=len(common), fleiss_kappa=fleiss_kappa(table),
                      pairs=pairs, sides_with_panel=sides)


def majority_lines(members: Sequence[Sequence[AgreementLine]]) -> list[AgreementLine]:
    """The panel's agreement lines (its control pairs, or `judge agreement`'s labelled pairs):
    per pair and order the majority of the members' valid verdicts, invalid only when every
    member's is."""
    def decide(verdicts: list[str]) -> str:
        valid = [v for v in verdicts if v != "invalid"]
        return majority(valid) if valid else "invalid"

    by_id: dict[str, list[AgreementLine]] = defaultdict(list)
    for lines in members:
        for line in lines:
            by_id[line.id].append(line)
    return [AgreementLine(id=pid, label=group[0].label, category=group[0].category,
                          verdict=decide([x.verdict for x in group]),  # type: ignore[arg-type]
                          verdict_swapped=decide([x.verdict_swapped for x in group]))  # type: ignore[arg-type]
            for pid, group in by_id.items()]


def panel_blocks(
    members: Mapping[str, Rows], texts: Mapping[str, tuple[str, str]] | None = None,
    confidence: float = 0.95, resamples: int = 2000, seed: int = 0,
) -> dict[str, Any]:
    """summary.json's blocks for a panel: `pairwise`, `by_category`, `bias` and `style_control`
    as the panel decides, and `panel` (the agreement among members); absent blocks left out."""
    pairwise = panel_pairwise(members, confidence, resamples, seed)
    known = lengths([row for rows in members.values() for row in rows])
    ids, scores, _ = panel_items(members)
    blocks = {
        "pairwise": pairwise,
        "by_category": panel_by_category(members, confidence, resamples, seed),
        "bias": bias_diagnostics(order_lines(members), texts, known,
                                 pairwise.position_consistency),
        "style_control": style_control(ids, scores, texts, known, confidence, resamples, seed),
        "panel": panel_stats(members),
    }
    return {name: block for name, block in blocks.items() if block not in (None, {})}
