"""FineGrainedTrainer on a tiny CLIPModel: training, logging, eval loss, checkpoints and resume."""

from __future__ import annotations

import json
import os

import pytest
import torch
from helpers import NEGATIVE_TYPES, make_dataset
from transformers import CLIPModel, CLIPProcessor, TrainerCallback

from hf_finegrained import FineGrainedTrainer, FineGrainedTrainingArguments
from hf_finegrained.trainer import STATE_NAME
from hf_finegrained.validation import negative_coverage


def make_args(output_dir, **overrides) -> FineGrainedTrainingArguments:
    settings = dict(
        output_dir=str(output_dir),
        per_device_train_batch_size=4,
        per_device_eval_batch_size=4,
        max_steps=3,
        learning_rate=5e-3,
        warmup_steps=0,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        seed=0,
        negative_types=NEGATIVE_TYPES,
        disable_tqdm=True,
    )
    settings.update(overrides)
    return FineGrainedTrainingArguments(**settings)


def make_trainer(model_dir, args, train=None, eval_dataset=None, **kwargs) -> FineGrainedTrainer:
    return FineGrainedTrainer(
        model=CLIPModel.from_pretrained(model_dir),
        args=args,
        train_dataset=make_dataset(16) if train is None else train,
        eval_dataset=eval_dataset,
        processing_class=CLIPProcessor.from_pretrained(model_dir),
        **kwargs,
    )


def test_three_steps_change_every_parameter_and_log_every_component(tiny_clip_dir, tmp_path):
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path), eval_dataset=make_dataset(8, seed=1))
    before = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}
    trainer.train()
    unchanged = [name for name, p in trainer.model.named_parameters() if torch.equal(p.detach(), before[name])]
    assert not unchanged, f"parameters not updated: {unchanged}"

    step_logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert len(step_logs) == 3
    expected = {"itc_loss", "imc_loss", "cmr_loss", "logit_scale"} | {f"threshold/{n}" for n in NEGATIVE_TYPES}
    for entry in step_logs:
        assert expected <= set(entry), f"missing {expected - set(entry)}"
        assert all(torch.isfinite(torch.tensor(entry[key])) for key in expected)
        # The logged total is the weighted sum of the logged components.
        total = entry["itc_loss"] + 0.3 * entry["imc_loss"] + 0.2 * entry["cmr_loss"]
        assert entry["loss"] == pytest.approx(total, rel=1e-3)
    assert step_logs[0]["imc_loss"] > 0

    thresholds = trainer.loss_fn.thresholds.clone()
    metrics = trainer.evaluate()
    assert metrics["eval_loss"] > 0
    for key in ("eval_itc_loss", "eval_imc_loss", "eval_cmr_loss"):
        assert key in metrics
    assert metrics["eval_loss"] == pytest.approx(
        metrics["eval_itc_loss"] + 0.3 * metrics["eval_imc_loss"] + 0.2 * metrics["eval_cmr_loss"], rel=1e-3
    )
    assert torch.equal(trainer.loss_fn.thresholds, thresholds), "evaluation must not move the thresholds"


def test_logit_scale_is_clamped_after_each_step(tiny_clip_dir, tmp_path):
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path, max_steps=1, logit_scale_max=1.0))
    trainer.train()
    assert trainer.model.logit_scale.item() == pytest.approx(1.0)


def test_plain_clip_mode_trains_without_negatives(tiny_clip_dir, tmp_path):
    dataset = make_dataset(8).remove_columns("hard_negatives")
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path, max_steps=2, use_hard_negatives=False), train=dataset)
    trainer.train()
    logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert logs and all(entry["imc_loss"] == 0 and entry["cmr_loss"] == 0 for entry in logs)
    assert logs[0]["loss"] == pytest.approx(logs[0]["itc_loss"], rel=1e-4)


class StopAt(TrainerCallback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            control.should_training_stop = True


def test_resume_gives_the_same_parameters_and_thresholds(tiny_clip_dir, tmp_path):
    common = dict(max_steps=4, save_strategy="steps", save_steps=2, learning_rate=2e-2)
    straight = make_trainer(tiny_clip_dir, make_args(tmp_path / "straight", **common))
    straight.train()

    first = make_trainer(tiny_clip_dir, make_args(tmp_path / "resumed", **common), callbacks=[StopAt(2)])
    first.train()
    checkpoint = tmp_path / "resumed" / "checkpoint-2"
    saved = json.loads((checkpoint / STATE_NAME).read_text())
    assert saved["negative_types"] == NEGATIVE_TYPES
    assert list(saved["thresholds"].values()) == first.loss_fn.thresholds.tolist()
    assert any(value > 0 for value in saved["thresholds"].values()), "a resume test with zero thresholds is vacuous"
    assert (checkpoint / "model.safetensors").is_file() and CLIPModel.from_pretrained(checkpoint) is not None

    second = make_trainer(tiny_clip_dir, make_args(tmp_path / "resumed", **common))
    second.train(resume_from_checkpoint=str(checkpoint))
    assert second.state.global_step == 4
    for (name, a), (_, b) in zip(straight.model.named_parameters(), second.model.named_parameters()):
        assert (a - b).abs().max().item() <= 1e-6, name
    assert (straight.loss_fn.thresholds - second.loss_fn.thresholds).abs().max().item() <= 1e-6


def test_resume_refuses_other_negative_types(tiny_clip_dir, tmp_path):
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path, max_steps=1))
    trainer.save_model(str(tmp_path / "saved"))
    state = json.loads((tmp_path / "saved" / STATE_NAME).read_text())
    state["negative_types"] = ["a", "b", "c", "d"]
    (tmp_path / "saved" / STATE_NAME).write_text(json.dumps(state))
    with pytest.raises(ValueError, match="resume with the same --negative_types"):
        trainer.load_loss_state(str(tmp_path / "saved"))


@pytest.mark.parametrize("units,bound", [("cosine", 0.1), ("logit", 10.0)])
def test_threshold_units_reach_the_loss_the_logs_and_the_saved_state(tiny_clip_dir, tmp_path, units, bound):
    """The units given are the loss's, its default bound is the paper's in those units, the logged thresholds
    are the loss's own values (cosine ones within [0, 0.1]) and the saved state names the units."""
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path, max_steps=3, learning_rate=2e-2, threshold_units=units))
    assert trainer.loss_fn.threshold_units == units and trainer.loss_fn.threshold_upper_bound == pytest.approx(bound)
    trainer.train()
    logged = [entry[f"threshold/{NEGATIVE_TYPES[0]}"] for entry in trainer.state.log_history
              if f"threshold/{NEGATIVE_TYPES[0]}" in entry]
    assert logged and all(0 <= value <= bound + 1e-6 for value in logged)
    trainer.save_model(str(tmp_path / "saved"))
    state = json.loads((tmp_path / "saved" / STATE_NAME).read_text())
    assert state["threshold_units"] == units
    assert list(state["thresholds"].values()) == trainer.loss_fn.thresholds.tolist()


def test_resume_refuses_other_threshold_units(tiny_clip_dir, tmp_path):
    """Thresholds saved in logit units read as cosine ones would be a margin 100 times too wide at scale 100."""
    logit = make_trainer(tiny_clip_dir, make_args(tmp_path / "logit", max_steps=1, threshold_units="logit"))
    logit.save_model(str(tmp_path / "saved"))
    cosine = make_trainer(tiny_clip_dir, make_args(tmp_path / "cosine", max_steps=1, threshold_units="cosine"))
    with pytest.raises(ValueError, match="resume with --threshold_units logit"):
        cosine.load_loss_state(str(tmp_path / "saved"))
    state = json.loads((tmp_path / "saved" / STATE_NAME).read_text())
    del state["threshold_units"]  # a file written before the units existed holds logit thresholds
    (tmp_path / "saved" / STATE_NAME).write_text(json.dumps(state))
    with pytest.raises(ValueError, match="logit units"):
        cosine.load_loss_state(str(tmp_path / "saved"))
    logit.load_loss_state(str(tmp_path / "saved"))


def test_threshold_units_are_validated(tmp_path):
    with pytest.raises(ValueError, match="threshold_units must be one of"):
        make_args(tmp_path, threshold_units="radians")
    assert make_args(tmp_path, threshold_units="logit", threshold_upper_bound=4.0).threshold_upper_bound == 4.0


def test_bad_rows_are_all_listed_before_training(tiny_clip_dir, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    rows = make_dataset(6).to_list()
    rows[1]["caption"] = "  "
    rows[2]["hard_negatives"] = rows[2]["hard_negatives"][:2]
    rows[4]["image"] = {"bytes": None, "path": str(broken)}
    rows[5]["image"] = {"bytes": None, "path": str(tmp_path / "missing.png")}
    dataset = make_dataset(6).from_list(rows, features=make_dataset(1).features)
    with pytest.raises(ValueError) as error:
        make_trainer(tiny_clip_dir, make_args(tmp_path), train=dataset)
    message = str(error.value)
    assert "4 problem(s)" in message
    assert "row 1: caption is empty" in message
    assert "row 2: hard_negatives has 2 entries but 4 negative types" in message
    assert f"row 4: cannot read image {broken}" in message
    assert "row 5: cannot read image" in message and "missing.png" in message
    assert "row 0" not in message and "row 3" not in message


def test_missing_column_is_named(tiny_clip_dir, tmp_path):
    dataset = make_dataset(4).rename_column("caption", "text")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['caption'\].*rename_column"):
        make_trainer(tiny_clip_dir, make_args(tmp_path), train=dataset)


def test_arguments_are_validated(tmp_path):
    with pytest.raises(ValueError, match="imc_weight must be a finite number >= 0"):
        make_args(tmp_path, imc_weight=-1.0)
    with pytest.raises(ValueError, match="duplicates"):
        make_args(tmp_path, negative_types=["a", "a"])
    with pytest.raises(ValueError, match="fixed_threshold must be None"):
        make_args(tmp_path, fixed_threshold=-0.5)


def test_fixed_threshold_reaches_the_loss_and_stays_put(tiny_clip_dir, tmp_path):
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path, max_steps=2, fixed_threshold=1.5))
    trainer.train()
    logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert logs and all(entry[f"threshold/{name}"] == 1.5 for entry in logs for name in NEGATIVE_TYPES)
    assert trainer.loss_fn.fixed_threshold == 1.5


def test_checkpoint_loads_as_plain_clip_in_a_fresh_process(tiny_clip_dir, tmp_path):
    import subprocess
    import sys

    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path, max_steps=1))
    trainer.train()
    trainer.save_model(str(tmp_path / "final"))
    assert (tmp_path / "final" / "model.safetensors").is_file()
    assert (tmp_path / "final" / STATE_NAME).is_file()
    script = (
        "import sys, torch\n"
        "from transformers import CLIPModel\n"
        f"m = CLIPModel.from_pretrained({str(tmp_path / 'final')!r})\n"
        "assert 'hf_finegrained' not in sys.modules\n"
        "print(float(m.logit_scale))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env={**os.environ})
    assert out.returncode == 0, out.stderr
    assert float(out.stdout.strip().splitlines()[-1]) == pytest.approx(trainer.model.logit_scale.item())


def test_every_save_writes_a_model_card_with_curves(tiny_clip_dir, tmp_path):
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path / "card-run", max_steps=4, save_strategy="steps",
                                                    save_steps=2))
    trainer.card_info.results = {"synthetic": {"swap_obj": 0.625, "mean": 0.5}}
    trainer.train()
    checkpoint = tmp_path / "card-run" / "checkpoint-4"
    for name in ("README.md", "loss_curves.png", "threshold_curves.png"):
        assert (checkpoint / name).is_file(), name
    from huggingface_hub import ModelCard

    card = ModelCard.load(checkpoint / "README.md")
    results = {(r.dataset_type, r.metric_type, r.metric_name): r.metric_value for r in card.data.eval_results}
    assert results == {("hf_finegrained-synthetic-world", "accuracy", "swap_obj"): 0.625,
                       ("hf_finegrained-synthetic-world", "accuracy", "mean"): 0.5}
    text = card.text
    assert "![Per-type thresholds over steps](threshold_curves.png)" in text
    assert "| swap_object |" in text and "| max_steps | `4` |" in text and "zhang2024contrasting" in text
    assert str(tmp_path) not in card.content, "no absolute local path may appear in a card"
    # The threshold plot has one curve per type, read back from the logged values.
    assert f"`{NEGATIVE_TYPES[0]}` {trainer.loss_fn.thresholds[0].item():.3f}" in text


def test_create_model_card_honours_the_base_methods_arguments(tiny_clip_dir, tmp_path, caplog):
    from huggingface_hub import ModelCard

    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path / "out"))
    with caplog.at_level("WARNING", logger="hf_finegrained.trainer"):
        trainer.create_model_card(model_name="my-ce-clip", finetuned_from="openai/clip-vit-base-patch32",
                                  tags=["my-tag", "clip"], language="en", license="mit", dataset="my captions",
                                  tasks="zero-shot-image-classification")
    card = ModelCard.load(tmp_path / "out" / "README.md")
    assert card.data.base_model == "openai/clip-vit-base-patch32" and card.data.license == "mit"
    assert card.data.language == "en" and card.data.model_name == "my-ce-clip"
    assert card.data.tags == ["clip", "ce-clip", "hard-negatives", "hf_finegrained", "compositionality", "my-tag"]
    assert "# my-ce-clip" in card.text and "Data: my captions" in card.text
    assert "tasks not used" in caplog.text


def test_card_metadata_names_metric_types_scale_and_datasets(tmp_path):
    """The card's `model-index`: accuracy, recall@k and Winoground scores typed apart, values as the fractions of
    results.json, datasets named as a Hub reader expects; the card links to nothing invented."""
    from huggingface_hub import ModelCard

    from hf_finegrained.model_card import CardInfo, results_from_report, write_model_card

    results = {
        "sugarcrepe": {"swap_obj": 0.625, "macro": 0.8125},
        "retrieval_coco": {"i2t_recall@1": 0.5, "t2i_recall@5": 0.75, "mean_recall": 0.6},
        "winoground": {"text": 0.25, "group": 0.125},
        "zeroshot": {"top1": 0.375},  # its dataset is chosen at run time: the benchmark's name stands for it
    }
    report = {"benchmarks": {name: {"status": "ok", "metrics": metrics} for name, metrics in results.items()}}
    info = CardInfo(model_name="me-ce-clip", repo_id="me/ce-clip", results=results_from_report(report))
    assert write_model_card(str(tmp_path), make_args(tmp_path), [], NEGATIVE_TYPES, {}, info)
    card = ModelCard.load(tmp_path / "README.md")
    found = {(r.dataset_type, r.metric_name): r for r in card.data.eval_results}
    assert len(found) == 8 and len(card.data.eval_results) == 8

    # One scale: the fractions of results.json (its `benchmarks`), never a percentage.
    values = {key: r.metric_value for key, r in found.items()}
    expected = {(kind, metric): value for kind, metrics in
                zip(("sugarcrepe", "mscoco", "facebook/winoground", "zeroshot"), results.values())
                for metric, value in metrics.items()}
    assert values == expected

    swap = found["sugarcrepe", "swap_obj"]
    assert (swap.metric_type, swap.task_type) == ("accuracy", "image-text-matching")
    assert "SugarCrepe" in swap.dataset_name and swap.dataset_split == "test"
    recall = found["mscoco", "i2t_recall@1"]
    assert (recall.metric_type, recall.metric_args, recall.task_type) == ("recall_at_1", None, "image-text-retrieval")
    assert found["mscoco", "t2i_recall@5"].metric_type == "recall_at_5"  # as MTEB's cards type retrieval
    assert found["mscoco", "mean_recall"].metric_type == "mean_recall"
    assert "COCO" in recall.dataset_name and "Karpathy" in recall.dataset_name
    assert (recall.dataset_config, recall.dataset_split) == ("karpathy", "test")
    group = found["facebook/winoground", "group"]  # the benchmark's own Hub dataset
    assert (group.metric_type, found["facebook/winoground", "text"].metric_type) == ("group_score", "text_score")
    assert "Winoground" in group.dataset_name and group.dataset_split == "test"
    top1 = found["zeroshot", "top1"]
    assert (top1.metric_type, top1.metric_args, top1.dataset_name) == ("accuracy", {"top_k": 1}, "zeroshot")
    assert top1.task_type == "zero-shot-image-classification"

    # The human table stays in %, and says so; no link to a home the package does not have.
    assert "| sugarcrepe | swap_obj | 62.5 |" in card.text and "Scores in %" in card.text
    assert "](http" not in card.text and "github.com" not in card.content
    assert card.data.library_name == "transformers"


def test_a_failing_card_never_breaks_a_save(tiny_clip_dir, tmp_path, monkeypatch):
    import hf_finegrained.model_card as model_card

    def broken(*args, **kwargs):
        raise RuntimeError("template exploded")

    monkeypatch.setattr(model_card, "render_model_card", broken)
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path, max_steps=1))
    trainer.train()
    trainer.save_model(str(tmp_path / "final"))
    assert (tmp_path / "final" / "model.safetensors").is_file()
    assert not (tmp_path / "final" / "README.md").exists()


def test_trains_on_an_iterable_dataset_with_hard_negatives(tiny_clip_dir, tmp_path):
    """Streaming rows: every negative reaches the loss (accelerate must not dispatch and slice the batches)."""
    stream = make_dataset(16).to_iterable_dataset(num_shards=4)
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path), train=stream)
    assert trainer.args.accelerator_config.dispatch_batches is False
    trainer.train()
    logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert len(logs) == 3 and all(entry["imc_loss"] > 0 for entry in logs)
    # the card's coverage of a stream: the negatives of the 12 rows collated (3 steps x 4), counted in training
    trainer.save_model()
    read = make_dataset(16).select(range(12))
    expected = negative_coverage(read, trainer.negative_types)
    assert 0 < sum(expected.values()) < 12 * len(expected)
    assert trainer.card_info.num_train_rows == 12 and trainer.card_info.negative_coverage == expected
    card = (tmp_path / "README.md").read_text()
    name = trainer.negative_types[0]
    assert f"| {name} | {expected[name]} | {100 * expected[name] / 12:.1f}% |" in card


def test_batch_slicing_accelerator_options_are_refused(tmp_path):
    with pytest.raises(ValueError, match="dispatch_batches"):
        make_args(tmp_path, accelerator_config={"dispatch_batches": True})


def test_unused_columns_are_dropped_and_the_collators_columns_kept(tiny_clip_dir, tmp_path):
    """`remove_unused_columns=True` (the Trainer's default) keeps what the collator reads, not CLIP's forward args."""
    data = make_dataset(16)
    data = data.add_column("image_id", list(range(16))).add_column("notes", ["x"] * 16)
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path, max_steps=1), train=data)
    assert trainer.args.remove_unused_columns is True
    kept = trainer._remove_unused_columns(trainer.train_dataset, "training").column_names
    assert sorted(kept) == ["caption", "hard_negatives", "image", "image_id"]
    trainer.train()
    assert [entry for entry in trainer.state.log_history if "loss" in entry]
    kept = make_trainer(tiny_clip_dir, make_args(tmp_path, remove_unused_columns=False), train=data)
    assert "notes" in kept._remove_unused_columns(kept.train_dataset, "training").column_names


def test_logged_components_are_the_means_over_the_logging_window(tiny_clip_dir, tmp_path):
    every_step = make_trainer(tiny_clip_dir, make_args(tmp_path / "a", max_steps=4))
    every_step.train()
    steps = [entry for entry in every_step.state.log_history if "loss" in entry]
    windowed = make_trainer(tiny_clip_dir, make_args(tmp_path / "b", max_steps=4, logging_steps=2))
    windowed.train()
    windows = [entry for entry in windowed.state.log_history if "loss" in entry]
    assert len(steps) == 4 and len(windows) == 2
    keys = ["itc_loss", "imc_loss", "cmr_loss", "logit_scale", *(f"threshold/{n}" for n in NEGATIVE_TYPES)]
    for index, window in enumerate(windows):
        for key in keys:
            mean = (steps[2 * index][key] + steps[2 * index + 1][key]) / 2
            assert window[key] == pytest.approx(mean, rel=1e-5, abs=1e-7), key
    assert steps[0]["itc_loss"] != steps[1]["itc_loss"]  # the windows average distinct values


def test_only_the_local_main_process_validates(tiny_clip_dir, tmp_path, monkeypatch):
    """Every rank holds the same data: one process per node reads it (the others wait, then skip)."""
    bad = make_dataset(8)
    bad = bad.map(lambda row, index: {"caption": "" if index == 3 else row["caption"]}, with_indices=True)
    with pytest.raises(ValueError, match="row 3"):
        make_trainer(tiny_clip_dir, make_args(tmp_path), train=bad)
    monkeypatch.setattr(FineGrainedTrainingArguments, "local_process_index", property(lambda self: 1))
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path), train=bad)  # not read on this "rank"
    assert trainer.card_info.data_checks == {}


def test_frozen_teacher_distills_and_never_moves(tiny_clip_dir, tmp_path):
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path, max_steps=3, distill_weight=1.0))
    start = {name: tensor.clone() for name, tensor in trainer.teacher.model.state_dict().items()}
    assert not any(p.requires_grad for p in trainer.teacher.model.parameters())
    trainer.train()
    assert all(torch.equal(start[name], tensor) for name, tensor in trainer.teacher.model.state_dict().items())
    logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert logs[0]["distill_loss"] == pytest.approx(0.0, abs=1e-6)  # step 1: the student is the teacher
    assert logs[-1]["distill_loss"] > 1e-6
    total = logs[-1]["itc_loss"] + 0.3 * logs[-1]["imc_loss"] + 0.2 * logs[-1]["cmr_loss"] + logs[-1]["distill_loss"]
    assert logs[-1]["loss"] == pytest.approx(total, rel=1e-3)
    optimised = {id(p) for group in trainer.optimizer.param_groups for p in group["params"]}
    assert not optimised & {id(p) for p in trainer.teacher.model.parameters()}
    with pytest.raises(ValueError, match="distill_teacher must be one of"):
        make_args(tmp_path, distill_weight=1.0, distill_teacher="mean")


def test_ema_teacher_follows_the_student_and_survives_save_and_resume(tiny_clip_dir, tmp_path):
    from hf_finegrained.teacher import TEACHER_NAME

    common = dict(max_steps=4, save_strategy="steps", save_steps=2, learning_rate=2e-2, distill_weight=0.5,
                  distill_teacher="ema", ema_decay=0.5)
    straight = make_trainer(tiny_clip_dir, make_args(tmp_path / "straight", **common))
    start = {name: tensor.clone() for name, tensor in straight.teacher.model.state_dict().items()}
    straight.train()
    moved = [name for name, tensor in straight.teacher.model.state_dict().items()
             if tensor.is_floating_point() and not torch.equal(tensor, start[name])]
    assert len(moved) > 20

    first = make_trainer(tiny_clip_dir, make_args(tmp_path / "resumed", **common), callbacks=[StopAt(2)])
    first.train()
    checkpoint = tmp_path / "resumed" / "checkpoint-2"
    assert (checkpoint / TEACHER_NAME).is_file()
    second = make_trainer(tiny_clip_dir, make_args(tmp_path / "resumed", **common))
    second.load_loss_state(str(checkpoint))
    for name, tensor in first.teacher.model.state_dict().items():
        assert torch.equal(second.teacher.model.state_dict()[name], tensor), name  # bit for bit
    second.train(resume_from_checkpoint=str(checkpoint))
    for name, tensor in straight.teacher.model.state_dict().items():
        assert (second.teacher.model.state_dict()[name] - tensor).abs().max().item() <= 1e-6, name

    (checkpoint / TEACHER_NAME).unlink()
    third = make_trainer(tiny_clip_dir, make_args(tmp_path / "resumed", **common))
    with pytest.raises(ValueError, match=f"{TEACHER_NAME} is missing"):
        third.train(resume_from_checkpoint=str(checkpoint))


def test_card_shows_the_distillation_term_and_the_tradeoff(tmp_path):
    from hf_finegrained.model_card import CardInfo, write_model_card

    plain = make_args(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert write_model_card(str(tmp_path / "a"), plain, [], NEGATIVE_TYPES, {}, CardInfo())
    card = (tmp_path / "a" / "README.md").read_text()
    assert "distillation" not in card and "Composition vs general ability" not in card
    info = CardInfo(tradeoff_table="| synthetic, % | seeds | seen avg |\n|---|---|---|\n| base | - | 74.9 |\n",
                    tradeoff_plot="tradeoff.png")
    assert write_model_card(str(tmp_path / "b"), make_args(tmp_path, distill_weight=2.0, distill_teacher="ema"), [],
                            NEGATIVE_TYPES, {}, info)
    card = (tmp_path / "b" / "README.md").read_text()
    assert "+ 2.0 x distillation from an ema teacher" in card
    assert "## Composition vs general ability" in card and "| base | - | 74.9 |" in card
    assert "![Composition vs general ability](tradeoff.png)" in card


def test_training_data_is_prepared_in_one_pass_and_its_coverage_counted_once(tiny_clip_dir, tmp_path, monkeypatch):
    """`prepare_training_data`: the collator, the validation report and the coverage the card shows, from one
    read of the rows (the validation's); the separate coverage pass runs only when validation is off."""
    import hf_finegrained.training_data as module
    from hf_finegrained.families import CLIP
    from hf_finegrained.training_data import prepare_training_data

    calls = []
    real = module.negative_coverage
    monkeypatch.setattr(module, "negative_coverage", lambda *a, **k: calls.append(1) or real(*a, **k))
    model, processor = CLIPModel.from_pretrained(tiny_clip_dir), CLIPProcessor.from_pretrained(tiny_clip_dir)
    expected = real(make_dataset(16), NEGATIVE_TYPES)
    data = prepare_training_data(make_args(tmp_path), model, CLIP, processor, train_dataset=make_dataset(16),
                                 eval_dataset={"a": make_dataset(4, seed=1)})
    assert calls == [] and data.negative_coverage == expected and data.num_train_rows == 16
    assert data.train_report.rows == 16 and sorted(data.reports) == ["eval_dataset['a']", "train_dataset"]
    assert data.collator.max_length == model.config.text_config.max_position_embeddings and not data.stream
    assert data.train_dataset.features["image"].decode is False  # the collator decodes, naming the file
    assert data.eval_dataset["a"].features["image"].decode is False
    unchecked = prepare_training_data(make_args(tmp_path, validate_data=False), model, CLIP, processor,
                                      train_dataset=make_dataset(16))
    assert calls == [1] and unchecked.negative_coverage == expected and unchecked.reports == {}


def test_the_card_reads_each_benchmarks_dataset_and_metric_types_from_its_spec(caplog):
    """`BenchmarkSpec.dataset` and `.metric_types` are the card's only source: a metric the spec does not know is
    left out of `model-index` with a warning naming it (never typed by a guess), and a benchmark that declares no
    types is typed as caption choice with a warning."""
    from hf_finegrained.evaluation.runner import BENCHMARKS
    from hf_finegrained.model_card import eval_results

    results = {"retrieval_flickr": {"i2t_recall@10": 0.5, "recall_of_sorts": 0.1}, "zeroshot": {"top5": 0.9},
               "aro_vg_attribution": {"macro": 0.6}, "winoground": {"image": 0.2, "top1": 0.3},
               "my_own": {"R@1": 0.3}}
    with caplog.at_level("WARNING", logger="hf_finegrained.model_card"):
        found = {(r.dataset_type, r.metric_name): r for r in eval_results(results)}
    assert set(found) == {("flickr30k", "i2t_recall@10"), ("zeroshot", "top5"), ("aro", "macro"),
                          ("facebook/winoground", "image"), ("my_own", "R@1")}
    assert "retrieval_flickr/recall_of_sorts left out of model-index" in caplog.text
    assert "winoground/top1 left out of model-index" in caplog.text
    assert "'my_own' declares no metric types" in caplog.text
    recall = found["flickr30k", "i2t_recall@10"]
    assert (recall.metric_type, recall.metric_args, recall.task_type) == ("recall_at_10", None, "image-text-retrieval")
    assert recall.dataset_name == BENCHMARKS["retrieval_flickr"].dataset.name
    top5 = found["zeroshot", "top5"]
    assert (top5.metric_type, top5.metric_args, top5.task_name) == ("accuracy", {"top_k": 5}, "Zero-shot image classification")
    assert found["aro", "macro"].dataset_config == "vg_attribution"
    assert found["facebook/winoground", "image"].metric_type == "image_score"
    assert found["my_own", "R@1"].metric_type == "accuracy"  # no regex guesses a recall from a name
