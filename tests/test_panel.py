"""Judge panels: three scripted judges with a known disagreement through compare and agreement
(the numbers worked out by hand), a crashed panel run resumed without judging anything twice,
and one real panel (the bundled model with two templates) end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import NO_PROGRESS, write_jsonl
from scenes import PAIRS, ScriptedEngine, make_folder

from judge.card.write import write_card
from judge.engines import EngineOptions
from judge.pipeline.agreement import AgreementConfig, agreement_run
from judge.pipeline.compare import CompareConfig, run_compare
from judge.runs.folder import model_slug

PROMPTS = {"q0": "Name a colour.", "q1": "Count to three.", "q2": "Say hello.",
           "q3": "Spell cat."}


def prefers(side: str, prompt: str) -> dict[str, str]:
    """Replies of a judge that prefers `side`'s answer to `prompt` in both orders."""
    other = "base" if side == "tuned" else "tuned"
    return {f"Answer A:\n{side} says: {prompt}": "A", f"Answer A:\n{other} says: {prompt}": "B"}


# j1 prefers tuned on q0-q2, base on q3; j2 tuned on q0, q1, base on q2, q3; j3 tuned on q0 and
# otherwise picks the answer shown first ("A"). Item outcomes, as in test_stats_panel.PANEL:
#   q0 (T, T, T)   q1 (T, T, tie)   q2 (T, B, tie)   q3 (B, B, tie)
JUDGES = {
    "j1": {**prefers("tuned", PROMPTS["q0"]), **prefers("tuned", PROMPTS["q1"]),
           **prefers("tuned", PROMPTS["q2"]), **prefers("base", PROMPTS["q3"]), "": "tie"},
    "j2": {**prefers("tuned", PROMPTS["q0"]), **prefers("tuned", PROMPTS["q1"]),
           **prefers("base", PROMPTS["q2"]), **prefers("base", PROMPTS["q3"]), "": "tie"},
    "j3": {**prefers("tuned", PROMPTS["q0"]), "": "A"},
}


class Panel:
    """run_compare with base, tuned and three judge folders, every one a scripted engine."""

    def __init__(self, tmp: Path, crash: dict[str, int] | None = None) -> None:
        self.tmp = tmp
        self.prompts = tmp / "p.jsonl"
        self.prompts.write_text("".join(json.dumps({"prompt_id": k, "prompt": v}) + "\n"
                                        for k, v in PROMPTS.items()))
        self.folders = {n: str(tmp / n) if (tmp / n).is_dir() else make_folder(tmp, n)
                        for n in ("base", "tuned", *JUDGES)}
        self.crash = crash or {}  # judge -> engine calls after which it fails, as if killed
        self.loaded: list[str] = []
        self.asked: dict[str, int] = {}  # judge -> chats it was asked about

    def load(self, model, options):
        role = Path(model.path).name
        self.loaded.append(role)
        answers = {p: f"{role} says: {p}" for p in PROMPTS.values()}
        engine = ScriptedEngine(model, replies=JUDGES.get(role, {}), answers=answers)
        if role in JUDGES:
            stream, left = engine.stream, [self.crash.get(role)]

            def counted(chats, params, labels=None, grammar=None):
                if left[0] is not None:
                    if left[0] == 0:
                        raise RuntimeError(f"{role} killed")
                    left[0] -= 1
                self.asked[role] = self.asked.get(role, 0) + len(chats)
                return stream(chats, params, labels, grammar)

            engine.stream = counted  # type: ignore[method-assign]
        return engine

    def config(self, **options) -> CompareConfig:
        f = self.folders
        return CompareConfig(base=f["base"], tuned=f["tuned"], judge=f["j1"],
                             panel=[f["j2"], f["j3"]], prompts=str(self.prompts),
                             verdict="text", out=str(self.tmp / "run"),
                             cache_dir=str(self.tmp / "cache"), engine=EngineOptions(kind="hf"),
                             bootstrap=200, **options)

    def run(self, **options) -> dict:
        return run_compare(self.config(**options), NO_PROGRESS, self.load).as_json()


def test_a_panel_of_three_with_a_known_disagreement(tmp_path):
    p = Panel(tmp_path)
    summary = p.run()
    assert p.loaded == ["base", "tuned", "j1", "j2", "j3"]  # each judge loaded once, in turn
    labels = [f"{p.folders[j]}@pairwise" for j in JUDGES]
    assert summary["judge"] == "panel: " + ", ".join(labels)
    pw = summary["pairwise"]
    # panel outcomes q0 T, q1 T, q2 tie (no majority), q3 B; scores 1, 5/6, 1/2, 1/6
    assert (pw["wins"], pw["ties"], pw["losses"], pw["n"]) == (2, 1, 1, 4)
    assert pw["win_rate"] == pytest.approx(0.625) and pw["discrete_win_rate"] == 0.625
    assert pw["position_consistency"] == pytest.approx(3 / 4)
    panel = summary["panel"]
    # Fleiss: rows (0,0,3) (0,1,2) (1,1,1) (2,1,0): P̄ = 5/12, P̄_e = 3/8, κ = 1/15
    assert panel["fleiss_kappa"] == pytest.approx(1 / 15) and panel["n"] == 4
    assert [round(x["cohen_kappa"], 6) for x in panel["pairs"]] == [
        round(1 / 2, 6), round(1 / 13, 6), round(1 / 7, 6)]
    assert list(panel["sides_with_panel"].values()) == [0.75, 0.75, 0.5]
    members = summary["members"]
    assert list(members) == labels
    j1, j3 = members[labels[0]], members[labels[2]]
    assert (j1["pairwise"]["wins"], j1["pairwise"]["losses"]) == (3, 1)
    assert j3["pairwise"]["position_consistency"] == pytest.approx(1 / 4)
    assert j3["verdict"]["status"] == "inconclusive"  # 1 of 4 prompts survives the swap
    assert all(m["controls"]["n"] == 4 for m in members.values())  # 4 off-topic pairs each
    # Controls: base's answers, the ids shuffled by Random("judge-controls/0") stay q0 q1 q2 q3,
    # so each real answer meets the next prompt's (q3's meets q0's), control shown first, then
    # real. Every answer reads "base says: ...", so a judge's reply depends on the answer shown
    # first: j1 picks the second one unless q3's answer is first, j2 unless q2's or q3's is, j3
    # the first one unless q0's is. Per pair (control-first order, real-first order), the real
    # answer picked by (j1, j2, j3) and by the majority:
    #   q0 (real, real, control) -> real      (control, control, control) -> control
    #   q1 (real, control, control) -> control  (control, control, real) -> control
    #   q2 (control, control, control) -> control  (control, real, real) -> real
    #   q3 (real, real, real) -> real          (real, real, real) -> real
    # 4 of 8 verdicts for the real answer, consistent on q1 and q3; Wilson 95% over 4 pairs at
    # 0.5: 0.5 -+ 1.96 sqrt(1/16 + 1.96^2/64) / (1 + 1.96^2/4) = [0.150, 0.850], which reaches
    # chance. The position figures pass (3/4 consistent, first shown won 5/8): the controls alone
    # make the panel's verdict inconclusive.
    controls = summary["controls"]
    assert (controls["n"], controls["accuracy"], controls["position_consistency"]) == (4, 0.5,
                                                                                     0.5)
    assert (controls["ci"]["low"], controls["ci"]["high"]) == pytest.approx((0.15004, 0.84996),
                                                                             abs=1e-5)
    assert summary["verdict"]["status"] == "inconclusive"
    (reason,) = summary["verdict"]["reasons"]
    assert "50.0% of its verdicts on 4 control pairs" in reason and "reaches chance" in reason
    run = tmp_path / "run"
    assert len(list((run / "judgments").glob("*.jsonl"))) == 3
    assert len(list((run / "controls").glob("*__pairwise.jsonl"))) == 3
    assert list(json.loads((run / "run.json").read_text())["judges"]) == labels
    report = (run / "report.md").read_text()
    assert "| Fleiss' kappa (members' outcomes) | 0.067 over the 4 prompts" in report
    page = (run / "report.html").read_text()
    assert '<section id="panel">' in page and "Fleiss&#39; kappa (members&#39; outcomes)" in page
    assert "0.067 over the 4 prompts" in page and "judge j3@pairwise" in page
    write_card(run, tmp_path / "card" / "README.md")
    card = (tmp_path / "card" / "README.md").read_text()
    assert "judged pairwise by a panel of j1@pairwise, j2@pairwise, j3@pairwise" in card
    assert "| Cohen's kappa, j1@pairwise / j2@pairwise | 0.500 over 4 prompts" in card
    assert "Verdicts: base first → tuned (text)" in card  # the first judge's, on q0


def test_a_crashed_panel_run_resumes_without_judging_anything_twice(tmp_path):
    for name in ("whole", "crashed"):
        (tmp_path / name).mkdir()
    expected = Panel(tmp_path / "whole").run(chunk=1)
    # j2 dies on its 6th request: at --chunk 1 a request holds one prompt in both orders, so it
    # has answered 10 chats (its 4 prompts and 1 of its 4 control pairs)
    crashed = Panel(tmp_path / "crashed", crash={"j2": 5})
    with pytest.raises(RuntimeError, match="j2 killed"):
        crashed.run(chunk=1)
    assert crashed.asked == {"j1": 16, "j2": 10}  # 8 real and 8 control chats for j1
    resumed = Panel(tmp_path / "crashed")
    again = resumed.run(chunk=1)
    # j1 finished before the crash and loads no more; j2 is asked only what it had not answered
    assert resumed.loaded == ["j2", "j3"] and resumed.asked == {"j2": 16 - 10, "j3": 16}
    # the judges' labels name their folders: the same but for whole/ and crashed/
    same = json.loads(json.dumps(expected).replace(str(tmp_path / "whole"),
                                                   str(tmp_path / "crashed")))
    for block in ("pairwise", "panel", "members", "controls", "verdict"):
        assert again[block] == same[block]
    for ledger in (tmp_path / "crashed" / "run").rglob("*__pairwise.jsonl"):
        keys = [json.loads(x)["key"] for x in ledger.read_text().splitlines()]
        assert len(keys) == len(set(keys)) == 8


def test_a_panel_in_agreement_decides_each_order_by_majority(tmp_path):
    pairs = write_jsonl(tmp_path / "pairs.jsonl", PAIRS)
    replies = {
        "first": {"": "A"}, "second": {"": "B"},
        # reads the answers: Paris and 4 are right wherever they stand
        "right": {"Answer A:\nParis.": "A", "Answer B:\nParis.": "B", "Answer A:\n4\n": "A",
                  "Answer B:\n4\n": "B"},
    }
    folders = {name: make_folder(tmp_path, name) for name in replies}  # three fingerprints

    def load(model, options):
        return ScriptedEngine(model, replies=replies[Path(model.path).name])

    config = AgreementConfig(judge=folders["first"], panel=[folders["second"], folders["right"]],
                             pairs=str(pairs), verdict="text", out=str(tmp_path / "out"),
                             cache_dir=str(tmp_path / "cache"), engine=EngineOptions(kind="hf"),
                             controls=0)
    found = agreement_run(config, NO_PROGRESS, load)
    # per order: p1 (A, B, A) -> A and swapped (B, A, A) -> A; p2 (A, B, B) -> B and (B, A, B)
    # -> B; p3 identical answers, skipped ties: every pair right in both orders
    assert found.agreement.accuracy == 1.0 and found.agreement.position_consistency == 1.0
    accuracy = {Path(label.split("@")[0]).name: m.agreement.accuracy
                for label, m in found.members.items()}
    assert accuracy == {"first": pytest.approx(2 / 3), "second": pytest.approx(2 / 3),
                        "right": 1.0}
    # item outcomes (orders averaged): first and second tie everywhere, right (base, tuned, tie)
    # Fleiss rows (1,2,0) (0,2,1) (0,3,0): P̄ = 5/9, p = (1, 7, 1)/9, P̄_e = 17/27, κ = −1/5
    assert found.panel is not None and found.panel.fleiss_kappa == pytest.approx(-0.2)
    assert list(found.panel.sides_with_panel.values()) == [1.0, 1.0, pytest.approx(1 / 3)]
    assert found.judge_check.status == "unchecked" and found.controls is None
    written = json.loads((tmp_path / "out" / "agreement.json").read_text())
    assert written["agreement"]["accuracy"] == 1.0 and len(written["members"]) == 3
    assert written["panel"]["fleiss_kappa"] == pytest.approx(-0.2)
    verdicts = [json.loads(x) for x in (tmp_path / "out" / "verdicts.jsonl").read_text()
                .splitlines()]
    assert [(v["verdict"], v["verdict_swapped"]) for v in verdicts] == [
        ("A", "A"), ("B", "B"), ("tie", "tie")]


def test_the_bundled_judge_is_named_a_smoke_test_judge_in_a_panel(tmp_path, cache_dir):
    """A panel of the bundled model with two templates (scripted replies): each member and the
    panel say it is the smoke-test judge, there to run the pipeline, not to judge."""
    s = Panel(tmp_path)
    config = s.config().model_copy(update={"judge": "smollm2", "panel": ["smollm2@graded"],
                                           "cache_dir": str(cache_dir)})

    def load(model, options):
        return ScriptedEngine(model, replies={"": "A"}, answers={p: f"answer to {p}"
                                                                 for p in PROMPTS.values()})

    summary = run_compare(config, NO_PROGRESS, load).as_json()
    labels = ["smollm2@pairwise", "smollm2@graded"]
    assert list(summary["members"]) == labels and summary["verdict"]["smoke_test"] == labels
    assert [m["verdict"]["smoke_test"] for m in summary["members"].values()] == [[x] for x in
                                                                                 labels]
    assert "the bundled smoke-test judge" in (tmp_path / "run" / "report.md").read_text()


@pytest.mark.slow
def test_a_real_panel_of_two_templates(tmp_path, real_loader, cache_dir, tiny):
    """The tiny model answering and judging with two templates, on the real transformers engine:
    one load, a ledger per member, the panel's blocks, a rerun that judges nothing (plumbing; its
    verdicts are a random model's, read from its label probabilities)."""
    loads: list[str] = []

    def load(model, options):
        loads.append(model.ref)
        return real_loader(model, options)

    config = CompareConfig(base=tiny.ref, tuned=tiny.ref, judge=tiny.ref,
                           panel=[f"{tiny.ref}@pairwise-reference"], limit=3, max_new_tokens=48,
                           judge_max_new_tokens=12, temperature=0.7, bootstrap=200,
                           out=str(tmp_path / "run"), cache_dir=str(cache_dir),
                           engine=EngineOptions(kind="hf"))
    summary = run_compare(config, NO_PROGRESS, load).as_json()
    assert loads == [tiny.ref]  # answers and both judges on one loaded model
    labels = [f"{tiny.ref}@pairwise", f"{tiny.ref}@pairwise-reference"]
    assert list(summary["members"]) == labels and summary["panel"]["members"] == labels
    assert summary["verdict"]["smoke_test"] == []  # not the bundled judge
    run = tmp_path / "run"
    for label, template in zip(labels, ("pairwise", "pairwise-reference"), strict=True):
        member = summary["members"][label]
        assert member["controls"]["requested"] == 8
        (ledger,) = (run / "judgments").glob(f"{model_slug(tiny)}__{template}.jsonl")
        lines = [json.loads(x) for x in ledger.read_text().splitlines()]
        assert len(lines) == 6
        # the member's counts are its ledger's: prompts with a valid line, and invalid lines
        valid = {x["prompt_id"] for x in lines if x["winner"] != "invalid"}
        invalid = sum(x["winner"] == "invalid" for x in lines)
        assert (member["pairwise"]["n"], member["pairwise"]["n_invalid"]) == (len(valid), invalid)
        (checks,) = (run / "controls").glob(f"{model_slug(tiny)}__{template}.jsonl")
        assert len(checks.read_text().splitlines()) == 2 * len(
            (run / "controls" / "pairs.jsonl").read_text().splitlines())
    # the labels are read from the judge's label probabilities wherever its text is no label, and
    # the transformers engine sees every label: all 3 prompts valid for both
    assert [m["pairwise"]["n"] for m in summary["members"].values()] == [3, 3]
    report = (run / "report.md").read_text()
    assert "Fleiss' kappa" in report
    loads.clear()
    assert run_compare(config, NO_PROGRESS, load).as_json()["panel"] == summary["panel"]
    assert loads == []  # a rerun judges nothing again
