"""What a run folder shows people, made from its data: report.md, winrate.png, report.html and
verdicts.csv (a leaderboard folder's leaderboard.md, .png and .html: judge/pipeline/leaderboard.py).

`judge compare` writes them at the end of every run from what it holds in memory. `judge report
FOLDER` writes them again from the folder alone, loading no model, for any run folder (old ones
included) and for a leaderboard folder with each of its run folders. Read back from a folder, a
run's prompts are its prompts.jsonl (a folder from before it: the base side's generations, in
ledger order), each side's answer is the generation line under the key the run used, and each
prompt's verdicts are the latest judgment line of each order, as the card reads them.

Everything is rendered in memory first: a template that fails leaves every file as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from judge.card.context import load_records, prompt_source
from judge.errors import InputError
from judge.files import check_targets, write_atomic
from judge.pipeline.generate import generation_key
from judge.pipeline.judging import Answers, shown_answer
from judge.pipeline.run_folder import RunFolder, RunRecord
from judge.records import Generation, Judgment, PromptItem
from judge.report.evidence import ORDER_RANK, prompt_views
from judge.report.export import verdicts_csv
from judge.report.format import plot_title, run_names
from judge.report.html import run_page
from judge.report.markdown import report_markdown
from judge.report.plots import plot_winrate
from judge.runs.lock import folder_lock
from judge.stats.summary import Summary


class RunData(NamedTuple):
    """What a run's views are made of."""

    summary: Summary
    run: RunRecord
    items: list[PromptItem]
    answers: Answers
    judgments: list[Judgment]


def render_views(folder: RunFolder, data: RunData, template: str | None) -> dict[Path, str]:
    """report.md, report.html and verdicts.csv as texts, written by nobody yet."""
    summary, run, items, answers, judgments = data
    views = prompt_views(items, answers, judgments)
    return {
        folder.html_file: run_page(summary, run, views, prompt_source(run), template),
        folder.report_file: report_markdown(summary, items, answers, judgments) + "\n",
        folder.csv_file: verdicts_csv(views),
    }


def write_views(folder: RunFolder, data: RunData, texts: dict[Path, str]) -> list[Path]:
    """The rendered texts and the win-rate plot, each replaced in one rename; a target that is a
    folder is refused before any of them is written."""
    check_targets([*texts, folder.plot_file])
    for path, text in texts.items():
        write_atomic(path, text)
    names = run_names(data.summary, data.run.models)
    pw = data.summary.pairwise
    plot_winrate(pw, plot_title(names["tuned"], names["base"], names["judge"],
                                names["template"], pw), folder.plot_file)
    return [*texts, folder.plot_file]


def folder_items(folder: RunFolder, base: list[Generation]) -> list[PromptItem]:
    """The run's prompts: its prompts.jsonl, or for an older folder the base side's generations
    (first line of each prompt id, in ledger order)."""
    if folder.prompts_file.is_file():
        return load_records(folder.prompts_file, PromptItem)
    seen: dict[str, PromptItem] = {}
    for g in base:
        seen.setdefault(g.prompt_id, PromptItem(prompt_id=g.prompt_id, prompt=g.prompt))
    return list(seen.values())


def read_run(folder: RunFolder) -> RunData:
    """A run folder's data as compare held it at the end of the run (see the module docstring)."""
    summary, run = folder.read_summary(), folder.read_run()
    sampling = run.side_sampling()
    models = {side: run.models[side] for side in ("base", "tuned")}
    lines = {side: load_records(folder.generations(model), Generation)
             for side, model in models.items()}
    by_key = {side: {g.key: g for g in found} for side, found in lines.items()}
    answers: Answers = {}
    items = folder_items(folder, lines["base"])
    for item in items:
        found = [by_key[side].get(generation_key(models[side], item, sampling[side]))
                 for side in ("base", "tuned")]
        if found[0] is not None and found[1] is not None:
            answers[item.prompt_id] = (shown_answer(item, found[0]), shown_answer(item, found[1]))
    latest: dict[tuple[str, str | None], Judgment] = {}
    judge, template = run.judge_ledgers()[0]  # a panel's views: its first judge's verdicts
    for j in load_records(folder.judgments(judge, template or summary.template), Judgment):
        if j.prompt_id in answers:
            latest[(j.prompt_id, j.order)] = j
    # an item read from generations has no category; its judgment lines may have one
    categories = {j.prompt_id: j.category for j in latest.values() if j.category is not None}
    items = [item if item.category is not None or item.prompt_id not in categories
             else item.model_copy(update={"category": categories[item.prompt_id]})
             for item in items if item.prompt_id in answers]
    rank = {item.prompt_id: i for i, item in enumerate(items)}
    judgments = sorted(latest.values(), key=lambda j: (rank[j.prompt_id], ORDER_RANK[j.order]))
    return RunData(summary, run, items, answers, judgments)


def rewrite_run(root: Path, template: str | None = None) -> list[Path]:
    """Every view of one run folder, again; the files written, report.html first. The folder is
    locked while they are (a run writing it at the same time is refused, or refuses this)."""
    folder = RunFolder(root)
    data = read_run(folder)
    texts = render_views(folder, data, template)
    with folder_lock(root, "run folder"):
        return write_views(folder, data, texts)


def regenerate(root: Path, page_template: str | None = None,
               board_template: str | None = None) -> list[Path]:
    """`judge report FOLDER`: a run folder's views, or a leaderboard folder's and every one of its
    run folders'. The files written, the page to open first."""
    if (root / "sweep.json").is_file():
        from judge.sweep.run import rewrite_sweep

        return rewrite_sweep(root, page_template, board_template)
    if (root / "leaderboard.json").is_file():
        from judge.pipeline.leaderboard import rewrite_board

        return rewrite_board(root, page_template, board_template)
    if not RunFolder(root).summary_file.is_file():
        raise InputError(f"{root} is neither a run folder (it has no summary.json) nor a "
                         "leaderboard folder (no leaderboard.json) nor a sweep (no sweep.json)")
    return rewrite_run(root, page_template)
