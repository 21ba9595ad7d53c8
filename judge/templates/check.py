"""What `judge templates check PATH` finds wrong with a template, one line per problem.

A template is worth checking before any model is loaded: it must use exactly the variables it
declares (and a run must be able to provide them), render a sample through the sandbox, show the
answers where the judge can see them, and its parser must read every declared example reply the
way the example says, and a declared grammar choice only offer replies the parser reads.
"""

from __future__ import annotations

from judge.errors import InputError
from judge.templates.grammar import grammar_problems
from judge.templates.template import PER_TURN, PROVIDED, SAMPLE, JudgeTemplate

SHOWN = {"pairwise": ("answer_a", "answer_b"), "pointwise": ("answer",), "flow": ("answer",)}


def problems(template: JudgeTemplate) -> list[str]:
    """Every problem found, each a self-contained sentence; empty when the template is sound."""
    found = variable_problems(template)
    # Render with every used variable given (undeclared ones are reported above), so the render
    # shows what else is wrong: sandbox refusals, filters that fail, answers in the wrong place.
    used = template.used_variables()
    probe = template.bind("check", {}, {"optional": sorted(used - set(template.spec.variables))})
    values = {v: SAMPLE.get(v, f"<{v}>") for v in used} | SAMPLE
    try:
        text = "\n".join(m.content for m in probe.render(**values))
    except InputError as err:
        found.append(str(err).removeprefix(f"template {probe.name}: "))
    else:
        found += placement_problems(template, text)
    return (found + example_problems(template) + label_problems(template)
            + grammar_problems(template))


def declared(template: JudgeTemplate) -> set[str]:
    return set(template.spec.variables) | set(template.spec.optional)


def variable_problems(template: JudgeTemplate) -> list[str]:
    used, names = template.used_variables(), declared(template)
    provided = PROVIDED[template.kind]
    # graded turn by turn (MT-Bench), a pointwise template may show the conversation so far
    accepted = set(provided) | (set(PER_TURN) if template.kind == "pointwise" else set())
    found = [f"uses `{v}` but does not declare it (add it to variables or optional)"
             for v in sorted(used - names)]
    found += [f"declares `{v}` but never uses it" for v in sorted(names - used)]
    found += [f"needs `{v}`, which no {template.kind} run provides (it gets: {', '.join(provided)})"
              for v in sorted(names - accepted)]
    turn_answers = template.kind == "pointwise" and bool(used & {"answer_1", "answer_2"})
    found += [f"never shows `{v}` to the judge" for v in SHOWN[template.kind]
              if v not in used and not turn_answers]
    return found


def placement_problems(template: JudgeTemplate, text: str) -> list[str]:
    """The sample answers must appear, and a pair in the order A then B."""
    shown = [SAMPLE[v] for v in SHOWN[template.kind] if v in template.used_variables()]
    where = [text.find(answer) for answer in shown]
    if any(i < 0 for i in where):
        return ["a sample answer does not appear verbatim in the rendered prompt"]
    if where != sorted(where):
        return ["answer_a must be shown before answer_b (verdict A means the first shown)"]
    return []


def example_problems(template: JudgeTemplate) -> list[str]:
    examples = template.spec.examples
    if not examples:
        return ["declares no example outputs, so nothing tests its parser (add `examples:`)"]
    found = []
    for number, example in enumerate(examples, start=1):
        if example.verdict is not None and example.verdict not in template.labels:
            found.append(f"example {number}: verdict {example.verdict!r} is not a declared label")
            continue
        got = template.parse(example.output)
        if got != example.verdict:
            found.append(f"example {number}: the parser reads {got!r} from {example.output!r}, "
                         f"the example says {example.verdict!r}")
    return found


def label_problems(template: JudgeTemplate) -> list[str]:
    """Label log-probs read the reply's first token, so labels must start differently."""
    if not template.spec.logprob:
        return []
    seen: dict[str, str] = {}
    for label in template.labels:
        other = seen.setdefault(label[:1], label)
        if other != label:
            return [f"labels {other!r} and {label!r} begin alike, so their first tokens cannot "
                    "tell them apart: declare `logprob: false`"]
    return []
