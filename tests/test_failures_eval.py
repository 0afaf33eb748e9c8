"""Nothing lost, nothing silent (issue 12): a broken benchmark file or image fails that benchmark alone, with
the file and the problem named, and the others are still written; examples/train.py checks its benchmarks
before training and saves before scoring; published results carry no local paths; config files fail clearly."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from unittest import mock

import pytest
from eval_helpers import (
    SHARED, StandInScorer, write_aro_vg, write_karpathy, write_small_text_benchmarks, write_winoground,
)

from hf_finegrained.evaluation import ScoringEngine, run_benchmarks
from hf_finegrained.trainer import FineGrainedTrainer
from hf_finegrained.evaluation.cli import main as eval_main

ROOT = Path(__file__).resolve().parent.parent


def _engine() -> ScoringEngine:
    return ScoringEngine(StandInScorer(), batch_size=4, progress=False)


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "benchmarks"
    write_small_text_benchmarks(root)
    write_aro_vg(root)
    write_winoground(root)
    write_karpathy(root)
    return root


def _entry(value) -> str:
    return json.dumps({"0": value})


# Each case: the benchmark broken, the file (relative to the data root) and what is written there, and the
# words the failure must contain besides the file name.
BROKEN = {
    "cut_json": ("sugarcrepe", "sugarcrepe/add_att.json", '{"0": {"filename": "000000000001.jpg", "capt',
                 ["not valid JSON", "line 1"]),
    "wrong_layout": ("sugarcrepe", "sugarcrepe/add_att.json", json.dumps([{"filename": "a.jpg"}]),
                     ["JSON object", "list"]),
    "missing_key": ("sugarcrepe", "sugarcrepe/swap_att.json",
                    _entry({"filename": "000000000001.jpg", "caption": "short"}), ["'0'", "negative_caption"]),
    "null_caption": ("sugarcrepe", "sugarcrepe/replace_obj.json",
                     _entry({"filename": "000000000001.jpg", "caption": None, "negative_caption": "b"}),
                     ["'0'", "caption", "null"]),
    "valse_missing_foil": ("valse", "valse/existence.json",
                           json.dumps({"a": {"image_file": "v1.jpg", "caption": "c", "mturk": {"caption": 3}}}),
                           ["'a'", "foil"]),
    "vg_wrong_layout": ("aro_vg_relation", "aro/visual_genome_relation.json", json.dumps({"image_path": "1.jpg"}),
                        ["JSON list", "object"]),
    "winoground_cut_line": ("winoground", "winoground/examples.jsonl",
                            json.dumps({"caption_0": "a", "caption_1": "b", "image_0": "ex_0_img_0",
                                        "image_1": "ex_0_img_1"}) + '\n{"caption_0": "a", "capt\n',
                            ["line 2", "not valid JSON"]),
    "karpathy_missing_caption": ("retrieval_coco", "coco/coco_karpathy_test.json",
                                 json.dumps([{"image": "val2014/COCO_val2014_0.jpg"}]), ["entry 0", "caption"]),
    "vl_checklist_not_a_pair": ("vl_checklist", "vl_checklist/data/Attribute/vg/color.json",
                                json.dumps([["VG_100K/1.jpg"]]), ["entry 0", "[img_path"]),
    "corrupt_image": ("sugarcrepe", "coco/val2017/000000000001.jpg", "these bytes are not an image",
                      ["cannot be read"]),
}


def _break(root: Path, relpath: str, content: str) -> None:
    path = root / relpath
    if path.is_symlink():
        path.unlink()
    path.write_text(content, encoding="utf-8")


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_benchmark_fails_alone_naming_the_file(case, data_root, tmp_path):
    name, relpath, content, words = BROKEN[case]
    _break(data_root, relpath, content)
    other = "valse" if name != "valse" else "sugarcrepe"
    messages: list[str] = []
    out = tmp_path / "out"
    document = run_benchmarks(_engine(), [name, other], data_root=str(data_root), output_dir=str(out),
                              log=messages.append)
    entry = document["benchmarks"][name]
    assert entry["status"] == "error"
    assert Path(relpath).name in entry["reason"]
    for word in words:
        assert word in entry["reason"], (word, entry["reason"])
    assert document["benchmarks"][other]["status"] == "ok"  # the others are scored and written
    assert document["errors"] == {name: entry["reason"]}
    assert any(m.startswith(f"[{name}] failed") and Path(relpath).name in m for m in messages)
    written = json.loads((out / "results.json").read_text())
    assert written["benchmarks"][other]["status"] == "ok" and written["benchmarks"][name]["status"] == "error"
    assert name in written["errors"]
    table = (out / "results.md").read_text()
    assert "Failed:" in table and f"- {name}: " in table and f"| {other} |" in table


def test_an_unexpected_error_in_a_benchmark_is_recorded_with_its_type(data_root, tmp_path):
    messages: list[str] = []
    with mock.patch("hf_finegrained.evaluation.sugarcrepe.score_choice_set", side_effect=RuntimeError("boom")):
        document = run_benchmarks(_engine(), ["sugarcrepe", "valse"], data_root=str(data_root),
                                  output_dir=str(tmp_path / "out"), log=messages.append)
    reason = document["benchmarks"]["sugarcrepe"]["reason"]
    assert "RuntimeError: boom" in reason and "sugarcrepe" in reason
    assert document["benchmarks"]["valse"]["status"] == "ok"


def test_command_writes_the_others_and_exits_non_zero_when_a_benchmark_fails(tiny_clip_dir, data_root, tmp_path,
                                                                               capsys):
    _break(data_root, "sugarcrepe/add_att.json", "{")
    out = tmp_path / "out"
    code = eval_main([tiny_clip_dir, "--benchmarks", "sugarcrepe,valse", "--benchmark_data_root", str(data_root),
                      "--output-dir", str(out), "--disable_tqdm", "--device", "cpu"])
    assert code == 1
    printed = capsys.readouterr().out
    assert "[sugarcrepe] failed" in printed and "add_att.json" in printed
    document = json.loads((out / "results.json").read_text())
    assert document["benchmarks"]["valse"]["status"] == "ok"
    assert "add_att.json" in document["errors"]["sugarcrepe"]


# Item 9: no local path in what is published ----------------------------------------------------------------

def test_written_results_hold_no_local_path(tiny_clip_dir, data_root, tmp_path, tmp_path_factory):
    _break(data_root, "coco/val2017/000000000001.jpg", "not an image")  # sugarcrepe: error naming an image
    _break(data_root, "aro/visual_genome_relation.json", "[{")  # aro_vg_relation: error naming a file
    (data_root / "winoground" / "examples.jsonl").unlink()  # winoground: skipped, reason names where to put it
    elsewhere = tmp_path / "elsewhere" / "wino_images"  # an overridden path outside the data root
    out = tmp_path / "out"
    code = eval_main([tiny_clip_dir, "--benchmarks", "valse,sugarcrepe,aro_vg_relation,winoground,retrieval_coco",
                      "--benchmark_data_root", str(data_root), "--output-dir", str(out), "--disable_tqdm", "--device", "cpu",
                      "--set", f"winoground.images={elsewhere}"])
    assert code == 1
    document = json.loads((out / "results.json").read_text())
    entries = document["benchmarks"]
    assert [entries[n]["status"] for n in entries] == ["ok", "error", "error", "skipped", "ok"]
    local = str(tmp_path_factory.getbasetemp())
    assert local in tiny_clip_dir and local in str(data_root)
    for name in ("results.json", "results.md"):
        text = (out / name).read_text()
        assert local not in text, name
    # the published forms are still there: relative to the data root, or base names
    assert document["model"] == Path(tiny_clip_dir).name
    assert document["settings"]["data_root"] == "benchmarks"
    assert "benchmarks/winoground/examples.jsonl" in entries["winoground"]["reason"]
    assert "wino_images" in entries["winoground"]["reason"]
    assert "benchmarks/coco/val2017/000000000001.jpg" in entries["sugarcrepe"]["reason"]
    assert "benchmarks/aro/visual_genome_relation.json" in entries["aro_vg_relation"]["reason"]


def test_returned_document_keeps_local_paths_for_the_caller(data_root, tmp_path):
    (data_root / "winoground" / "examples.jsonl").unlink()
    document = run_benchmarks(_engine(), ["winoground"], data_root=str(data_root), output_dir=str(tmp_path / "o"),
                              log=lambda message: None)
    assert str(data_root / "winoground" / "examples.jsonl") in document["benchmarks"]["winoground"]["reason"]
    assert str(data_root) not in (tmp_path / "o" / "results.json").read_text()


# Item 1 and 11: hf-finegrained-train ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def train():
    from hf_finegrained import training_command

    return training_command


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory) -> Path:
    from helpers import make_dataset

    folder = tmp_path_factory.mktemp("train_data")
    make_dataset(8, invalid_rate=0.0).to_parquet(str(folder / "train.parquet"))
    return folder


def _real_flags(tiny_clip_dir: str, dataset_dir: Path, out: Path, *extra: str) -> list[str]:
    return ["--model_name_or_path", tiny_clip_dir, "--dataset_path", str(dataset_dir), "--output_dir", str(out),
            "--max_steps", "1", "--per_device_train_batch_size", "4", "--save_strategy", "no",
            "--negative_types", "swap_object", "replace_attribute", "replace_object", "replace_relation",
            "--logging_steps", "1", "--warmup_steps", "0", *extra]


def _loads(folder: Path) -> None:
    """The folder holds a model and processor that load (what the run must never lose)."""
    from transformers import CLIPModel, CLIPProcessor

    CLIPModel.from_pretrained(folder)
    CLIPProcessor.from_pretrained(folder)


def test_benchmark_names_take_the_readme_comma_form_and_the_space_form(train):
    comma = train.parse(["--benchmarks", "sugarcrepe,valse", "--model_name_or_path", "m"])[1]
    space = train.parse(["--benchmarks", "sugarcrepe", "valse", "--model_name_or_path", "m"])[1]
    assert comma.benchmarks == space.benchmarks == ["sugarcrepe", "valse"]


@pytest.mark.parametrize("case", ["misspelled", "malformed"])
def test_train_checks_benchmarks_before_training(train, tiny_clip_dir, dataset_dir, data_root, tmp_path, case):
    if case == "misspelled":
        names, words = "sugarcrep,valse", ["sugarcrep", "did you mean 'sugarcrepe'"]
    else:
        _break(data_root, "valse/plurals.json", '{"a": {')
        names, words = "sugarcrepe,valse", ["plurals.json", "not valid JSON", "nothing has been trained"]
    out = tmp_path / "run"
    flags = _real_flags(tiny_clip_dir, dataset_dir, out, "--benchmarks", names,
                        "--benchmark_data_root", str(data_root))
    with mock.patch.object(FineGrainedTrainer, "train", side_effect=AssertionError("training started")):
        with pytest.raises(SystemExit) as raised:
            train.main(flags)
    for word in words:
        assert word in str(raised.value), (word, str(raised.value))
    assert not out.exists()


def test_train_announces_absent_benchmark_data_before_training(train, tiny_clip_dir, dataset_dir, tmp_path,
                                                                caplog):
    flags = _real_flags(tiny_clip_dir, dataset_dir, tmp_path / "run", "--benchmarks", "valse",
                        "--benchmark_data_root", str(tmp_path / "no-data"))
    with mock.patch.object(FineGrainedTrainer, "train", side_effect=KeyboardInterrupt):
        with pytest.raises(KeyboardInterrupt):  # stopped at the first step: the warning came before it
            train.main(flags)
    assert "[valse] will be skipped after training: data absent" in caplog.text


def test_train_refuses_benchmarks_on_the_embedded_default(train, tmp_path):
    with mock.patch("hf_finegrained.synthetic.default_run.default_run_trainer",
                    side_effect=AssertionError("the default run started")):
        with pytest.raises(SystemExit, match="--model_name_or_path"):
            train.main(["--benchmarks", "valse", "--output_dir", str(tmp_path / "run")])


def test_train_saves_first_and_a_failing_benchmark_is_reported_not_fatal(train, tiny_clip_dir, dataset_dir,
                                                                         data_root, tmp_path, capsys):
    _break(data_root, "valse/images/v1.jpg", "not an image")  # passes the check before training, fails scoring
    out = tmp_path / "run"
    train.main(_real_flags(tiny_clip_dir, dataset_dir, out, "--benchmarks", "sugarcrepe,valse",
                           "--benchmark_data_root", str(data_root)))
    for name in ("model.safetensors", "finegrained_state.json", "README.md"):
        assert (out / name).is_file(), name
    _loads(out)
    results = json.loads((out / "results.json").read_text())
    assert results["benchmarks"]["sugarcrepe"]["status"] == "ok"
    assert results["benchmarks"]["valse"]["status"] == "error" and "v1.jpg" in results["errors"]["valse"]
    assert str(tmp_path) not in (out / "results.json").read_text()
    printed = capsys.readouterr().out
    assert "[valse] failed" in printed and "model saved to" in printed
    assert "sugarcrepe" in (out / "README.md").read_text()  # the card got the scores that worked


def test_train_keeps_the_saved_model_when_scoring_itself_crashes(train, tiny_clip_dir, dataset_dir, data_root,
                                                                 tmp_path, caplog):
    out = tmp_path / "run"
    saved_when_scored = []

    def crash(*args, **kwargs):
        saved_when_scored.append((out / "model.safetensors").is_file())
        raise RuntimeError("scoring crashed")

    with mock.patch("hf_finegrained.evaluation.run_benchmarks", side_effect=crash):
        train.main(_real_flags(tiny_clip_dir, dataset_dir, out, "--benchmarks", "sugarcrepe",
                               "--benchmark_data_root", str(data_root)))
    assert saved_when_scored == [True]  # saved before scoring started
    _loads(out)
    assert "scoring crashed" in caplog.text and str(out) in caplog.text


def _yaml(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_yaml_config_equals_the_same_flags_with_the_scripts_defaults(train, tmp_path):
    config = _yaml(tmp_path, "model_name_or_path: some/clip\ndataset_path: data\nlearning_rate: 1e-3\n"
                             "negative_types: [swap_object, replace_object]\nuse_lora: true\n"
                             "benchmarks: sugarcrepe,valse\n")
    from_yaml = train.parse([config])
    from_flags = train.parse(["--model_name_or_path", "some/clip", "--dataset_path", "data", "--learning_rate",
                              "1e-3", "--negative_types", "swap_object", "replace_object", "--use_lora", "true",
                              "--benchmarks", "sugarcrepe,valse"])
    assert from_yaml[:3] == from_flags[:3]
    assert from_yaml[3].to_dict() == from_flags[3].to_dict()
    args = from_yaml[3]
    assert args.learning_rate == 1e-3 and isinstance(args.learning_rate, float)  # YAML 1.1 reads 1e-3 as text
    assert args.output_dir == train.PAPER_DEFAULTS["output_dir"] and args.adam_beta2 == 0.98  # set_defaults kept
    assert from_yaml[1].benchmarks == ["sugarcrepe", "valse"]


def test_yaml_config_of_the_embedded_default_gets_its_small_model_settings(train, tmp_path):
    config = _yaml(tmp_path, "max_steps: 7\n")
    from_yaml = train.parse([config])[3]
    from_flags = train.parse(["--max_steps", "7"])[3]
    assert from_yaml.to_dict() == from_flags.to_dict()
    assert from_yaml.output_dir == train.SYNTHETIC_DEFAULTS["output_dir"] and from_yaml.max_steps == 7


@pytest.mark.parametrize("text, words", [
    ("", ["is empty"]),
    ("# only a comment\n", ["is empty"]),
    ("- learning_rate\n", ["flag_name: value"]),
    ("learning_rat: 1e-3\n", ["learning_rat"]),
    ("learning_rate: [1\n", ["not valid YAML"]),
])
def test_bad_yaml_config_is_a_clear_error_naming_the_file(train, tmp_path, text, words):
    config = _yaml(tmp_path, text)
    with pytest.raises(SystemExit) as raised:
        train.parse([config])
    message = str(raised.value)
    assert config in message
    for word in words:
        assert word in message, (word, message)


def test_yaml_value_of_the_wrong_type_names_the_file_and_key(train, tmp_path, capsys):
    config = _yaml(tmp_path, "learning_rate: fast\n")
    with pytest.raises(SystemExit) as raised:
        train.parse([config])
    assert config in str(raised.value) and "learning_rate" in str(raised.value) + capsys.readouterr().err


# The check before training on the real annotation files --------------------------------------------------

@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/benchmarks is absent")
def test_real_annotation_files_pass_the_check(tmp_path):
    from hf_finegrained.evaluation import check_benchmarks

    checks = check_benchmarks(["sugarcrepe", "valse", "vl_checklist"], data_root=str(tmp_path), paths={
        "sugarcrepe": {"annotations": str(SHARED / "sugarcrepe"), "images": str(tmp_path)},
        "valse": {"annotations": str(SHARED / "valse"), "images": str(tmp_path)},
        "vl_checklist": {"annotations": str(SHARED / "vl_checklist" / "data"), "images": str(tmp_path)},
    })
    assert {name: status for name, (status, _) in checks.items()} == dict.fromkeys(checks, "ready")


def test_the_embedded_defaults_are_the_papers_with_four_changes(train):
    """One home for the hyperparameters: the script's defaults are the paper's, and the embedded default's
    differ from them only where the small model needs it (pinned: they key the cached plain fine-tune)."""
    from hf_finegrained.synthetic.recipe import FINETUNE_DEFAULTS
    from hf_finegrained.training_args import PAPER_HYPERPARAMETERS

    assert {key: train.PAPER_DEFAULTS[key] for key in PAPER_HYPERPARAMETERS} == PAPER_HYPERPARAMETERS
    changed = {key for key, value in FINETUNE_DEFAULTS.items() if PAPER_HYPERPARAMETERS.get(key) != value}
    assert changed == {"learning_rate", "warmup_steps", "max_steps", "per_device_train_batch_size"}
    assert FINETUNE_DEFAULTS == dict(learning_rate=2e-4, lr_scheduler_type="cosine", warmup_steps=20, adam_beta1=0.9,
                                     adam_beta2=0.98, adam_epsilon=1e-6, weight_decay=0.1, max_steps=400,
                                     per_device_train_batch_size=64)


# Issue 26, item 10: messages say what happened -------------------------------------------------------------

def test_the_closing_line_says_which_benchmarks_were_scored_and_which_failed(tiny_clip_dir, data_root, tmp_path,
                                                                              capsys):
    _break(data_root, "sugarcrepe/add_att.json", "{")
    flags = ["--benchmark_data_root", str(data_root), "--disable_tqdm", "--device", "cpu"]
    assert eval_main([tiny_clip_dir, "--benchmarks", "sugarcrepe", "--output-dir", str(tmp_path / "a"), *flags]) == 1
    printed = capsys.readouterr().out
    assert "1 of 1 benchmarks failed (sugarcrepe); none was scored. Fix the files named above" in printed
    assert "the others were scored" not in printed
    (data_root / "winoground" / "examples.jsonl").unlink()
    assert eval_main([tiny_clip_dir, "--benchmarks", "sugarcrepe,valse,winoground", "--output-dir",
                      str(tmp_path / "b"), *flags]) == 1
    printed = capsys.readouterr().out
    assert "1 of 3 benchmarks failed (sugarcrepe); scored: valse; skipped: winoground." in printed
    messages: list[str] = []  # nothing failed and nothing scored: said as well (the command exits with 1)
    run_benchmarks(_engine(), ["winoground"], data_root=str(data_root), log=messages.append)
    assert messages[-1] == "No benchmark was scored; skipped: winoground. The reasons are above."


def test_an_empty_sugarcrepe_folder_is_said_to_hold_no_annotation_file(data_root, tmp_path):
    from hf_finegrained.evaluation.sugarcrepe import CATEGORIES

    folder = data_root / "sugarcrepe"
    for path in folder.iterdir():
        path.unlink()
    document = run_benchmarks(_engine(), ["sugarcrepe"], data_root=str(data_root), output_dir=str(tmp_path / "a"),
                              log=lambda message: None)
    entry = document["benchmarks"]["sugarcrepe"]
    assert entry["status"] == "skipped" and "images missing" not in entry["reason"]
    assert f"no SugarCrepe annotation file: {folder} holds none of them; expected add_att.json" in entry["reason"]
    assert all(f"{category}.json" in entry["reason"] for category in CATEGORIES)
    for category in CATEGORIES:
        (folder / f"{category}.json").write_text("{}")
    entry = run_benchmarks(_engine(), ["sugarcrepe"], data_root=str(data_root),
                           log=lambda message: None)["benchmarks"]["sugarcrepe"]
    assert entry["status"] == "skipped" and f"the SugarCrepe annotation files under {folder} hold no entry" in entry[
        "reason"]


def test_an_absent_sugarcrepe_file_is_said_in_the_log_and_in_results_md(data_root, tmp_path):
    (data_root / "sugarcrepe" / "swap_obj.json").unlink()
    messages: list[str] = []
    out = tmp_path / "out"
    document = run_benchmarks(_engine(), ["sugarcrepe"], data_root=str(data_root), output_dir=str(out),
                              log=messages.append)
    assert document["benchmarks"]["sugarcrepe"]["status"] == "ok"
    assert "swap_obj" not in document["benchmarks"]["sugarcrepe"]["metrics"]
    assert f"[sugarcrepe] 1 annotation file absent (not scored): swap_obj.json, looked for under " \
           f"{data_root / 'sugarcrepe'}" in messages
    table = (out / "results.md").read_text()
    assert "Scored without some of their files:" in table
    assert "- sugarcrepe: 1 annotation file absent (not scored): swap_obj.json" in table
