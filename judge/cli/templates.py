"""`judge templates`: see the shipped judge templates and check your own before spending GPU hours.

    judge templates list                  # name, kind, description
    judge templates show graded           # header and body of one template
    judge templates check my-judge.j2     # variables, sandboxed sample render, parser vs examples
    judge templates import judge_prompts.jsonl#pair-v2 --out pair-v2.j2   # another project's

`check` exits 0 when the template is sound, saying which grammar `--structured` holds the judge to
(declared, derived, or none and why), else 2 with one line per problem on stderr.
`import` reads FastChat, alpaca_eval, arena-hard and prometheus-eval judge prompt files
(judge/templates/importers/) and writes our template, header and all, for you to read and edit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from judge.errors import InputError
from judge.escape import term_text
from judge.files import check_writable, write_atomic
from judge.templates.check import problems
from judge.templates.grammar import grammar_for
from judge.templates.importers import import_source
from judge.templates.template import JudgeTemplate, read_template, shipped


@click.group(invoke_without_command=True)
@click.pass_context
def templates(ctx: click.Context) -> None:
    """Judge templates: list the shipped ones, show one, check a file."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@templates.command("list")
def list_templates() -> None:
    """Name, kind and description of every shipped template."""
    found = sorted((read_template(str(path)) for path in shipped().values()),
                   key=lambda t: (t.kind != "pairwise", t.name))
    width = max(len(t.name) for t in found)
    for t in found:
        click.echo(f"{t.name:<{width}}  {t.kind:<9}  {t.spec.description}")


@templates.command()
@click.argument("name")
def show(name: str) -> None:
    """Print a template (a shipped NAME or a path): its header, then its body."""
    click.echo(read_template(name).source.rstrip("\n"))


BUDGET = click.option("--judge-max-new-tokens", "budget", type=click.IntRange(1), default=48,
                      show_default=True, help="The judge's reply budget, which sizes a derived "
                      "reason-first grammar.")


@templates.command()
@click.argument("path")
@BUDGET
def check(path: str, budget: int) -> None:
    """Render PATH (or a shipped name, or another project's judge prompt file) against a sample,
    parse its example outputs, check its variables; exit 2 with one line per problem."""
    template = read_template(path)  # an unreadable file or a broken header is one InputError line
    found = problems(template)
    if found:
        for problem in found:
            click.echo(term_text(f"{template.origin}: {problem}"), err=True)
        sys.exit(2)
    grammar = grammar_for(template, budget)
    count = len(template.spec.examples)
    click.echo(term_text(f"ok: {template.name} ({template.kind}, {len(template.labels)} "
                         f"labels, {count} examples parsed as declared)"))
    click.echo(term_text(f"grammar: {grammar.how}: {grammar.note}"))


@templates.command("import")
@click.argument("source")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The template file to write (.j2).")
@click.option("--system", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="arena-hard: a text file with the judge's system prompt (its "
              "configs do not hold one).")
@click.option("--force", is_flag=True, help="Overwrite --out when it exists.")
def import_(source: str, out: Path, system: Path | None, force: bool) -> None:
    """Turn SOURCE, another project's judge prompt file, into a template: FastChat
    judge_prompts.jsonl#NAME, an alpaca_eval annotator folder or its configs.yaml[#NAME], an
    arena-hard judge config .yaml, or prometheus-eval's prompts.py#PROMPT[+RUBRIC]."""
    if out.suffix != ".j2":
        raise InputError(f"--out {out}: a template file ends in .j2")
    if out.exists() and not force:
        raise InputError(f"--out {out} exists; pass --force to overwrite it")
    check_writable(out, "--out")
    imported = import_source(source, system)
    template = JudgeTemplate(out.stem, imported.text, str(out))  # what loading it will do
    for note in imported.notes:  # notes quote the source's paths and names: data
        click.echo(term_text(f"note: {note}"), err=True)
    write_atomic(out, imported.text)
    found = problems(template)
    click.echo(term_text(f"wrote {out}: {template.kind}, labels {', '.join(template.labels)}; "
                         + ("checks pass" if not found else f"{len(found)} problems (judge "
                            f"templates check {out})")))
