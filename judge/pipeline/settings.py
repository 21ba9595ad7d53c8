"""CompareConfig: the settings of one comparison, field by field, in one record.

It is the single source of the options `judge compare` and `judge leaderboard` take: each field's
default, range and description here become its flag, its default and its help text
(judge/cli/common.py derives them), and a run config file's keys are these names. A notebook
builds the same record and calls judge.pipeline.compare.run_compare(config, progress). This
module imports nothing heavy, so the record is there without the CLI or any engine.

    from judge.pipeline.settings import CompareConfig
    config = CompareConfig(base="smollm2", tuned="out/final", out="results/x",
                           cache_dir="~/.cache/judge", limit=20)
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from judge.engines import EngineOptions
from judge.pipeline.fill import WINDOW
from judge.records import Record

VerdictMode = Literal["text", "logprob", "both"]
SEED_MAX = 2**32 - 1  # numpy's seed range


class CompareConfig(Record):
    """The settings of one comparison (see the module docstring)."""

    base: str = Field(description="The base model: smollm2 (the bundled SmolLM2-135M-Instruct), "
                      "a model folder, a .gguf file, a hub id, or an answers file.")
    tuned: str = Field(description="The tuned model, as `base`.")
    judge: str = Field(
        default="smollm2", description="Judge model: smollm2, a model folder, a .gguf file or a "
        "hub id; 'flow' is Flow-Judge-v0.1 with its own format (template 'flow'), 'flow:PATH' a "
        "local copy. MODEL@TEMPLATE gives it a template of its own. Repeat it for a panel: each "
        "judge judges every pair, the panel decides by majority.")
    panel: list[str] = Field(default=[], description="Further judges: with them, `judge` is the "
                             "first of a panel (on the command line: --judge again).")
    controls: int = Field(
        default=8, ge=0, le=100_000, description="Control pairs per kind, built from the run's "
        "own answers (the real answer against an answer to another prompt, and against itself "
        "cut short): they check the judge and count in no win rate; 0 skips them.")
    prompts: str | None = Field(
        default=None, description="Prompt set: 'builtin' (48 instructions; the default when no "
        "model is an answers file), a .jsonl/.json/.csv/.parquet file, or a datasets hub id "
        "ORG/NAME[:CONFIG][@SPLIT]. With answers files: only these prompts (default: the "
        "prompts the files answer).")
    prompt_column: str | None = Field(default=None, description="Column with the prompt text "
                                      "(default: 'prompt', else 'instruction').")
    limit: int | None = Field(default=None, description="Use only the first N prompts.")
    template: str = Field(default="pairwise", description="Judge template: a name from prompts/ "
                          "or a path to your own .j2 file.")
    verdict: VerdictMode = Field(
        default="both", description="Read the verdict from the judge's text, from label "
        "probabilities of its first token, or both (text where it parses, else log-prob).")
    # hold judges to their templates' grammars; None: as the run folder recorded, else where the
    # engine can (judge/pipeline/structured.py); run.json records what it came to
    structured: bool | None = Field(
        default=None, description="Constrain the judge's reply to what its template's parser "
        "reads (a choice of labels, reasoning then the verdict, or a JSON schema), so no verdict "
        "fails to parse. Default: on with vLLM (in-process or a vLLM server), off elsewhere; a "
        "run folder resumes as it was recorded.")
    max_new_tokens: int = Field(default=256, ge=1, le=1_000_000, description="Answer length "
                                "budget for the models that answer.")
    judge_max_new_tokens: int = Field(default=48, ge=1, le=1_000_000, description="Reply length "
                                      "budget for the judge (text verdicts).")
    temperature: float = Field(default=0.0, ge=0.0, le=100.0, description="Sampling temperature "
                               "for answers (0 = greedy).")
    seed: int = Field(default=0, ge=0, le=SEED_MAX, description="Seed for sampling and the "
                      "bootstrap.")
    confidence: float = Field(default=0.95, ge=0.5, le=0.999, description="Interval level.")
    bootstrap: int = Field(default=2000, ge=100, le=100_000, description="Bootstrap resamples for "
                           "the paired interval.")
    # the in-flight window; named `chunk` as every run.json has recorded it
    chunk: int = Field(
        default=WINDOW, ge=1, le=10_000_000, description="Prompts the engine is offered at once "
        "(the in-flight window; --chunk is its old name). Every answer and verdict is saved the "
        "moment it finishes, so a kill loses only what was in flight; keep it well above what "
        "the engine runs at once (vLLM: 256 sequences, openai: --concurrency).")
    bench: list[str] = Field(default=[], description="lm-eval tasks to run on both models "
                             "(judge_mcq ships offline; hub tasks such as arc_easy need the hub).")
    bench_limit: int | None = Field(default=None, ge=1, description="Questions per benchmark "
                                    "task.")
    num_fewshot: int | None = Field(default=None, ge=0, description="Benchmark shots.")
    include_path: list[str] = Field(default=[], description="Folders of your own lm-eval task "
                                    "YAMLs.")
    card: str | None = Field(default=None, description="Model card (README.md) to create or "
                             "update with this run's results.")
    card_template: str | None = Field(default=None, description="Your own Jinja2 card-section "
                                      "template.")
    report_template: str | None = Field(default=None, description="Your own Jinja2 template for "
                                        "report.html (it may extend report.html.j2).")
    flow_metric: str | None = Field(
        default=None, description="Flow judge: the rubric (a flow-judge preset or helpfulness-5, "
        "correctness-5, correctness-binary); default picked from the prompts.")
    out: str = Field(description="Run folder; rerunning resumes from its cache.")
    cache_dir: str = Field(description="Where converted GGUF models are kept.")
    engine: EngineOptions = Field(default=EngineOptions(), description="Every role's engine, "
                                  "unless it has its own.")
    engines: dict[str, EngineOptions] = Field(
        default={}, description="A role's own engine: 'base', 'tuned', 'judge' (every judge), or "
        "a model reference as given (one judge of a panel, one model of a leaderboard), which "
        "wins over its role's.")

    export: list[Literal["alpaca_eval"]] = Field(
        default=[], description="Files for other tools, written beside the run's own "
        "(judge/pipeline/export.py): alpaca_eval's annotations.json and leaderboard.csv.")

    def role_engine(self, role: str, ref: str | None = None) -> EngineOptions:
        """The engine options one role runs with (see `engines`)."""
        if ref is not None and ref in self.engines:
            return self.engines[ref]
        return self.engines.get(role, self.engine)
