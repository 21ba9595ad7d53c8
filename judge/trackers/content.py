"""A folder's results as one TrackedRun: read from the files the command wrote (summary.json and
the run's ledgers, leaderboard.json, sweep.json), so a tracker shows the numbers the folder holds.

    compare      the headline numbers with their intervals, the verdict on the judge (its status
                 and reasons, position consistency, parse failures, control pairs, biases), the
                 rate of each prompt category, the verdict table (one row per prompt: both
                 answers, both orders' verdicts and the judge's replies) and winrate.png
    leaderboard  the ranked table, each model's rate and strength, the category table, the plot
    sweep        the trials' table and sweep.png; each trial a child run with its settings, its
                 judged win rate with its interval and its final losses

Settings are a fixed list of what shaped the numbers: no engine option (a server URL may carry
a password) and no API key ever reaches a tracker.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from judge.models.refs import display_name
from judge.pipeline.leaderboard import read_board
from judge.report.evidence import prompt_views
from judge.runs.boards import LeaderboardFolder, SweepFolder
from judge.runs.folder import RunFolder, read_json
from judge.runs.reader import read_run
from judge.runs.summary import PairwiseStats, Summary
from judge.stats.leaderboard import Standing
from judge.stats.sweep import read_sweep
from judge.trackers.records import Cell, Kind, Table, TrackedRun, interval, key_part, numbers

SETTINGS = ("base", "tuned", "judge", "template", "verdict", "structured", "prompts", "limit",
            "max_new_tokens", "judge_max_new_tokens", "temperature", "seed", "confidence",
            "bootstrap", "controls", "flow_metric")
PAIRWISE = ("n", "n_invalid", "wins", "ties", "losses", "standard_error", "soft_win_rate",
            "lc_win_rate", "p_value", "position_consistency", "first_position_rate")
VERDICT_COLUMNS = ["prompt_id", "category", "prompt", "base_answer", "tuned_answer",
                   "base_first_verdict", "tuned_first_verdict", "base_first_reply",
                   "tuned_first_reply", "score", "outcome", "split_decision"]


def folder_run(kind: Kind, root: Path) -> TrackedRun:
    build = {"compare": compare_run, "leaderboard": leaderboard_run, "sweep": sweep_run}
    if kind not in build:
        raise ValueError(f"no folder of kind {kind}")
    return build[kind](root)


def name_of(root: Path) -> str:
    return root.resolve().name


def opt(record: Any, *path: str) -> Any:
    """record.a.b, or None where a step of it is None."""
    for name in path:
        if record is None:
            return None
        record = getattr(record, name)
    return record


def short_tag(text: str) -> str:
    return text[:64]  # W&B's limit on a tag


def pairwise_numbers(pw: PairwiseStats) -> dict[str, float]:
    """The headline: each rate beside the interval that belongs to it (bootstrap around the mean
    score, Wilson around the discrete rate), and the counts."""
    boot, wilson = pw.ci_bootstrap, pw.ci
    return (interval("win_rate", pw.win_rate, boot.low, boot.high)
            | interval("discrete_win_rate", pw.discrete_win_rate, wilson.low, wilson.high)
            | numbers("", {k: getattr(pw, k) for k in PAIRWISE}))


def judge_numbers(summary: Summary) -> dict[str, float]:
    """The verdict on the judge in numbers: parse failures, position bias, control pairs."""
    out = numbers("judge/verdict_sources", summary.verdict_sources)
    out |= numbers("judge", {"invalid_lines": summary.pairwise.n_invalid,
                             "position_consistency": summary.pairwise.position_consistency,
                             "first_position_rate": summary.pairwise.first_position_rate})
    if summary.controls is not None:
        c = summary.controls
        out |= interval("judge/controls_accuracy", c.accuracy, opt(c.ci, "low"),
                        opt(c.ci, "high"))
        out |= numbers("judge/controls", {"n": c.n, "n_invalid": c.n_invalid})
    if summary.bias is not None:
        b = summary.bias
        out |= numbers("judge/bias", {"prefer_longer": b.prefer_longer,
                                      "prefer_lists": b.prefer_lists,
                                      "more_list_items": b.more_list_items})
    if summary.panel is not None:
        out |= numbers("judge/panel", {"fleiss_kappa": summary.panel.fleiss_kappa})
    for label, member in summary.members.items():  # each panel member's own rate
        boot = member.pairwise.ci_bootstrap
        out |= interval(f"judge/members/{key_part(label)}/win_rate", member.pairwise.win_rate,
                        boot.low, boot.high)
    return out


def other_numbers(summary: Summary) -> dict[str, float]:
    """Graded, pointwise, style-controlled and benchmark numbers, where the run has them."""
    out: dict[str, float] = {}
    if summary.graded is not None:
        g = summary.graded
        out |= interval("graded/weighted_win_rate", g.weighted_win_rate, g.ci.low, g.ci.high)
    if summary.ratings is not None:
        r = summary.ratings
        out |= interval("ratings/mean_difference", r.mean_difference, r.ci.low, r.ci.high)
        out |= numbers("ratings", {"mean_base": r.mean_base, "mean_tuned": r.mean_tuned})
    style = summary.style_control
    if style is not None:
        out |= interval("style_control/win_rate", style.win_rate, opt(style.ci, "low"),
                        opt(style.ci, "high"))
    for task, delta in summary.benchmarks.items():
        out |= numbers(f"bench/{key_part(task)}", {"base": delta.base, "tuned": delta.tuned,
                                                    "delta": delta.delta})
    return out


def category_table(by_category: dict[str, PairwiseStats | None]) -> Table:
    rows: list[list[Cell]] = []
    for name, pw in by_category.items():
        if pw is None:
            rows.append([name, None, None, None, None, None])
            continue
        boot = pw.ci_bootstrap
        rows.append([name, pw.n, pw.n_invalid, pw.win_rate, boot.low, boot.high])
    return Table(columns=["category", "n", "n_invalid", "win_rate", "win_rate_low",
                          "win_rate_high"], rows=rows)


def verdict_table(root: Path) -> Table:
    """One row per prompt, as verdicts.csv, with the texts themselves (data, never markup)."""
    data = read_run(RunFolder(root))
    rows: list[list[Cell]] = []
    for v in prompt_views(data.items, data.answers, data.judgments):
        by_order = {j.order: j for j in v.judgments}
        first, second = by_order.get("base_first"), by_order.get("tuned_first")
        rows.append([v.prompt_id, v.category, "\n\n".join(v.turns), v.base, v.tuned,
                     opt(first, "winner"), opt(second, "winner"), opt(first, "raw"),
                     opt(second, "raw"), v.score, v.outcome, v.split])
    return Table(columns=VERDICT_COLUMNS, rows=rows)


def compare_run(root: Path) -> TrackedRun:
    folder = RunFolder(root)
    summary, run = folder.read_summary(), folder.read_run()
    config = {key: run.config.get(key) for key in SETTINGS if key in run.config}
    if run.config.get("panel"):
        config["panel"] = ", ".join(str(p) for p in run.config["panel"])
    metrics = pairwise_numbers(summary.pairwise) | judge_numbers(summary) | other_numbers(summary)
    for name, pw in summary.by_category.items():
        if pw is not None:
            metrics |= interval(f"category/{key_part(name)}/win_rate", pw.win_rate,
                                pw.ci_bootstrap.low, pw.ci_bootstrap.high)
    notes = {"base": summary.base, "tuned": summary.tuned, "judge": summary.judge,
             "template": summary.template}
    tags = ["compare", short_tag(f"judge:{display_name(summary.judge)}"),
            short_tag(f"template:{summary.template}")]
    if summary.verdict is not None:
        notes["judge_verdict"] = summary.verdict.status
        notes["judge_verdict_reasons"] = "\n".join(summary.verdict.reasons)
        tags.append(f"judge-verdict:{summary.verdict.status}")
    if summary.pairwise.warnings:
        notes["warnings"] = "\n".join(summary.pairwise.warnings)
    tables = {"verdicts": verdict_table(root)}
    if summary.by_category:
        tables["categories"] = category_table(summary.by_category)
    images = {"winrate": str(folder.plot_file)} if folder.plot_file.is_file() else {}
    return TrackedRun(name=name_of(root), kind="compare", tags=tags,
                      params=config | {"n_prompts": run.n_prompts}, notes=notes,
                      metrics=metrics, tables=tables, images=images)


def standing_numbers(s: Standing) -> dict[str, float]:
    out = interval("win_rate", s.win_rate, s.ci.low, s.ci.high)
    out |= numbers("", {"n": s.n, "n_invalid": s.n_invalid, "wins": s.wins, "ties": s.ties,
                        "losses": s.losses, "position_consistency": s.position_consistency,
                        "rank": s.rank})
    if s.bradley_terry is not None:
        bt = s.bradley_terry
        out |= interval("bradley_terry/win_rate", bt.win_rate, bt.low, bt.high)
        out |= numbers("bradley_terry", {"strength": bt.strength, "elo": bt.elo})
    return out


STANDING_COLUMNS = ["rank", "name", "win_rate", "win_rate_low", "win_rate_high", "wins", "ties",
                    "losses", "n", "n_invalid", "position_consistency", "strength", "elo",
                    "judge_verdict"]


def standing_row(s: Standing) -> list[Cell]:
    bt = s.bradley_terry
    return [s.rank, s.name, s.win_rate, s.ci.low, s.ci.high, s.wins, s.ties, s.losses, s.n,
            s.n_invalid, s.position_consistency, opt(bt, "strength"), opt(bt, "elo"),
            opt(s.verdict, "status")]


def leaderboard_run(root: Path) -> TrackedRun:
    board = read_board(root)
    metrics: dict[str, float] = {}
    categories: list[list[Cell]] = []
    for s in board.standings:
        metrics |= {f"{key_part(s.name)}/{k}": v for k, v in standing_numbers(s).items()}
        categories += [[s.name, cat, rate.n, rate.n_invalid, rate.win_rate,
                        opt(rate.ci, "low"), opt(rate.ci, "high")]
                       for cat, rate in s.categories.items()]
    tables = {"leaderboard": Table(columns=STANDING_COLUMNS,
                                   rows=[standing_row(s) for s in board.standings])}
    if categories:
        tables["categories"] = Table(columns=["name", "category", "n", "n_invalid", "win_rate",
                                              "win_rate_low", "win_rate_high"], rows=categories)
    plot = LeaderboardFolder(root).plot_file
    return TrackedRun(
        name=name_of(root), kind="leaderboard",
        tags=["leaderboard", short_tag(f"judge:{display_name(board.judge)}")],
        params={"reference": board.reference, "judge": board.judge, "template": board.template,
                "n_prompts": board.n_prompts, "models": len(board.standings)},
        notes={"reference": board.reference_ref}, metrics=metrics, tables=tables,
        images={"leaderboard": str(plot)} if plot.is_file() else {})


def setting_cell(value: Any) -> Cell:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, sort_keys=True)


def sweep_run(root: Path) -> TrackedRun:
    folder = SweepFolder(root)
    sweep = read_sweep(read_json(folder.json_file), str(folder.json_file))
    name = name_of(root)
    children: list[TrackedRun] = []
    rows: list[list[Cell]] = []
    for t in sweep.trials:
        training = t.training
        losses = numbers("training", {
            name: opt(training, name)
            for name in ("train_loss", "eval_loss", "reward_accuracy", "steps")})
        judged = standing_numbers(t.judged) if t.judged is not None else {}
        notes: dict[str, str] = {"status": t.status}
        if t.judge_check:
            notes["judge_check"] = t.judge_check
        if t.judge_check_reasons:
            notes["judge_check_reasons"] = "\n".join(t.judge_check_reasons)
        if t.error:
            notes["error"] = t.error
        params: dict[str, Cell] = {"method": t.method}
        params |= {key_part(k): setting_cell(v) for k, v in t.settings.items()}
        children.append(TrackedRun(
            name=t.name, kind="trial", group=name, tags=["trial", t.method, t.status],
            params=params,
            notes=notes, metrics=judged | losses))
        s = t.judged
        rows.append([t.rank, t.name, t.method, setting_cell(t.settings), t.status,
                     opt(s, "win_rate"), opt(s, "ci", "low"), opt(s, "ci", "high"),
                     opt(s, "bradley_terry", "strength"), opt(training, "train_loss"),
                     opt(training, "eval_loss"), t.judge_check])
    table = Table(columns=["rank", "name", "method", "settings", "status", "win_rate",
                           "win_rate_low", "win_rate_high", "strength", "train_loss",
                           "eval_loss", "judge_check"], rows=rows)
    notes = {"best": sweep.best or ""}
    if sweep.separation is not None:
        notes["distinguishable_from_runner_up"] = str(sweep.separation.distinguishable)
    return TrackedRun(
        name=name, kind="sweep", group=name, tags=["sweep"],
        params={"recipe": sweep.recipe, "base": sweep.base, "judge": sweep.judge,
                "template": sweep.template, "n_prompts": sweep.n_prompts,
                "trials": len(sweep.trials)},
        notes=notes, metrics=numbers("", {"trials": len(sweep.trials)}),
        tables={"trials": table},
        images={"sweep": str(folder.plot_file)} if folder.plot_file.is_file() else {},
        children=children)
