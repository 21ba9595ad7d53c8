"""A leaderboard for people: leaderboard.md, leaderboard.png and the terminal table.

Model names are data (an answers file names its own model): escaped in Markdown, shown as plain
text in the terminal and in the plot.
"""

from __future__ import annotations

from pathlib import Path

from rich import box
from rich.table import Table
from rich.text import Text

from judge.escape import md_text, term_cell
from judge.models.refs import display_name
from judge.report.format import control_text, pct, smoke_text, verdict_text, zero_width
from judge.report.plots import plain, save_png
from judge.stats.leaderboard import Leaderboard, Standing


def interval(low: float, high: float) -> str:
    return f"[{pct(low)} – {pct(high)}]"


def columns(board: Leaderboard) -> list[str]:
    level = board.bradley_terry["ci"]["level"]
    return ["rank", "model", f"win rate vs {board.reference} [{level:.0%} interval]",
            f"Bradley–Terry win rate [{level:.0%} interval]", "Elo-style", "W / T / L",
            "prompts (invalid lines)", "position consistency", "judge check"]


def cells(s: Standing) -> list[str]:
    bt = s.bradley_terry
    return [str(s.rank), s.name, f"{pct(s.win_rate)} {interval(s.ci.low, s.ci.high)}",
            f"{pct(bt.win_rate)} {interval(bt.low, bt.high)}" if bt else "n/a",
            f"{bt.elo:.0f}" if bt else "n/a", f"{s.wins} / {s.ties} / {s.losses}",
            f"{s.n} ({s.n_invalid})", pct(s.position_consistency),
            s.verdict.status if s.verdict else "n/a"]


def reference_cells(board: Leaderboard) -> list[str]:
    return ["–", f"{board.reference} (reference)", "50.0%", "50.0%", "1000", "", "", "", ""]


def judge_check(board: Leaderboard) -> list[str]:
    """What the leaderboard says about its judge: the smoke-test note, the control pairs (the
    same for every model: built from the reference's answers) and each model's verdict that is
    not `passed`."""
    who = "the panel" if board.judge.startswith("panel: ") else "the judge"
    lines = [f"{smoke_text(board.smoke_test)}."] if board.smoke_test else []
    if board.controls is not None:
        lines.append(f"Control pairs (from the reference's answers): "
                     f"{control_text(board.controls)}.")
    for s in board.standings:
        if s.verdict is not None and s.verdict.status != "passed":
            lines.append(f"{s.name}: {verdict_text(s.verdict, who)}")
    return lines


def convention(board: Leaderboard) -> str:
    ci = board.bradley_terry["ci"]
    return (f"Every model judged against {board.reference} on the same {board.n_prompts} prompts "
            "in both answer orders. Win rate = mean over prompts of the model's share of its two "
            f"verdicts (tie = 0.5), with a {ci['level']:.0%} paired bootstrap interval over "
            "prompts. Ranked by Bradley–Terry strength s (log-odds of beating the reference), "
            "fitted over every model's verdicts at once: its win rate σ(s), Elo-style "
            f"1000 + 400·s/ln 10, interval from {ci['resamples']} prompt bootstrap resamples "
            f"(seed {ci['seed']}).")


def category_table(board: Leaderboard) -> tuple[list[str], list[list[str]]]:
    """The categories, and per model (in rank order) its win rate and n in each."""
    categories = sorted({c for s in board.standings for c in s.categories})
    rows = []
    for s in board.standings:
        rates = [s.categories.get(c) for c in categories]
        rows.append(["" if r is None else f"{pct(r.win_rate)} (n {r.n})" for r in rates])
    return categories, rows


def leaderboard_markdown(board: Leaderboard) -> str:
    """leaderboard.md; names are escaped (they are data), the rest is our own text."""
    names = columns(board)
    names[2] = f"win rate vs {md_text(board.reference)} [{names[2].rsplit('[', 1)[1]}"
    lines = [f"# Leaderboard vs {md_text(board.reference)}", "",
             f"Judge {md_text(display_name(board.judge))}, template {md_text(board.template)}. "
             + convention(board).replace(board.reference, md_text(board.reference)), "",
             *[f"{md_text(line)}\n" for line in judge_check(board)],
             "| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for standing in board.standings:
        row = cells(standing)
        row[1] = md_text(standing.name)
        lines.append("| " + " | ".join(row) + " |")
    reference = reference_cells(board)
    reference[1] = f"{md_text(board.reference)} (reference)"
    lines.append("| " + " | ".join(reference) + " |")
    categories, rows = category_table(board)
    if categories:
        lines += ["", "## Win rate vs the reference per category", "",
                  "| model | " + " | ".join(md_text(c) for c in categories) + " |",
                  "|---|" + "---|" * len(categories)]
        for s, shown in zip(board.standings, rows, strict=True):
            lines.append(f"| {md_text(s.name)} | " + " | ".join(shown) + " |")
    lines += ["", "## Run folders", ""]
    lines += [f"- [{md_text(s.name)}]({s.folder}/report.md)" for s in board.standings]
    return "\n".join(lines)


def leaderboard_table(board: Leaderboard) -> Table:
    """The terminal's ranked table, in percent, narrow enough for 80 columns (leaderboard.md
    has every column)."""
    level = board.bradley_terry["ci"]["level"]
    caption = "\n".join([f"win rates vs {board.reference} in % [{level:.0%} interval]; inv. "
                         "invalid lines; cons. position consistency", *judge_check(board)])
    table = Table(title=term_cell(f"leaderboard vs {board.reference}  (judge: {board.judge}, "
                                  f"template: {board.template}, {board.n_prompts} prompts)"),
                  caption=Text("\n".join(term_cell(line).plain for line in caption.split("\n")),
                               justify="left"),
                  box=box.SIMPLE_HEAD, pad_edge=False,
                  collapse_padding=True)
    for name in ("#", "model", "win rate", "Bradley–Terry", "W/T/L", "inv.", "cons."):
        table.add_column(Text(name), no_wrap=True)
    for s in board.standings:
        bt = s.bradley_terry
        table.add_row(*(term_cell(c) for c in (
            str(s.rank), s.name, short(s.win_rate, s.ci.low, s.ci.high),
            short(bt.win_rate, bt.low, bt.high) if bt else "n/a",
            f"{s.wins}/{s.ties}/{s.losses}", str(s.n_invalid), pct(s.position_consistency))))
    table.add_row(*(term_cell(c) for c in ("ref", board.reference, "50.0", "50.0", "", "", "")))
    return table


def short(rate: float, low: float, high: float) -> str:
    return f"{100 * rate:.1f} [{100 * low:.1f}–{100 * high:.1f}]"


def board_title(board: Leaderboard) -> str:
    return (f"{len(board.standings)} models vs {board.reference}\njudge "
            f"{display_name(board.judge)}, template {board.template}, n = {board.n_prompts} "
            "prompts in both orders")


def plot_leaderboard(board: Leaderboard, path: Path) -> None:
    """One bar per model: its Bradley–Terry win rate vs the reference with its interval, best on
    top, against the 50% line; skipped when matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    rows = [s for s in board.standings if s.bradley_terry is not None]
    fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(rows) + 1.7), dpi=100)
    ax.axvline(50, color="grey", linestyle="--", linewidth=1)
    for y, s in enumerate(reversed(rows)):
        bt = s.bradley_terry
        assert bt is not None
        color = "tab:green" if bt.low > 0.5 else "tab:red" if bt.high < 0.5 else "tab:blue"
        if zero_width(bt.low, bt.high):  # a diamond, not a bar of no width
            ax.plot([100 * bt.win_rate], [y], marker="D", markersize=9, color="tab:orange",
                    markeredgecolor="black", linestyle="none")
        else:
            err = [[max(0.0, 100 * (bt.win_rate - bt.low))],
                   [max(0.0, 100 * (bt.high - bt.win_rate))]]
            ax.errorbar([100 * bt.win_rate], [y], xerr=err, fmt="o", capsize=5, color=color)
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_yticks(range(len(rows)), [plain(s.name) for s in reversed(rows)])
    level, reference = board.bradley_terry["ci"]["level"], plain(board.reference)
    ax.set_xlabel(f"win rate against {reference}, %, {level:.0%} interval "
                  "(Bradley–Terry; dashed: as good)")
    fig.suptitle(plain(board_title(board)), x=0.01, ha="left", fontsize=9)
    fig.tight_layout()
    save_png(fig, path)
