"""`judge templates`: see the shipped judge templates and check your own before spending GPU hours.

    judge templates list                  # name, kind, description
    judge templates show graded           # header and body of one template
    judge templates check my-judge.j2     # variables, sandboxed sample render, parser vs examples

`check` exits 0 when the template is sound, else 2 with one line per problem on stderr.
"""

from __future__ import annotations

import sys

import click

from judge.escape import term_text
from judge.templates.check import problems
from judge.templates.template import read_template, shipped


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


@templates.command()
@click.argument("path")
def check(path: str) -> None:
    """Render PATH (or a shipped name) against a sample, parse its example outputs, check its
    variables; exit 2 with one line per problem."""
    template = read_template(path)  # an unreadable file or a broken header is one InputError line
    found = problems(template)
    if found:
        for problem in found:
            click.echo(term_text(f"{template.origin}: {problem}"), err=True)
        sys.exit(2)
    count = len(template.spec.examples)
    click.echo(f"ok: {template.name} ({template.kind}, {len(template.labels)} labels, "
               f"{count} examples parsed as declared)")
