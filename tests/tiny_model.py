"""The suite's tiny model: a randomly initialised two-layer Llama with the bundled model's tokenizer
and chat template, saved as a normal Hugging Face folder. It answers gibberish, fast.

Plumbing tests (training, resume, sweeps, the server engine, leaderboards, kills) run on it: what
they check is the wiring, and every real library (vLLM, transformers, trl, peft, lm-eval) loads
it as it loads any Llama. Tests where a real instruct model's behaviour is the point keep the
bundled SmolLM2 and say why.

Built once into CACHE/models/tiny-llama-<hash>, the hash taken over the recipe below, the
tokenizer files and the torch and transformers versions (their initialisers decide the weights),
so a changed recipe builds a new folder and an unchanged one is never rebuilt.

    python tests/tiny_model.py ~/.cache/judge     # build it (or find it) and print its folder
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

# Llama-shaped like SmolLM2 (grouped-query attention), shrunk: head_dim 32 is the smallest vLLM's
# CPU attention takes (32, 64, 80, ...); the context matches SmolLM2's, so no prompt that fits the
# bundled model is too long here. Almost all of its 6.4M parameters are the two 49152 x 64
# matrices the tokenizer's vocabulary needs: untied, since with random layers the last hidden
# state is nearly the input token's embedding, and a tied output layer would answer every token
# with itself (a reply of the prompt's last newline, repeated: empty text).
RECIPE = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "head_dim": 32,
    "max_position_embeddings": 8192,
    "rms_norm_eps": 1e-5,
    "rope_theta": 100000.0,
    "tie_word_embeddings": False,
    "initializer_range": 0.02,
}
SEED = 0
# what a chat needs besides weights; SmolLM2's generation_config names its stop and pad tokens
COPIED = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja",
          "generation_config.json")
SPECIAL = ("bos_token_id", "eos_token_id", "pad_token_id", "vocab_size")


def recipe_key(source: Path) -> str:
    """Content hash of everything that decides the folder's bytes."""
    import torch
    import transformers

    digest = hashlib.sha256(json.dumps({"recipe": RECIPE, "seed": SEED,
                                        "torch": torch.__version__,
                                        "transformers": transformers.__version__},
                                       sort_keys=True).encode())
    for name in (*COPIED, "config.json"):
        digest.update(name.encode() + (source / name).read_bytes())
    return digest.hexdigest()[:16]


def build_tiny(source: Path, cache_dir: Path) -> Path:
    """The tiny model's folder under cache_dir, built from `source` (the bundled model's converted
    folder, for its tokenizer) if it is not there yet. Atomic: a temp folder renamed into place,
    so two sessions building at once both end with one whole folder."""
    folder = cache_dir / "models" / f"tiny-llama-{recipe_key(source)}"
    if (folder / "model.safetensors").is_file():
        return folder
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    source_config = json.loads((source / "config.json").read_text())
    config = LlamaConfig(**RECIPE, **{k: source_config[k] for k in SPECIAL})
    torch.manual_seed(SEED)
    model = LlamaForCausalLM(config).to(torch.float32)
    tmp = folder.with_name(f".{folder.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    for name in COPIED:
        shutil.copyfile(source / name, tmp / name)
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(tmp, folder)
    except OSError:  # another session put it there first
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


if __name__ == "__main__":
    from judge.models.refs import resolve_model

    cache = Path(sys.argv[1]).expanduser()
    print(build_tiny(Path(resolve_model("smollm2", cache).path), cache))
