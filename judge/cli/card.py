"""`judge card RUN`: a run folder's results in a model card, in place; optionally published.

    judge card results/base-vs-tuned --card path/to/tuned/README.md
    judge card results/base-vs-tuned --card path/to/tuned/README.md --push me/model --dry-run
"""

from __future__ import annotations

from pathlib import Path

import click

from judge.card.push import push_card
from judge.card.write import write_card
from judge.errors import InputError


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True))
@click.option("--card", "card_path", type=click.Path(dir_okay=False), default=None,
              help="The card (README.md) to create or update. Default RUN_DIR/card/README.md.")
@click.option("--template", default=None, type=click.Path(dir_okay=False),
              help="Your own Jinja2 template for the eval section.")
@click.option("--push", "repo_id", default=None,
              help="Also upload the tuned model folder and the card to this hub repo.")
@click.option("--model-dir", type=click.Path(file_okay=False), default=None,
              help="Folder to upload with --push (default: the tuned model of the run).")
@click.option("--dry-run", is_flag=True, help="With --push: list what would be uploaded, "
              "write and send nothing.")
def card(run_dir, card_path, template, repo_id, model_dir, dry_run) -> None:
    """Write RUN_DIR's results into a model card, between markers, idempotently."""
    run = Path(run_dir)
    target = Path(card_path) if card_path else run / "card" / "README.md"
    if dry_run and not repo_id:
        raise InputError("--dry-run only applies to --push REPO_ID")
    if not repo_id:
        write_card(run, target, template)
        click.echo(f"card: {target}")
        return
    uploads = push_card(run, target, repo_id, template=template, dry_run=dry_run,
                        model_dir=Path(model_dir) if model_dir else None)
    verb = "would upload" if dry_run else "uploaded"
    click.echo(f"{verb} {len(uploads)} files to {repo_id}:")
    for u in uploads:
        click.echo(f"  {u.path_in_repo}\t{u.size}\t{u.what}\t{u.source}")
