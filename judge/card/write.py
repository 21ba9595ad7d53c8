"""The model card round trip: a run folder's evidence in the card, in place, idempotently.

    judge card results/base-vs-tuned --card path/to/tuned/README.md
    judge card results/base-vs-tuned --card README.md --template my_section.md.j2

Only the text between the two markers below is ours; every byte outside them stays as it was. The
numbers also go into the front matter's `model-index` (via huggingface_hub's ModelCardData), where
our entries are the ones whose metric `config` starts with "judge:", so other results survive.
Everything is rendered in memory first: a card we cannot parse is reported and left untouched.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import yaml

from judge.card.context import card_context, card_facts
from judge.errors import InputError
from judge.escape import meta_text
from judge.files import check_targets, check_writable, read_bytes, read_text, write_bytes_atomic
from judge.report.format import plot_title
from judge.report.plots import WINRATE_HEIGHT, draw_winrate, plain
from judge.resources import resource
from judge.runs.summary import PairwiseStats
from judge.sandbox import TEMPLATE_BYTES, BoundedSandbox, TemplateFailure, render

START, END = "<!-- judge:eval:start -->", "<!-- judge:eval:end -->"
PLOT_NAME = "judge_eval.png"
OURS = "judge:"
DEFAULT_TEMPLATE = resource("judge.card", "templates", "eval_section.md.j2")
FENCE = re.compile(r"\A---[ \t]*\r?\n")
CARD_BYTES = 64 << 20  # a model card is text; a bigger "card" is some other file
CLOSE = re.compile(r"^---[ \t]*(\r?\n|\Z)", re.MULTILINE)


def split_front_matter(text: str, where: Path) -> tuple[dict[str, Any], str]:
    """(metadata, body) of a card; the body is everything after the closing `---` line, verbatim."""
    opening = FENCE.match(text)
    if opening is None:
        return {}, text
    closing = CLOSE.search(text, opening.end())
    if closing is None:
        raise InputError(f"{where}: front matter opened with '---' is never closed")
    try:
        meta = yaml.safe_load(text[opening.end() : closing.start()])
    except RecursionError:
        raise InputError(f"{where}: front matter nests too deeply") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" (line {mark.line + 2})" if mark is not None else ""
        raise InputError(f"{where}: front matter is not valid YAML{line}") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise InputError(f"{where}: front matter must be a YAML mapping of keys to values")
    return meta, text[closing.end() :]


def replace_section(body: str, section: str, where: Path) -> str:
    """Put `section` between the markers, or append it when the card has none yet."""
    starts, ends = body.count(START), body.count(END)
    if starts == ends == 0:
        glue = "" if not body or body.endswith("\n") else "\n"
        return f"{body}{glue}{'' if not body.strip() else chr(10)}{section}\n"
    begin, end = body.find(START), body.find(END)
    if starts != 1 or ends != 1 or end < begin:
        raise InputError(f"{where}: expected one '{START}' followed by one '{END}'; "
                         f"found {starts} and {ends} — fix the markers by hand")
    return body[:begin] + section + body[end + len(END) :]


def eval_results(facts: dict[str, Any]) -> list:
    """Our model-index entries: the judge's win rate and each benchmark's tuned score. Every text
    from data goes through meta_text: one line, no control characters, no HTML."""
    from huggingface_hub import EvalResult

    context: dict[str, Any] = {k: meta_text(v) if isinstance(v, str) else v
                               for k, v in facts.items()}
    context["benchmarks"] = [{**row, "task": meta_text(row["task"]),
                              "metric": meta_text(row["metric"])} for row in facts["benchmarks"]]
    pw = context["pairwise"]
    results = [EvalResult(
        task_type="text-generation", task_name="Pairwise preference vs base (LLM judge)",
        dataset_type="judge-prompts", dataset_name=context["prompts"],
        metric_type="win_rate", metric_value=round(pw["win_rate"], 4),
        metric_name=f"Win rate vs {context['base']} (judge {context['judge']})",
        metric_config=f"{OURS}pairwise/{context['template']}",
    )]
    for row in context["benchmarks"]:
        results.append(EvalResult(
            task_type="text-generation", task_name=row["task"],
            dataset_type=row["task"], dataset_name=row["task"],
            metric_type=row["metric"].split(",")[0], metric_value=round(row["tuned"], 4),
            metric_name=f"{row['metric']} (lm-eval)", metric_config=f"{OURS}lm-eval",
        ))
    return results


def front_matter(meta: dict[str, Any], context: dict[str, Any], where: Path) -> str:
    """The card's YAML with our model-index entries replaced and everything else kept."""
    from huggingface_hub import ModelCardData

    fresh = not meta
    try:
        data = ModelCardData(**meta)
    except (ValueError, TypeError) as err:
        reason = str(err).split(". Pass")[0]  # drop huggingface_hub's advice to ignore errors
        raise InputError(f"{where}: front matter is not valid card metadata ({reason})") from None
    if fresh:
        data.library_name = "transformers"
        if context["base_hub_id"]:
            data.base_model = context["base_hub_id"]  # a hub id by its pattern: nothing to escape
    kept = [r for r in data.eval_results or [] if not str(r.metric_config or "").startswith(OURS)]
    data.eval_results = kept + eval_results(context)
    data.model_name = data.model_name or meta_text(context["model_name"])
    order = [key for key in meta if key != "model-index"]
    return data.to_yaml(original_order=order)


def section_template(template: str | None) -> Any:
    """The card section's template compiled in the sandbox (judge/sandbox.py): the shipped one, or
    the user's file. A missing, unreadable or broken file is one InputError, found before a run
    computes anything (compare, leaderboard and sweep check it first)."""
    path = Path(template) if template else DEFAULT_TEMPLATE
    source = read_text(path, "card template", TEMPLATE_BYTES)
    env = BoundedSandbox(keep_trailing_newline=False, autoescape=False, trim_blocks=True,
                         lstrip_blocks=True)
    env.add_filters(pct=pct, pp=pp, points=points, num=num, fence=fence)
    try:
        return env.compile_source(source)
    except TemplateFailure as err:
        raise InputError(f"card template {path}: {err}") from None


def render_section(context: dict[str, Any], template: str | None) -> str:
    path = Path(template) if template else DEFAULT_TEMPLATE
    try:
        text = render(section_template(template), context)
    except TemplateFailure as err:
        raise InputError(f"card template {path}: {err}") from None
    if START in text or END in text:
        raise InputError(f"card template {path} must not contain the section markers itself")
    return f"{START}\n{text.strip()}\n{END}"


def pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


def pp(value: float | None, digits: int = 1) -> str:
    """A difference of two rates, in percentage points with its sign."""
    return "n/a" if value is None else f"{100 * value:+.{digits}f} pp"


def points(value: float | None, digits: int = 1) -> str:
    """A spread (standard error) of rates, in percentage points."""
    return "n/a" if value is None else f"{100 * value:.{digits}f} pp"


def num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def fence(text: str, lang: str = "text") -> str:
    """A fenced code block that the text itself cannot close (model outputs contain ```)."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text.strip()}\n{ticks}"


def card_figure(context: dict[str, Any]) -> Any:
    """Win rate with its interval (the run plot's look and title), and benchmark deltas with
    ±1.96 s.e.: a matplotlib figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pw, rows = PairwiseStats.model_validate(context["pairwise"]), context["benchmarks"]
    heights = [WINRATE_HEIGHT] + ([0.5 * len(rows) + 0.9] if rows else [])
    fig, axes = plt.subplots(len(heights), 1, figsize=(6.4, sum(heights)), dpi=100,
                             squeeze=False, gridspec_kw={"height_ratios": heights})
    title = plot_title(context["tuned"], context["base"], context["judge"], context["template"],
                       pw)
    draw_winrate(axes[0][0], pw, title)
    if rows:
        ax = axes[1][0]
        ax.axvline(0, color="grey", linestyle="--", linewidth=1)
        for i, row in enumerate(rows):
            spread = 196 * row["stderr"] if row["stderr"] is not None else 0.0
            ax.errorbar([100 * row["delta"]], [i], xerr=[spread], fmt="s", capsize=5,
                        color="tab:green" if row["delta"] >= 0 else "tab:red")
        ax.set_yticks(range(len(rows)), [plain(f"{r['task']} ({r['metric']})") for r in rows])
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xlabel("benchmark score, tuned minus base (points, 95% interval: ±1.96 s.e.)")
    fig.tight_layout()
    return fig


def plot_png(context: dict[str, Any]) -> bytes:
    """card_figure as PNG bytes."""
    import matplotlib.pyplot as plt

    fig = card_figure(context)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})  # no version: same bytes
    plt.close(fig)
    return buffer.getvalue()


def read_card(card_path: Path) -> str | None:
    if card_path.is_dir():
        raise InputError(f"--card {card_path} is a folder; name the README.md file inside it")
    if not card_path.exists() and not card_path.is_symlink():
        return None
    try:
        return read_bytes(card_path, "--card", CARD_BYTES).decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{card_path} is not UTF-8 text") from None


def check_card(card_path: Path, template: str | None = None) -> None:
    """Everything about the card that can fail, checked before a run spends any compute: the
    card (writable, parseable), its plot's place beside it, and the section template."""
    check_writable(card_path, "--card")
    text = read_card(card_path)
    if text is not None:
        split_front_matter(text, card_path)
    check_targets([card_path.with_name(PLOT_NAME)])
    section_template(template)


def render_card(run_dir: Path, card_path: Path, template: str | None = None,
                extra: dict[str, Any] | None = None) -> tuple[str, bytes]:
    """(new card text, plot PNG bytes) for the card at card_path; writes nothing. `extra` adds
    names to the template's namespace (`judge sweep` gives `sweep`: its table); without it the
    namespace is card_context's alone."""
    context = {**card_context(run_dir, PLOT_NAME), **(extra or {})}
    old = read_card(card_path)
    meta, body = split_front_matter(old, card_path) if old is not None else ({}, "")
    if old is None:
        body = f"# {context['model_name']}\n"
    section = render_section(context, template)
    facts = card_facts(run_dir, PLOT_NAME)
    text = f"---\n{front_matter(meta, facts, card_path)}\n---\n"
    return text + replace_section(body, section, card_path), plot_png(context)


def write_card(run_dir: Path, card_path: Path, template: str | None = None,
               extra: dict[str, Any] | None = None) -> None:
    """Create or update the card's eval section, model-index and plot (next to the card)."""
    check_card(card_path, template)
    text, png = render_card(run_dir, card_path, template, extra)
    plot = card_path.with_name(PLOT_NAME)
    if not plot.is_file() or plot.read_bytes() != png:
        write_bytes_atomic(plot, png)
    if read_card(card_path) != text:
        write_bytes_atomic(card_path, text.encode("utf-8"))

