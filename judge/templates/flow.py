"""Flow Judge (flowaicom/Flow-Judge-v0.1) on the suite's own engines: vLLM, transformers or an
endpoint, with a hub id or a local model folder.

    from judge.templates.flow import FLOW_MODEL, flow_template
    template = flow_template("helpfulness-5", items)       # prompts/pointwise/flow.j2 + a metric
    judgments, _ = judge_stage(pool, judge, template, items, answers, "text", params, ledger, ...)

Flow-Judge-v0.1 was trained on one prompt layout (tagged inputs, output, criteria and rubric, then
a reply of <feedback>...</feedback><score>N</score>); flow.j2 keeps that layout in our own words.
A metric supplies the criteria and the rubric: flow-judge's presets when the optional package is
installed (`pip install --no-deps flow-judge==0.1.2`; its core would pull Jupyter packages we do
not use), and always the suite's own small set below, the only ones that fit a prompt set without
reference answers (flow-judge's presets need a reference answer or a retrieval context).
Each answer is rated alone, so statistics take the rating path (judge.ratings).
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from typing import Literal

from judge.errors import InputError, first_line
from judge.records import PromptItem, Record
from judge.templates.template import JudgeTemplate, load_template

log = logging.getLogger("judge")
FLOW_MODEL = "flowaicom/Flow-Judge-v0.1"
FLOW_INSTALL = "pip install --no-deps flow-judge==0.1.2"
# Flow's names for a metric's inputs -> the template variable a prompt set fills them from.
INPUTS = {"query": "instruction", "reference_answer": "reference"}


class RubricLevel(Record):
    score: int
    description: str


class FlowMetric(Record):
    name: str
    title: str
    criteria: str
    rubric: list[RubricLevel]
    inputs: list[str]
    origin: Literal["judge", "flow-judge"]


def _own(name: str, title: str, inputs: list[str], criteria: str, levels: list[str],
         first: int = 1) -> FlowMetric:
    rubric = [RubricLevel(score=first + i, description=d) for i, d in enumerate(levels)]
    return FlowMetric(name=name, title=title, criteria=criteria, rubric=rubric, inputs=inputs,
                      origin="judge")


OWN = {m.name: m for m in (
    _own("helpfulness-5", "Helpfulness (1-5)", ["query"],
         "How well does the response serve the person who wrote the query: is it correct, does it "
         "do what was asked, and is it clear enough to use as it stands?", [
             "The response is wrong, empty, or about something other than the query; it would "
             "not help the person at all.",
             "The response touches the query but is mostly wrong, misses the main request, or is "
             "too confused to use.",
             "The response addresses the query and is partly right, but has errors or gaps that "
             "a reader would have to fix or fill in.",
             "The response is correct and does what was asked; a small omission or some awkward "
             "wording keeps it from the top score.",
             "The response is correct, complete and clear; the person could use it as it stands.",
         ]),
    _own("correctness-5", "Correctness against a reference (1-5)", ["query", "reference_answer"],
         "Taking the reference answer as correct, how accurate and complete is the response as "
         "an answer to the query?", [
             "The response contradicts the reference on the main point, or does not answer the "
             "query.",
             "The response gets part of the reference right, but its main point is wrong or most "
             "of what the reference says is missing.",
             "The response agrees with the reference on the main point but leaves out, or gets "
             "wrong, details that matter.",
             "The response agrees with the reference on everything that matters; only minor "
             "details are missing.",
             "The response says everything in the reference that matters and nothing that "
             "contradicts it.",
         ]),
    _own("correctness-binary", "Correctness against a reference (0/1)",
         ["query", "reference_answer"],
         "Taking the reference answer as correct, does the response give the same answer to the "
         "query?", [
             "The response gives a different answer from the reference, leaves out a part of it "
             "that matters, or adds a claim that contradicts it.",
             "The response gives the same answer as the reference: every point that matters is "
             "there and nothing contradicts it.",
         ], first=0),
)}


def flow_judge_installed() -> bool:
    return importlib.util.find_spec("flow_judge") is not None


def preset_metrics() -> dict[str, FlowMetric]:
    """flow-judge's presets by lower-case constant name (response_correctness_5point, ...), or
    nothing when the package is absent or fails to import. Importing it is slow (it imports
    torch and vLLM), so this runs only when a metric outside the suite's own set is asked for."""
    if not flow_judge_installed():
        return {}
    try:
        from flow_judge.metrics import presets
    except Exception as err:  # an optional package that breaks on import must not break a run
        log.warning("flow-judge is installed but does not import (%s); using the suite's own "
                    "rubrics", first_line(err))
        return {}
    found = {}
    for constant in presets.list_all_metrics():
        metric = getattr(presets, constant)
        found[constant.lower()] = FlowMetric(
            name=constant.lower(), title=metric.name, criteria=metric.criteria,
            rubric=[RubricLevel(score=r.score, description=r.description) for r in metric.rubric],
            inputs=list(metric.required_inputs or []), origin="flow-judge")
    return found


def find_metric(name: str) -> FlowMetric:
    if name in OWN:
        return OWN[name]
    presets = preset_metrics()
    if name in presets:
        return presets[name]
    known = ", ".join([*OWN, *presets])
    hint = "" if presets else f"; flow-judge's presets need `{FLOW_INSTALL}`"
    raise InputError(f"unknown flow metric '{name}' (known: {known}{hint})")


def default_metric(items: Sequence[PromptItem]) -> str:
    """Correctness when every prompt has a reference answer (flow-judge's preset if installed),
    else the suite's helpfulness rubric: no flow-judge preset fits a prompt without a reference."""
    if items and all(item.reference for item in items):
        if flow_judge_installed():
            return "response_correctness_5point"
        log.info("flow-judge is not installed; using the suite's own correctness-5 rubric")
        return "correctness-5"
    return "helpfulness-5"


def format_rubric(metric: FlowMetric) -> str:
    """One line per level, lowest score first, as Flow-Judge-v0.1 saw rubrics in training."""
    return "\n".join(f"- Score {level.score}: {level.description}"
                     for level in sorted(metric.rubric, key=lambda level: level.score))


def bind_metric(
    template: JudgeTemplate, metric: str | None, items: Sequence[PromptItem] = ()
) -> JudgeTemplate:
    """A flow-kind template with a metric's criteria, rubric and score labels filled in."""
    if template.kind != "flow":
        raise InputError(f"template {template.name} is {template.kind}, not a flow template")
    chosen = find_metric(metric or default_metric(items))
    unusable = [name for name in chosen.inputs if name not in INPUTS]
    if unusable:
        fits = ", ".join(m for m in OWN if set(OWN[m].inputs) <= set(INPUTS))
        raise InputError(f"flow metric {chosen.name} needs {', '.join(unusable)}, which prompt "
                         f"sets do not carry (metrics that fit: {fits})")
    needs_reference = "reference_answer" in chosen.inputs
    lacking = [item.prompt_id for item in items if not item.reference]
    if needs_reference and lacking:
        raise InputError(f"flow metric {chosen.name} grades against a reference answer, but "
                         f"{len(lacking)} prompts have none (first: {lacking[0]})")
    variables = [v for v in template.spec.variables if v != "reference"]
    spec = {
        "labels": {str(level.score): level.score for level in chosen.rubric},
        "variables": variables + (["reference"] if needs_reference else []),
        "optional": [],
        "examples": [],  # the file's examples speak of a 1-5 scale; this rubric may not
        "description": f"{template.spec.description} Metric: {chosen.title}.",
    }
    values = {"criteria": chosen.criteria, "rubric": format_rubric(chosen)}
    return template.bind(chosen.name, values, spec)


def flow_template(metric: str | None = None, items: Sequence[PromptItem] = ()) -> JudgeTemplate:
    """The shipped Flow Judge template bound to `metric` (default: chosen from the prompts)."""
    return bind_metric(load_template("flow"), metric, items)


def prepare_template(
    template: JudgeTemplate, items: Sequence[PromptItem], metric: str | None = None
) -> JudgeTemplate:
    """For compare, right after loading the template and prompts: binds an unbound flow-kind
    template to its metric (before any model loads); every other template passes through."""
    if template.kind != "flow" or template.fixed:
        return template
    return bind_metric(template, metric, items)


def flow_judge_ref(judge: str) -> str | None:
    """`--judge flow` -> Flow-Judge-v0.1 from the hub; `--judge flow:REF` -> that folder or id
    in Flow's format; any other --judge value -> None (not a Flow judge)."""
    if judge == "flow":
        return FLOW_MODEL
    if judge.startswith("flow:") and judge[5:]:
        return judge[5:]
    return None
