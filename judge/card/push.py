"""Publishing a tuned model with its card: upload, or list exactly what an upload would send.

    judge card results/base-vs-tuned --card out/README.md --push me/my-model --dry-run
    judge card results/base-vs-tuned --card out/README.md --push me/my-model

The token comes from huggingface_hub's usual places (HF_TOKEN, `hf auth login`) and is only handed
to huggingface_hub. A real push checks the token and the hub's reachability before it writes the
card or uploads a byte, so an offline push fails with one line and leaves everything as it was.
"""

from __future__ import annotations

from pathlib import Path

from judge.card.write import PLOT_NAME, render_card, write_card
from judge.errors import InputError, ServiceError, hub_failure
from judge.models.refs import HUB_ID
from judge.records import Record
from judge.runs.folder import RunFolder

# The card is the repo's README; judge_source.json (from a GGUF conversion) names local paths.
EXCLUDED = {"README.md", PLOT_NAME, "judge_source.json"}


class Upload(Record):
    path_in_repo: str
    source: str
    size: int
    what: str


def model_folder(run_dir: Path, model_dir: Path | None) -> Path:
    """The folder to publish: --model-dir, else the tuned model the run loaded."""
    if model_dir is None:
        models = RunFolder(run_dir).read_run().models
        if "tuned" not in models:
            raise InputError(f"{run_dir / 'run.json'} names no tuned model; pass --model-dir")
        model_dir = Path(models["tuned"].path)
    if not model_dir.is_dir():
        raise InputError(f"model folder {model_dir} does not exist; pass --model-dir")
    return model_dir


def plan_uploads(folder: Path, card_path: Path, card_text: str, png: bytes) -> list[Upload]:
    uploads = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        hidden = any(part.startswith(".") for part in rel.parts)
        if path.is_file() and not hidden and rel.as_posix() not in EXCLUDED:
            uploads.append(Upload(path_in_repo=rel.as_posix(), source=str(path),
                                  size=path.stat().st_size, what="model file"))
    uploads.append(Upload(path_in_repo="README.md", source=str(card_path),
                          size=len(card_text.encode("utf-8")), what="model card"))
    uploads.append(Upload(path_in_repo=PLOT_NAME, source=str(card_path.with_name(PLOT_NAME)),
                          size=len(png), what="card plot"))
    return uploads


def check_hub() -> str:
    """The token, once the hub has answered for it; else one line saying why not."""
    from huggingface_hub import HfApi, constants, get_token

    if constants.HF_HUB_OFFLINE:
        raise ServiceError("cannot push: huggingface_hub is in offline mode (HF_HUB_OFFLINE); "
                           "nothing was written or uploaded")
    token = get_token()
    if not token:
        raise InputError("cannot push: no Hugging Face token (set HF_TOKEN or run "
                         "`hf auth login`); nothing was written or uploaded")
    try:
        HfApi().whoami(token=token)
    except Exception as err:  # connection, DNS, proxy or HTTP errors
        raise hub_failure(err, "cannot push: the hub did not accept the token or is unreachable "
                          "(nothing was written or uploaded)") from None
    return token


def push_card(
    run_dir: Path,
    card_path: Path,
    repo_id: str,
    *,
    model_dir: Path | None = None,
    template: str | None = None,
    dry_run: bool = False,
) -> list[Upload]:
    """Write the card and upload it with the model folder; with dry_run, only say what would go."""
    if not HUB_ID.match(repo_id):
        raise InputError(f"--push {repo_id}: expected a hub repo id like user/model-name")
    folder = model_folder(run_dir, model_dir)
    text, png = render_card(run_dir, card_path, template)  # checks the card; writes nothing
    uploads = plan_uploads(folder, card_path, text, png)
    if dry_run:
        return uploads
    token = check_hub()
    write_card(run_dir, card_path, template)
    upload(repo_id, uploads, token)
    return uploads


def upload(repo_id: str, uploads: list[Upload], token: str) -> None:
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi(token=token)
    operations = [CommitOperationAdd(path_in_repo=u.path_in_repo, path_or_fileobj=u.source)
                  for u in uploads]
    try:
        api.create_repo(repo_id, exist_ok=True)
        api.create_commit(repo_id, operations=operations,
                          commit_message="Upload model with its judge evaluation card")
    except Exception as err:
        raise hub_failure(err, f"push to {repo_id} failed") from None
