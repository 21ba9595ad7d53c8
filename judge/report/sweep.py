"""A sweep for people: sweep.md, sweep.png, the terminal table and the card's sweep table.

Trial names and settings are data (a setting may be any text): escaped in Markdown, plain text
in the terminal and the plot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from judge.escape import md_text, term_cell
from judge.files import write_atomic
from judge.models.refs import display_name
from judge.report.format import pct
from judge.report.leaderboard import interval
from judge.report.plots import save_png
from judge.runs.boards import SweepFolder
from judge.stats.sweep import Sweep, TrialResult

CHECK_NOTE = ("judge check: the judge's verdict on itself for the trial's pair (`verdict.status` "
              "in its summary.json: passed, inconclusive or unchecked); – where the run records "
              "none")


def value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, dict) and {"r", "alpha", "dropout"} <= set(value):
        return f"{value['r']},{value['alpha']},{value['dropout']}"
    return "none" if value is None else str(value)


def settings_text(trial: TrialResult) -> str:
    return ", ".join(f"{k} {value_text(v)}" for k, v in trial.settings.items())


def number(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def fields(sweep: Sweep) -> list[str]:
    return list(dict.fromkeys(k for t in sweep.trials for k in t.settings))


def columns(sweep: Sweep) -> list[str]:
    level = next((t.judged.ci.level for t in sweep.trials if t.judged), 0.95)
    return ["rank", "trial", *fields(sweep), "steps", "train loss", "eval loss",
            "reward acc. (train / eval)", f"win rate vs {sweep.base} [{level:.0%}]",
            f"Bradley–Terry win rate [{level:.0%}]", "strength", "W / T / L", "judge check"]


def cells(sweep: Sweep, t: TrialResult) -> list[str]:
    settings = [value_text(t.settings.get(k)) if k in t.settings else "" for k in fields(sweep)]
    tr, s = t.training, t.judged
    head = [str(t.rank) if t.rank else "–", t.name, *settings]
    if tr is None:
        return [*head, "", "", "", "", f"failed: {t.error}", "", "", "", ""]
    accuracy = f"{number(tr.reward_accuracy, 2)} / {number(tr.eval_reward_accuracy, 2)}"
    head += [str(tr.steps), number(tr.train_loss), number(tr.eval_loss), accuracy]
    if s is None:
        return [*head, "not judged", "", "", "", ""]
    bt = s.bradley_terry
    return [*head, f"{pct(s.win_rate)} {interval(s.ci.low, s.ci.high)}",
            f"{pct(bt.win_rate)} {interval(bt.low, bt.high)}" if bt else "n/a",
            f"{bt.strength:+.3f}" if bt else "n/a", f"{s.wins} / {s.ties} / {s.losses}",
            t.judge_check or "–"]


def verdict(sweep: Sweep) -> str:
    """The headline: the best trial, whether it is told apart from the runner-up, and whether
    the judge passed its own checks."""
    if sweep.best is None:
        return "No trial could be judged."
    return ranking(sweep) + judge_doubt(sweep)


def judge_doubt(sweep: Sweep) -> str:
    """A judge that failed its checks on a trial makes that trial's rates no evidence: say so
    next to the best, not only in the table's last column."""
    checks = [t.judge_check for t in sweep.trials if t.judged is not None]
    failed = sum(check == "inconclusive" for check in checks)
    if not failed:
        return ""
    where = "every trial" if failed == len(checks) else f"{failed} of {len(checks)} trials"
    return (f" The judge's own checks were inconclusive on {where} (judge check below): "
            "there the win rates are no evidence either way.")


def ranking(sweep: Sweep) -> str:
    assert sweep.best is not None
    best = next(t for t in sweep.trials if t.name == sweep.best)
    assert best.judged is not None
    bt = best.judged.bradley_terry
    line = (f"Best: {best.name} ({settings_text(best)}), Bradley–Terry win rate vs "
            f"{sweep.base} " + (f"{pct(bt.win_rate)} {interval(bt.low, bt.high)}" if bt else "n/a")
            + f", win rate {pct(best.judged.win_rate)}.")
    split = sweep.separation
    if split is None:
        return line + " It is the only judged trial."
    how = "" if split.decided_by == "strength" else (
        f" It ranks above {split.runner_up} by {split.decided_by} alone (equal before that).")
    if split.difference is None or split.ci is None:
        return line + how + f" It shares no validly judged prompt with {split.runner_up}."
    told = "is distinguishable" if split.distinguishable else "is not distinguishable"
    return (line + how + f" It {told} from the runner-up {split.runner_up}: on their {split.n} "
            f"shared prompts its item score is higher by {100 * split.difference:+.1f} points "
            f"[{100 * split.ci.low:+.1f} – {100 * split.ci.high:+.1f}], higher on "
            f"{split.better} and lower on {split.worse} (sign test p = {split.p_value:.3g}).")


def conventions(sweep: Sweep) -> str:
    judge = display_name(sweep.judge) if sweep.judge else "–"
    return (f"Every trial judged against {sweep.base} by {judge} (template {sweep.template}) on "
            f"the same {sweep.n_prompts} prompts in both answer orders. Losses and reward "
            "accuracies are the last values the trainer logged (training.json: `metrics` holds "
            "the last logging step's training loss and rewards/accuracies, `eval_metrics` the "
            "evaluation after the last step). Win rate: mean over prompts of the trial's share "
            "of its two verdicts (tie 0.5), paired bootstrap interval. Bradley–Terry: fitted over "
            "every trial's verdicts at once, σ(strength) with a prompt-bootstrap interval; "
            "strength is the log-odds of beating the base. Best: highest strength, then win rate, "
            "then lower eval loss, then name. Distinguishable: the paired bootstrap interval of "
            "the best's minus the runner-up's item scores lies above 0 and the sign test's p is "
            "below 1 − level.")


def sweep_markdown(sweep: Sweep) -> str:
    names = columns(sweep)
    lines = [f"# Sweep: {len(sweep.trials)} trials against {md_text(sweep.base)}", "",
             md_text(verdict(sweep)), "", md_text(conventions(sweep)).replace("\\`", "`"), "",
             "| " + " | ".join(md_text(c) for c in names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(md_text(c) for c in cells(sweep, t)) + " |" for t in sweep.trials]
    lines += ["", md_text(CHECK_NOTE).replace("\\`", "`"), ""]
    if sweep.best is not None:
        lines += ["![Bradley–Terry win rate of each trial vs the base](sweep.png)", ""]
    lines += ["## Folders", ""]
    for t in sweep.trials:
        report = f" · [report]({sweep.leaderboard}/{t.judged.folder}/report.md)" if t.judged else ""
        lines.append(f"- [{md_text(t.name)}]({t.folder}) · [recipe](recipes/{t.name}.yaml) · "
                     f"[log](logs/{t.name}.log){report}")
    return "\n".join(lines)


def card_table(sweep: Sweep) -> dict[str, Any]:
    """The card template's `sweep`: the headline, the column names and the rows, escaped."""
    return {"sentence": md_text(verdict(sweep)), "n_trials": len(sweep.trials),
            "columns": [md_text(c) for c in columns(sweep)],
            "rows": [[md_text(c) for c in cells(sweep, t)] for t in sweep.trials]}


def sweep_table(sweep: Sweep) -> Table:
    """The terminal's table, narrow enough for 80 columns (sweep.md has every column)."""
    table = Table(title=term_cell(f"sweep vs {sweep.base}  ({len(sweep.trials)} trials, "
                             f"{sweep.n_prompts or 0} prompts)"),
                  caption=Text("losses: train / eval; rates vs the base in % [interval]"),
                  box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for name in ("#", "settings", "loss", "win rate", "Bradley–Terry", "check"):
        # settings wrap at their spaces: wide enough for a field name like learning_rate
        table.add_column(Text(name), no_wrap=name != "settings", overflow="fold",
                         min_width=13 if name == "settings" else None)
    for t in sweep.trials:
        tr, s = t.training, t.judged
        loss = f"{number(tr.train_loss, 2)} / {number(tr.eval_loss, 2)}" if tr else "failed"
        bt = s.bradley_terry if s else None
        table.add_row(*(term_cell(c) for c in (
            str(t.rank or "–"), settings_text(t),
            loss, short(s.win_rate, s.ci.low, s.ci.high) if s else "",
            short(bt.win_rate, bt.low, bt.high) if bt else "", t.judge_check or "–")))
    return table


def short(rate: float, low: float, high: float) -> str:
    return f"{100 * rate:.1f} [{100 * low:.1f}–{100 * high:.1f}]"


def plot_sweep(sweep: Sweep, path: Path) -> None:
    """One bar per judged trial: its Bradley–Terry win rate vs the base with its interval, best
    on top, against the 50% line; skipped when matplotlib is absent or nothing was judged."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    rows = [t for t in sweep.trials if t.judged and t.judged.bradley_terry]
    if not rows:
        return
    fig, ax = plt.subplots(figsize=(7.2, 0.5 * len(rows) + 1.3), dpi=100)
    ax.axvline(50, color="grey", linestyle="--", linewidth=1)
    for y, t in enumerate(reversed(rows)):
        assert t.judged is not None and t.judged.bradley_terry is not None
        bt = t.judged.bradley_terry
        err = [[max(0.0, 100 * (bt.win_rate - bt.low))], [max(0.0, 100 * (bt.high - bt.win_rate))]]
        ax.errorbar([100 * bt.win_rate], [y], xerr=err, fmt="o", capsize=5,
                    color="tab:green" if t.name == sweep.best else "tab:blue")
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    labels = [settings_text(t).replace("$", r"\$") + (" (best)" if t.name == sweep.best else "")
              for t in reversed(rows)]
    ax.set_yticks(range(len(rows)), labels)
    base = sweep.base.replace("$", r"\$")
    ax.set_xlabel(f"win rate vs {base}, % (Bradley–Terry, intervals)")
    fig.tight_layout()
    save_png(fig, path)


def write_sweep_views(folder: SweepFolder, sweep: Sweep) -> None:
    """sweep.md and sweep.png, made from the record alone."""
    write_atomic(folder.md_file, sweep_markdown(sweep) + "\n")
    plot_sweep(sweep, folder.plot_file)
