"""The words and numbers every view of a run shares: the terminal, report.md and the card."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from judge.models.refs import display_name, model_label
from judge.records import ModelInfo
from judge.runs.folder import RunRecord
from judge.runs.summary import (
    BenchDelta,
    ControlStats,
    Interval,
    JudgeVerdict,
    MemberSummary,
    PairwiseStats,
    PanelStats,
    Summary,
)


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def interval(ci: Interval | None, method: str) -> str:
    if ci is None:
        return "no interval"
    return f"{ci.level:.0%} interval {pct(ci.low)} – {pct(ci.high)} ({method})"


def mean_score(pw: PairwiseStats) -> str:
    """The mean score with its own interval (the bootstrap), its s.e., and why a spread of zero
    is not certainty when every item scored the same."""
    text = f"{pct(pw.win_rate)}, {interval(pw.ci_bootstrap, 'paired bootstrap')}"
    if pw.standard_error is None:
        return text + "; one prompt, no standard error"
    text += f", ± {pct(pw.standard_error)} s.e."
    if pw.standard_error == 0:
        kind = "is a tie" if pw.ties == pw.n else "has the same score"
        text += (f" (every prompt {kind}, so the scores do not vary; that is no certainty: "
                 "see the Wilson interval of the discrete rate)")
    return text


def headline(pw: PairwiseStats) -> list[tuple[str, str]]:
    """The rows every summary shows, in one place for the table, the report and the card. Each
    interval sits beside the rate it belongs to: the bootstrap beside the mean score, Wilson
    beside the discrete rate."""
    return [
        ("win rate (tuned vs base, mean score)", mean_score(pw)),
        ("discrete win rate (ties count half)",
         f"{pct(pw.discrete_win_rate)}, {interval(pw.ci, 'Wilson')}"),
        ("soft win rate (label probabilities)", pct(pw.soft_win_rate)),
        ("length-controlled win rate", pct(pw.lc_win_rate)),
        ("wins / ties / losses", f"{pw.wins} / {pw.ties} / {pw.losses}"),
        ("prompts judged (invalid lines)", f"{pw.n} ({pw.n_invalid})"),
        ("sign test p-value", f"{pw.p_value:.3g}"),
        ("position consistency", pct(pw.position_consistency)),
        ("first-shown answer wins", pct(pw.first_position_rate)),
        *[("warning", w) for w in pw.warnings],
    ]


def category_rows(by_category: Mapping[str, PairwiseStats | None]) -> list[tuple[str, str]]:
    """One row per category: the mean score with its bootstrap interval, n and W/T/L."""
    rows = []
    for name, pw in by_category.items():
        if pw is None:
            rows.append((name, "every verdict invalid"))
            continue
        rows.append((name, f"{pct(pw.win_rate)}, {interval(pw.ci_bootstrap, 'paired bootstrap')}"
                           f"; n {pw.n}, W/T/L {pw.wins}/{pw.ties}/{pw.losses}"))
    return rows


def bench_rows(benchmarks: Mapping[str, BenchDelta]) -> list[tuple[str, str]]:
    rows = []
    for task, b in benchmarks.items():
        spread = "n/a" if b.stderr is None else f"{b.stderr:.3f}"
        rows.append((f"{task} ({b.metric})",
                     f"{b.base:.3f} → {b.tuned:.3f}, delta {b.delta:+.3f} ± {spread}"
                     + ("" if b.p_value is None else f", McNemar p {b.p_value:.3g}")))
    return rows


class Rate(NamedTuple):
    """One rate of the win-rate plot, with its interval and the words a reader needs."""

    label: str
    rate: float
    low: float
    high: float
    level: float
    method: str

    @property
    def degenerate(self) -> bool:
        return zero_width(self.low, self.high)


def zero_width(low: float, high: float) -> bool:
    """An interval of zero width: every prompt scored alike, which is no certainty; every view
    marks it so that it cannot pass for a certain rate."""
    return high - low < 1e-9


def winrate_rates(pw: PairwiseStats) -> list[Rate]:
    """The two rates every plot of a run draws (winrate.png, the card's PNG, report.html), each
    with the interval that belongs to it, top row first."""
    return [
        Rate("win rate", pw.win_rate, pw.ci_bootstrap.low, pw.ci_bootstrap.high,
             pw.ci_bootstrap.level, "paired bootstrap over prompts"),
        Rate("prompts won, ties count half", pw.discrete_win_rate, pw.ci.low, pw.ci.high,
             pw.ci.level, "Wilson"),
    ]


def run_names(summary: Summary, models: Mapping[str, ModelInfo]) -> dict[str, str]:
    """The names a run's views call its models by: an answers file by the model it names, a local
    path by its last part; the judge's template by its name."""
    return {"base": model_label(models["base"]), "tuned": model_label(models["tuned"]),
            "judge": display_name(summary.judge), "template": summary.template}


def member_name(summary: Summary, label: str) -> str:
    """A judge of the run by display name: a panel member as MODEL@TEMPLATE (its label may be a
    local path), any other label as the run's judge."""
    member = summary.members.get(label)
    if member is None:
        return display_name(summary.judge)
    return f"{display_name(member.judge)}@{member.template}"


def plot_title(tuned: str, base: str, judge: str, template: str, pw: PairwiseStats) -> str:
    """Who was compared, by whom and on how much: the title of every win-rate plot."""
    invalid = f", {pw.n_invalid} invalid verdicts left out" if pw.n_invalid else ""
    return (f"{tuned} vs {base}\njudge {judge}, template {template}, "
            f"n = {pw.n} prompts in both orders{invalid}")


DEGENERATE_NOTE = "zero-width interval, every prompt scored alike (not certainty)"


def kappa(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


VERDICT = "verdict on the judge"  # the first of verdict_rows: report.md and the card lead with it


def verdict_text(verdict: JudgeVerdict, who: str = "the judge") -> str:
    """The sentence that leads every view of a run: could its judge (or panel) judge?"""
    if verdict.status == "inconclusive":
        return (f"inconclusive: {who} could not tell which answer is better on this run's own "
                f"checks: {'; '.join(verdict.reasons)}. The win rate below is no evidence either "
                "way.")
    if verdict.status == "passed":
        return (f"passed: {who} picked the real answer over the control pairs clearly above "
                "chance (the lower end of the interval is over 50%), and its verdicts did not "
                "follow the answer position")
    return (f"unchecked: {'; '.join(verdict.reasons)}, so nothing in this run says whether {who} "
            "could judge")


def smoke_text(names: list[str]) -> str:
    verb = "is" if len(names) == 1 else "are"
    return (f"{' and '.join(names)} {verb} the bundled smoke-test judge (SmolLM2-135M-Instruct), "
            "there to run the pipeline offline, not to decide which model is better")


def control_text(c: ControlStats) -> str:
    if not c.n or c.accuracy is None:
        skipped = ", ".join(f"{reason} {n}" for reason, n in c.skipped.items())
        return "none judged" + (f" (prompts passed over: {skipped})" if skipped else "")
    kinds = ", ".join(f"{kind} {pct(k.accuracy)} of {k.n}" for kind, k in c.by_kind.items()
                      if k.n)
    return (f"{pct(c.accuracy)} of verdicts for the real answer on {c.n} pairs (against an "
            f"off-topic or cut-off answer), {interval(c.ci, 'Wilson')}; position consistency "
            f"{pct(c.position_consistency)}; {kinds}; {c.n_invalid} with an invalid verdict")


def verdict_rows(summary: Summary) -> list[tuple[str, str]]:
    """The rows that lead a run's table: the verdict on the judge, the smoke-test note, the
    controls."""
    return check_rows(summary.verdict, summary.controls, bool(summary.panel))


def check_rows(verdict: JudgeVerdict | None, controls: ControlStats | None,
               panel: bool) -> list[tuple[str, str]]:
    rows = []
    if verdict is not None:
        rows.append((VERDICT, verdict_text(verdict, "the panel" if panel else "the judge")))
        if verdict.smoke_test:
            rows.append(("smoke-test judge", smoke_text(verdict.smoke_test)))
    if controls is not None:
        rows.append(("control pairs", control_text(controls)))
    return rows


def panel_rows(panel: PanelStats | None, members: Mapping[str, MemberSummary],
               name: Callable[[str], str] = str) -> list[tuple[str, str]]:
    """The panel's agreement and each member's own numbers; `name` shows a member's label."""
    if panel is None:
        return []
    rows = [("panel", f"{len(members)} judges; per prompt the majority of their outcomes (an "
                      "even split is a tie), the mean of their scores"),
            ("Fleiss' kappa (members' outcomes)",
             f"{kappa(panel.fleiss_kappa)} over the {panel.n} prompts every member judged "
             "validly")]
    rows += [(f"Cohen's kappa, {name(p.a)} / {name(p.b)}",
              f"{kappa(p.cohen_kappa)} over {p.n} prompts; same outcome on {pct(p.agreement)}")
             for p in panel.pairs]
    for label, m in members.items():
        pw, status = m.pairwise, m.verdict.status if m.verdict else "n/a"
        controls = pct(m.controls.accuracy) if m.controls else "n/a"
        rows.append((f"judge {name(label)}",
                     f"win rate {pct(pw.win_rate)}, W/T/L {pw.wins}/{pw.ties}/{pw.losses}, "
                     f"sides with the panel on {pct(panel.sides_with_panel.get(label))}; "
                     f"controls {controls}; {status}"))
    return rows


def one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def prompt_source(run: RunRecord) -> str:
    """The prompt set's name: builtin, a file by its name, a hub id; for a run whose prompts came
    from answers files (no --prompts), the first such file."""
    prompts = run.config.get("prompts", "builtin")
    if prompts is None:
        files = [m.ref for m in run.models.values() if m.kind == "answers"]
        return f"prompts of {display_name(files[0])}" if files else "builtin"
    return "builtin" if prompts == "builtin" else display_name(str(prompts))
