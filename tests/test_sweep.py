"""`judge sweep` driven by the scripted engine: exact verdicts through the real trial planning,
the real leaderboard, the best trial's statistics and its card.

The trials are trained by hand here, for real on the tiny model: `judge train orpo` in this
process on each trial's own recipe, as its child would, so the sweep finds them trained (once, for
the module: a second sweep of the same recipe and grid starts from copies of two of them). One
trial is left with a damaged checkpoint: its child really runs `judge train --resume`, fails, and
the sweep goes on without it. tests/test_sweep_train.py runs children, kills and the real engine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from helpers import judge_cli, metric_lines, train
from scenes import ScriptedEngine, make_folder

from judge.engines import EngineOptions
from judge.errors import InputError
from judge.escape import md_text
from judge.models.refs import display_name
from judge.pipeline.compare import CompareConfig
from judge.stats.sweep import TrialResult, separation
from judge.sweep.run import SweepConfig, plan_sweep, run_sweep
from judge.sweep.trials import recipe_text

PROMPTS = [f"Question number {i}?" for i in range(1, 7)]
RATES = ["1e-5", "2e-5", "3e-5"]


class Sweeper:
    """A sweep over learning_rate (three trials) whose trials answer '<trial> answer to <prompt>'
    and a judge that prefers trial 3e-5's answer in both orders and otherwise the first answer
    shown (a split decision: a tie once both orders are averaged)."""

    def __init__(self, tmp: Path, base: str | None = None) -> None:
        self.tmp = tmp
        self.base = base or make_folder(tmp, "base")  # the tiny model where trials train
        self.judge = make_folder(tmp, "judge")
        prompts = tmp / "prompts.jsonl"
        prompts.write_text("".join(json.dumps({"prompt_id": f"p{i}", "prompt": p}) + "\n"
                                   for i, p in enumerate(PROMPTS, start=1)))
        recipe = tmp / "recipe.yaml"
        recipe.write_text(f"model: {self.base}\nmax_steps: 2\nmax_length: 64\nbeta: 0.1\n"
                          "logging_steps: 1\nwarmup_steps: 0\neval_fraction: 0.1\n")
        self.config = SweepConfig(
            recipe=str(recipe), grid=[f"learning_rate={','.join(RATES)}"], out=str(tmp / "sweep"),
            judging=CompareConfig(base="-", tuned="-", judge=self.judge, prompts=str(prompts),
                                  out="-", cache_dir=str(tmp / "cache"), verdict="text",
                                  bootstrap=200, engine=EngineOptions(kind="hf")))
        self.names = {t.settings["learning_rate"]: t.name for t in plan_sweep(self.config).trials}
        self.loaded: list[str] = []

    def name(self, rate: str) -> str:
        return self.names[float(rate)]

    def train_by_hand(self, rate: str) -> Path:
        """Train the trial for real, as its child would: `judge train orpo` on its own recipe."""
        (trial,) = [t for t in plan_sweep(self.config).trials if t.name == self.name(rate)]
        recipe = self.tmp / f"{trial.name}.yaml"
        recipe.write_text(recipe_text(trial.recipe))
        folder = self.tmp / "sweep" / "trials" / trial.name
        train(self.tmp / "cache", "orpo", "--recipe", str(recipe), "--output-dir", str(folder))
        return folder

    def load(self, model, options):
        role = Path(model.path).name
        self.loaded.append(role)
        best = self.name("3e-5")
        replies = {f"Answer A:\n{best} answer": "A", f"Answer B:\n{best} answer": "B", "": "A"}
        return ScriptedEngine(model, replies=replies if role == "judge" else {},
                              answers={p: f"{role} answer to {p}" for p in PROMPTS})

    def run(self, **update) -> dict:
        self.loaded.clear()
        config = self.config.model_copy(update=update)
        sweep = run_sweep(config, lambda name, total: lambda done, tokens: None, lambda s: None,
                          dict(os.environ), self.load)
        return sweep.as_json()


@pytest.fixture(scope="module")
def swept(module_tmp, tiny):
    s = Sweeper(module_tmp, tiny.ref)
    folders = {rate: s.train_by_hand(rate) for rate in RATES}
    card = s.tmp / "card" / "README.md"
    return s, s.run(card=str(card)), card, folders


def logged(folder: Path) -> dict:
    """The trainer's last logged values, from the metrics.jsonl it wrote while it trained."""
    rows = metric_lines(folder)
    step = [r for r in rows if "loss" in r][-1]
    evaluation = [r for r in rows if "eval_loss" in r][-1]
    return {"train_loss": step["loss"], "reward_accuracy": step["rewards/accuracies"],
            "eval_loss": evaluation["eval_loss"],
            "eval_reward_accuracy": evaluation["eval_rewards/accuracies"]}


@pytest.mark.slow  # trains the tiny model
def test_trials_are_ranked_by_the_judged_result(swept):
    s, sweep, _, folders = swept
    ranked = [(t["rank"], t["name"]) for t in sweep["trials"]]
    # 3e-5 wins all 6 prompts in both orders; 1e-5 and 2e-5 tie on every prompt (the judge picks
    # the first answer shown), so equal strength and win rate: the lower eval loss is 2nd
    runner_up, last = sorted(("1e-5", "2e-5"), key=lambda r: (logged(folders[r])["eval_loss"],
                                                               s.name(r)))
    assert ranked == [(1, s.name("3e-5")), (2, s.name(runner_up)), (3, s.name(last))]
    first, second, third = sweep["trials"]
    assert first["judged"]["win_rate"] == 1.0 and second["judged"]["win_rate"] == 0.5
    assert (first["judged"]["wins"], second["judged"]["ties"], third["judged"]["ties"]) == (6, 6, 6)
    assert first["judged"]["bradley_terry"]["strength"] > 5  # never loses: only the ridge holds it
    assert second["judged"]["bradley_terry"]["win_rate"] == pytest.approx(0.5, abs=1e-4)
    # the trainer's last logged values and its own time, as the trial's training.json holds them
    record = json.loads((folders[runner_up] / "training.json").read_text())
    assert second["training"] == {"steps": 2, "planned_steps": 2, **logged(folders[runner_up]),
                                  "seconds": record["seconds"], "resumed_from": None}
    assert record["seconds"] > 0 and second["training"]["train_loss"] > 0
    assert {t["settings"]["learning_rate"] for t in sweep["trials"]} == {1e-5, 2e-5, 3e-5}
    assert all(t["this_run"] == "skipped" and t["status"] == "trained" for t in sweep["trials"])
    assert sweep["best"] == s.name("3e-5") and sweep["trained"] == []


@pytest.mark.slow  # trains the tiny model
def test_the_best_is_told_apart_from_the_runner_up_on_their_shared_prompts(swept):
    s, sweep, _, _ = swept
    split = sweep["separation"]
    # per prompt 1 - 0.5 = +0.5 on all six: the bootstrap interval is the point 0.5, and the sign
    # test, 6 better and 0 worse, gives p = 2 * 0.5^6 = 0.03125 < 0.05
    assert (split["best"], split["runner_up"], split["decided_by"]) == (
        s.name("3e-5"), sweep["trials"][1]["name"], "strength")
    assert (split["n"], split["better"], split["worse"]) == (6, 6, 0)
    assert split["difference"] == pytest.approx(0.5)
    assert (split["ci"]["low"], split["ci"]["high"]) == pytest.approx((0.5, 0.5))
    assert split["p_value"] == pytest.approx(0.03125) and split["distinguishable"] is True


@pytest.mark.slow  # trains the tiny model
def test_sweep_files_and_the_card_carry_the_table(swept):
    s, sweep, card, _ = swept
    root = s.tmp / "sweep"
    assert json.loads((root / "sweep.json").read_text()) == sweep
    assert (root / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    md = (root / "sweep.md").read_text()
    assert "is distinguishable from the runner-up" in md and "100.0% \\[100.0% – 100.0%\\]" in md
    text = card.read_text()
    assert "### Hyper-parameter sweep" in text and "is distinguishable" in text
    assert text.count("| 1 | learning\\_rate-3e-05-") == 1
    third = sweep["trials"][2]["name"].replace("_", "\\_")
    assert f"| 3 | {third}" in text
    # the best trial's card, its names Markdown-escaped (names are data)
    best, base = md_text(s.name("3e-5")), md_text(display_name(s.base))
    assert f"**{best}** against its base **{base}**" in text
    for name in s.names.values():  # every trial a compare run folder inside the leaderboard
        assert (root / "leaderboard" / name / "summary.json").is_file()
        assert (root / "recipes" / f"{name}.yaml").is_file()


@pytest.mark.slow  # trains the tiny model
def test_judge_report_writes_the_sweep_views_again_and_says_the_judge_failed(swept, tmp_path):
    from judge.api.views import regenerate

    s, sweep, _, _ = swept
    copy = tmp_path / "sweep"
    shutil.copytree(s.tmp / "sweep", copy)
    md = (copy / "sweep.md").read_text()
    # the scripted judge picks the first answer shown unless one trial's answer is there: it
    # fails its control pairs on every trial, and the headline says so beside the best
    checks = {t["judge_check"] for t in sweep["trials"]}
    assert checks == {"inconclusive"}
    assert "checks were inconclusive on every trial" in md
    (copy / "sweep.md").unlink()
    (copy / "sweep.png").unlink()
    data = (copy / "sweep.json").stat()  # the data: judge report reads it, never replaces it
    written = regenerate(copy)
    assert written[0] == copy / "leaderboard" / "leaderboard.html"  # the page to open
    assert (copy / "sweep.md").read_text() == md.replace(str(s.tmp / "sweep"), str(copy))
    assert (copy / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    after = (copy / "sweep.json").stat()  # an atomic rewrite would be a new inode
    assert (after.st_ino, after.st_mtime_ns) == (data.st_ino, data.st_mtime_ns)
    assert copy / "sweep.json" not in written
    assert json.loads((copy / "sweep.json").read_text()) == sweep


@pytest.mark.slow  # trains the tiny model
def test_a_rerun_loads_nothing_and_trains_nothing(swept):
    s, sweep, _, _ = swept
    again = s.run()
    assert s.loaded == [] and again["models_loaded"] == [] and again["trained"] == []
    drop = ("timing", "models_loaded")
    assert {k: v for k, v in again.items() if k not in drop} == {
        k: v for k, v in sweep.items() if k not in drop}


@pytest.mark.slow  # trains the tiny model
def test_a_trial_whose_trainer_fails_is_reported_and_the_others_go_on(swept, tmp_path, tiny):
    s = Sweeper(tmp_path, tiny.ref)
    trained, _, _, folders = swept  # the same recipe and grid: the same trials, trained already
    assert s.names == trained.names
    for rate in ("1e-5", "3e-5"):
        shutil.copytree(folders[rate], tmp_path / "sweep" / "trials" / s.name(rate))
    # 2e-5 holds a checkpoint whose state file is there and whose weights are not: its child
    # resumes from it and fails
    damaged = tmp_path / "sweep" / "trials" / s.name("2e-5") / "checkpoint-1"
    damaged.mkdir(parents=True)
    (damaged / "trainer_state.json").write_text("{}")
    sweep = s.run()
    failed = next(t for t in sweep["trials"] if t["name"] == s.name("2e-5"))
    assert (failed["status"], failed["this_run"], failed["rank"]) == ("failed", "failed", None)
    assert failed["error"].startswith("exit ") and failed["judged"] is None
    assert sweep["trained"] == [s.name("2e-5")] and sweep["trials"][-1] == failed
    assert [t["rank"] for t in sweep["trials"][:2]] == [1, 2] and sweep["best"] == s.name("3e-5")
    assert (tmp_path / "sweep" / "logs" / f"{s.name('2e-5')}.log").stat().st_size > 0
    assert "failed: exit" in (tmp_path / "sweep" / "sweep.md").read_text()


def trial(name: str) -> TrialResult:
    return TrialResult(name=name, method="orpo", settings={}, folder=name, status="trained",
                       this_run="skipped")


def test_three_prompts_all_better_are_not_enough():
    rows = {"a": [{"prompt_id": f"p{i}", "score": 1.0} for i in range(3)],
            "b": [{"prompt_id": f"p{i}", "score": 0.0} for i in range(3)]
            + [{"prompt_id": "p9", "score": None, "winner": "invalid"}]}
    split = separation(trial("a"), trial("b"), rows, 0.95, 200, 0)
    # d = +1 on each shared prompt: the bootstrap collapses to [1, 1], the sign test 3-0 gives
    # p = 2 * 0.5^3 = 0.25; p9 is invalid for b and shared by neither
    assert (split.n, split.better, split.worse, split.difference) == (3, 3, 0, 1.0)
    assert split.ci is not None and (split.ci.low, split.ci.high) == (1.0, 1.0)
    assert split.p_value == pytest.approx(0.25) and split.distinguishable is False
    assert split.decided_by == "name"  # neither was judged: only the name orders them


@pytest.mark.parametrize("update, message", [
    ({"grid": ["learnin_rate=1e-5,2e-5"]}, "did you mean 'learning_rate'"),
    ({"grid": []}, "empty grid"),
    ({"grid": ["beta="]}, "empty grid"),
    ({"grid": ["beta=0.1", "beta=0.2"]}, "given twice"),
    ({"grid": ["model=a,b"]}, "sweep one model at a time"),
    ({"grid": ["max_steps=two"]}, "--grid max_steps expects int, got two"),
    ({"grid": [], "random": 2, "space": ["learning_rate=1e-4:1e-6:log"]}, "LOW must be below"),
    ({"grid": [], "random": 2, "space": ["report_to=0:1"]}, "needs a numeric field"),
    ({"random": 2, "space": ["beta=0:1"]}, "exclude each other"),
    ({"grid": ["method=orpo,sft"]}, "unknown setting 'beta' (not a recipe key or SFTConfig"),
    ({"grid": ["beta=0.1"], "parallel": 2, "gpus": ["0"]}, "--parallel 2 needs a GPU per trial"),
    ({"accelerate_config": "multi_gpus"}, "--accelerate-config multi_gpus does not exist "
                                          "(shipped: deepspeed_zero3, multi_gpu;"),
    # the shipped file found by name and read: 2 processes per trial, 1 GPU each
    ({"grid": ["beta=0.1,0.2"], "accelerate_config": "multi_gpu", "parallel": 2,
      "gpus": ["0", "1"]}, "starts 2 processes per trial; with --parallel 2 on 2 GPUs each "
                           "trial has 1"),
])
def test_bad_sweeps_fail_before_anything_is_written(tmp_path, update, message):
    s = Sweeper(tmp_path)
    with pytest.raises(InputError, match=re.escape(message)):
        plan_sweep(s.config.model_copy(update=update))
    assert not (tmp_path / "sweep").exists()


def test_random_draws_are_seeded_typed_and_extend(tmp_path):
    s = Sweeper(tmp_path)
    space = ["learning_rate=1e-6:1e-4:log", "gradient_accumulation_steps=1:4", "beta=0.05:0.5"]
    four = plan_sweep(s.config.model_copy(update={"grid": [], "random": 4, "space": space}))
    six = plan_sweep(s.config.model_copy(update={"grid": [], "random": 6, "space": space}))
    assert [t.name for t in six.trials[:4]] == [t.name for t in four.trials]
    for t in six.trials:
        lr, steps = t.settings["learning_rate"], t.settings["gradient_accumulation_steps"]
        assert 1e-6 <= lr <= 1e-4 and float(f"{lr:.3g}") == lr  # kept to 3 significant digits
        assert isinstance(steps, int) and 1 <= steps <= 4  # an int field draws ints
        assert t.recipe.training["learning_rate"] == lr and 0.05 <= t.settings["beta"] <= 0.5
    assert six.space == {"kind": "random", "n": 6, "seed": 0, "ranges": {
        "learning_rate": "1e-6:1e-4:log", "gradient_accumulation_steps": "1:4",
        "beta": "0.05:0.5"}}


def test_lora_and_methods_are_swept_as_whole_recipes(tmp_path):
    s = Sweeper(tmp_path)
    plan = plan_sweep(s.config.model_copy(update={"grid": ["lora=none;4,8,0.05",
                                                           "method=orpo,dpo"]}))
    got = [(t.recipe.method, t.recipe.lora, t.recipe.merge_lora, t.settings["lora"])
           for t in plan.trials]
    spec = {"r": 4, "alpha": 8, "dropout": 0.05, "target_modules": "all-linear"}
    assert [(m, lora.model_dump() if lora else None, merged, shown)
            for m, lora, merged, shown in got] == [
        ("orpo", None, False, None), ("dpo", None, False, None),
        ("orpo", spec, True, spec), ("dpo", spec, True, spec)]  # LoRA trials always merge
    assert len({t.name for t in plan.trials}) == 4
    assert all(t.recipe.training["beta"] == 0.1 for t in plan.trials)  # the recipe's own
    assert not plan.folder.root.exists()  # planning writes nothing


def test_a_trial_resumes_from_its_newest_whole_checkpoint(tmp_path):
    from judge.sweep.launch import Job, command, next_action

    model = tmp_path / "trial"
    assert next_action(model) == "fresh"
    for step, whole in ((2, True), (4, True), (6, False)):  # 6: a kill while it was saved
        (model / f"checkpoint-{step}").mkdir(parents=True)
        if whole:
            (model / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
    assert next_action(model) == "resume"
    assert sorted(p.name for p in model.iterdir()) == ["checkpoint-2", "checkpoint-4"]
    for checkpoint in model.iterdir():
        (checkpoint / "trainer_state.json").unlink()
    (model / "metrics.jsonl").write_text("{}\n")
    assert next_action(model) == "fresh" and not model.exists()  # nothing to resume: afresh

    job = Job("t", "dpo", tmp_path / "recipes" / "t.yaml", model, tmp_path / "t.log", True)
    argv, cwd = command(job, "cache", None, None)
    assert argv[1] == "-c" and argv[3:6] == ["train", "dpo", "--recipe"] and cwd is None
    assert argv[-1] == "--resume"
    argv, cwd = command(job, "cache", "acc.yaml", 29517)
    assert argv[1:4] == ["-m", "accelerate.commands.launch", "--config_file"]
    assert argv[5:9] == ["--main_process_port", "29517", "-m", "judge"]
    assert cwd == tmp_path / "recipes"  # no judge/ folder of the user's can shadow ours there


def test_parallel_trials_get_their_own_gpus():
    from judge.sweep.launch import gpu_groups

    assert gpu_groups(["0", "1", "2", "3"], 2) == [["0", "1"], ["2", "3"]]
    assert gpu_groups(["4", "5", "6"], 3) == [["4"], ["5"], ["6"]]
    assert gpu_groups(["0", "1", "2"], 2) == [["0"], ["1"]]  # the third stays unused
    assert gpu_groups(["0", "1"], 1) == [[]]  # one at a time: it sees every GPU
    assert gpu_groups([], 3) == [[], [], []]  # CPU: the children share the cores


@pytest.mark.slow  # trains the tiny model
def test_report_to_logs_each_trial_as_a_run_under_the_sweep(swept):
    """`judge sweep --report-to tensorboard`, rerun through the CLI (nothing trains or loads):
    each trial's judged win rate, read back from its own TensorBoard run inside the sweep's
    (tests/test_trackers.py reads back all three trackers)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    s, sweep, _, _ = swept
    judging, tracked = s.config.judging, s.tmp / "tracked"
    ran = judge_cli("sweep", "--recipe", str(s.config.recipe), "--grid", s.config.grid[0],
                    "--out", s.config.out, "--judge", s.judge, "--prompts", str(judging.prompts),
                    "--cache-dir", judging.cache_dir, "--verdict", "text", "--bootstrap", "200",
                    "--engine", "hf", "--report-to", "tensorboard", "--tracker-dir",
                    str(tracked))
    assert ran.code == 0, ran.stderr[-3000:]
    (top,) = (tracked / "tensorboard").glob("sweep-*")
    for trial in sweep["trials"]:
        events = EventAccumulator(str(top / trial["name"]))
        events.Reload()
        (rate,) = events.Scalars("win_rate")
        assert rate.value == pytest.approx(trial["judged"]["win_rate"], abs=1e-6)
        (loss,) = events.Scalars("training/eval_loss")
        assert loss.value == pytest.approx(trial["training"]["eval_loss"], abs=1e-6)
