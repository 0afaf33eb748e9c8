"""Cards the Hub reads right: every registered benchmark names its dataset and types every metric it emits; the
model-index of a card passes huggingface_hub's own parsing and the Hub's model-index rules."""

import logging
import os

import pytest
from eval_helpers import StandInScorer
from test_suite_presets import write_suite

from hf_finegrained.evaluation import run_benchmarks
from hf_finegrained.evaluation.bow import PREFIX as CEILING
from hf_finegrained.evaluation.runner import REGISTERED
from hf_finegrained.model_card import eval_results, results_from_report

NEW = ["whatsup", "crepe", "bivlc", "mmvp_vlm", "vismin", "eqben", "spec", "colorswap"]
# Hub dataset ids of the annotations the runner reads, where the authors publish them there.
HUB_IDS = {"bivlc": "imirandam/BiVLC", "vismin": "mair-lab/vismin-bench", "mmvp_vlm": "MMVP/MMVP_VLM",
           "spec": "wjpoom/SPEC", "winoground": "facebook/winoground"}


@pytest.mark.parametrize("spec", REGISTERED, ids=lambda spec: spec.name)
def test_every_registered_benchmark_names_its_dataset_and_types_its_metrics(spec):
    """The card's only source of a benchmark's dataset and metric types (no fallback to a guess): a new benchmark
    registered without them fails here. `zeroshot` chooses its dataset at run time and so has none."""
    assert spec.metric_types is not None, f"{spec.name}: BenchmarkSpec(metric_types=...) missing"
    if spec.name == "zeroshot":
        assert spec.dataset is None
        return
    assert spec.dataset is not None, f"{spec.name}: BenchmarkSpec(dataset=...) missing"
    assert spec.dataset.type and spec.dataset.name
    if spec.name in HUB_IDS:
        assert spec.dataset.type == HUB_IDS[spec.name]
    else:  # a short name, never a made-up Hub id
        assert "/" not in spec.dataset.type, spec.dataset.type


@pytest.fixture(scope="module")
def suite_results(tmp_path_factory):
    """The new benchmarks' results (`CardInfo.results` layout) on their fixtures, scored by the stand-in scorer."""
    root = tmp_path_factory.mktemp("suite")
    write_suite(root, complete=True)
    document = run_benchmarks(StandInScorer(), NEW, data_root=str(root), progress=False, log=lambda _: None)
    return results_from_report(document)


def test_every_metric_the_new_benchmarks_emit_is_typed_by_its_spec(suite_results, caplog):
    assert sorted(suite_results) == sorted(NEW)
    with caplog.at_level(logging.WARNING, logger="hf_finegrained.model_card"):
        found = eval_results(suite_results)
    assert "left out of model-index" not in caplog.text and "declares no metric types" not in caplog.text
    expected = {(b, m) for b, metrics in suite_results.items() for m in metrics if not m.startswith(CEILING)}
    typed = {(r.dataset_type, r.metric_name): r for r in found}
    by_benchmark = {spec.name: spec.dataset.type for spec in REGISTERED if spec.dataset}
    assert set(typed) == {(by_benchmark[b], m) for b, m in expected}

    def kind(benchmark, metric):
        return typed[by_benchmark[benchmark], metric].metric_type

    assert kind("bivlc", "i2t/micro") == "text_score" and kind("bivlc", "t2i/replace") == "image_score"
    assert kind("bivlc", "group/micro") == "group_score" and kind("vismin", "group/macro") == "group_score"
    assert kind("colorswap", "text") == "text_score" and kind("eqben", "image/kubric") == "image_score"
    assert kind("mmvp_vlm", "pair/macro") == "pair_accuracy" and kind("mmvp_vlm", "group/micro") == "group_score"
    assert kind("crepe", "productivity/recall@3") == "recall_at_3"
    assert kind("crepe", "productivity/atom/4") == "recall_at_1"
    assert kind("whatsup", "controlled_a/pair") == "pair_accuracy" and kind("whatsup", "macro") == "accuracy"
    assert kind("spec", "t2i/macro") == "accuracy"
    # Choosing among candidates is its own task, not zero-shot image classification.
    assert {r.task_type for r in found} == {"image-text-matching"}
    assert typed["imirandam/BiVLC", "group/micro"].dataset_name.startswith("BiVLC")


# --- Cards of the test runs, validated offline with huggingface_hub and the Hub's model-index rules ---------------

def check_model_index(metadata: dict) -> None:
    """The Hub's model-index rules (huggingface_hub's model card template, "model-index"): one entry with a `name`
    and `results`; each result a `task` with a `type`, a `dataset` with a `type` and a `name`, and `metrics`, each
    with a `type` and a numeric `value`; metric types in the Hub's lower_snake_case ids (`recall_at_1`)."""
    import re

    entries = metadata["model-index"]
    assert isinstance(entries, list) and len(entries) == 1 and entries[0]["name"]
    for result in entries[0]["results"]:
        assert isinstance(result["task"]["type"], str) and result["task"]["type"]
        assert result["dataset"]["type"] and result["dataset"]["name"]
        assert result["metrics"]
        for metric in result["metrics"]:
            assert re.fullmatch(r"[a-z0-9_]+", metric["type"]), metric["type"]
            assert isinstance(metric["value"], (int, float)) and not isinstance(metric["value"], bool)


def check_card(path):
    """Loads a card as the Hub's client does and checks its metadata both ways: `ModelCardData` round trip,
    `model-index` <-> `EvalResult`, each result rebuilt by `metadata_eval_result`, and the model-index rules."""
    from huggingface_hub import ModelCard, ModelCardData, metadata_eval_result
    from huggingface_hub.repocard_data import eval_results_to_model_index, model_index_to_eval_results

    card = ModelCard.load(path)
    data = card.data.to_dict()
    assert ModelCardData(**data).to_dict() == data
    assert ModelCard(str(card)).data.to_dict() == data  # what the Hub reads back from the file
    if card.data.eval_results:
        index = eval_results_to_model_index(card.data.model_name, card.data.eval_results)
        check_model_index({"model-index": index})
        name, again = model_index_to_eval_results(index)
        assert name == card.data.model_name and again == card.data.eval_results
        for result in card.data.eval_results:
            rebuilt = metadata_eval_result(
                model_pretty_name=card.data.model_name, task_pretty_name=result.task_name,
                task_id=result.task_type, metrics_pretty_name=result.metric_name, metrics_id=result.metric_type,
                metrics_value=result.metric_value, dataset_pretty_name=result.dataset_name,
                dataset_id=result.dataset_type, metrics_config=result.metric_config,
                dataset_config=result.dataset_config, dataset_split=result.dataset_split)
            check_model_index(rebuilt)
    assert os.sep + "tmp" not in str(card) and "/pytest-" not in str(card), "no local path in a card"
    return card


def lora_trainer(model_dir, output_dir, base_name=None, **overrides):
    from helpers import make_dataset
    from test_trainer import make_args
    from transformers import CLIPModel, CLIPProcessor

    from hf_finegrained import FineGrainedTrainer
    from hf_finegrained.lora import add_lora

    model = CLIPModel.from_pretrained(model_dir)
    if base_name:  # as if loaded from the Hub under this id
        model.config._name_or_path = model.name_or_path = base_name
    return FineGrainedTrainer(model=add_lora(model, r=4, alpha=8, dropout=0.0, target_modules=["q_proj", "v_proj"]),
                              args=make_args(output_dir, max_steps=2, **overrides), train_dataset=make_dataset(8),
                              processing_class=CLIPProcessor.from_pretrained(model_dir))


def test_a_lora_run_writes_an_adapter_card_and_its_merged_folder_a_model_card(tiny_clip_dir, tmp_path):
    from peft import PeftConfig

    from hf_finegrained.lora import merge_lora

    trainer = lora_trainer(tiny_clip_dir, tmp_path / "lora", base_name="openai/clip-vit-base-patch32",
                           license="mit")
    trainer.train()
    trainer.save_model()
    card = check_card(tmp_path / "lora" / "README.md")
    # An adapter card as the Hub tells one: PEFT library, the base as a Hub id, the relation "adapter".
    assert card.data.library_name == "peft" and card.data.base_model_relation == "adapter"
    assert card.data.base_model == PeftConfig.from_pretrained(tmp_path / "lora").base_model_name_or_path
    assert card.data.base_model == "openai/clip-vit-base-patch32" and card.data.license == "mit"
    assert card.data.tags[:2] == ["clip", "ce-clip"] and "lora" in card.data.tags
    assert "LoRA adapter" in card.text and "PeftModel.from_pretrained(base, " in card.text
    assert 'AutoModel.from_pretrained("openai/clip-vit-base-patch32")' in card.text
    assert "rank `r` = 4, `lora_alpha` = 8" in card.text and "`q_proj`, `v_proj`" in card.text
    assert "| license |" not in card.text, "the licence is metadata, not a hyperparameter"

    merged = tmp_path / "lora" / "merged"
    merge_lora(trainer.model).save_pretrained(merged)
    trainer.create_model_card(output_dir=str(merged))
    plain = check_card(merged / "README.md")
    assert plain.data.library_name == "transformers" and plain.data.get("base_model_relation") is None
    assert plain.data.base_model == "openai/clip-vit-base-patch32" and "LoRA adapter" not in plain.text
    assert str(plain) != str(card)


def test_an_adapter_on_a_local_base_names_it_in_words_never_by_path(tiny_clip_dir, tmp_path):
    trainer = lora_trainer(tiny_clip_dir, tmp_path / "lora")
    trainer.train()
    trainer.save_model()
    card = check_card(tmp_path / "lora" / "README.md")
    folder = os.path.basename(tiny_clip_dir)
    assert card.data.library_name == "peft" and card.data.base_model is None
    assert card.data.get("base_model_relation") is None  # no relation without a Hub base to relate to
    assert f"Base model: {folder} (a local model, not a Hub id" in card.text
    assert tiny_clip_dir not in str(card) and "<the base model>" in card.text


def test_the_licence_defaults_to_the_bases_card_and_a_short_run_says_why_it_has_no_curves(tiny_clip_dir, tmp_path):
    import shutil

    from huggingface_hub import ModelCard, ModelCardData
    from test_trainer import make_args, make_trainer

    base = tmp_path / "base-with-card"
    shutil.copytree(tiny_clip_dir, base)
    ModelCard.from_template(ModelCardData(license="apache-2.0")).save(base / "README.md")
    trainer = make_trainer(str(base), make_args(tmp_path / "short", max_steps=1, logging_steps=10))
    trainer.train()
    trainer.save_model()
    card = check_card(tmp_path / "short" / "README.md")
    assert card.data.license == "apache-2.0" and card.data.base_model is None  # a local base: no Hub id
    assert "No training curves: the run logged no loss" in card.text and "every 10 steps" in card.text
    assert not (tmp_path / "short" / "loss_curves.png").exists()

    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path / "plain"))  # no card at the base: no licence
    trainer.save_model()
    assert check_card(tmp_path / "plain" / "README.md").data.license is None


def test_a_siglip_card_is_tagged_siglip_and_the_evaluated_card_passes_the_hubs_rules(tmp_path, suite_results):
    from test_trainer import make_args

    from hf_finegrained.model_card import CardInfo, write_model_card

    results = {**suite_results, "retrieval_coco": {"i2t_recall@1": 0.5, "t2i_recall@10": 0.7, "mean_recall": 0.6},
               "zeroshot": {"top1": 0.4}, "winoground": {"text": 0.3, "image": 0.1, "group": 0.05},
               "sugarcrepe_pp": {"itt/macro": 0.6, "tot/macro": 0.5}}
    for architecture, tags in (("SiglipModel", ["siglip"]), ("Siglip2Model", ["siglip", "siglip2"]),
                               ("CLIPModel", ["clip"])):
        info = CardInfo(model_name="me-ce", base_model="google/siglip-base-patch16-224", results=results,
                        architecture=architecture, contrastive="sigmoid")
        folder = tmp_path / architecture
        folder.mkdir()
        assert write_model_card(str(folder), make_args(folder), [], [], {}, info)
        card = check_card(folder / "README.md")
        assert card.data.tags[:len(tags) + 1] == tags + ["ce-clip"]
        assert ("clip" in card.data.tags) == (architecture == "CLIPModel")
        assert card.data.base_model == "google/siglip-base-patch16-224"
        types = {(r.dataset_type, r.metric_name): (r.task_type, r.metric_type) for r in card.data.eval_results}
        assert types["mscoco", "t2i_recall@10"] == ("image-text-retrieval", "recall_at_10")
        assert types["imirandam/BiVLC", "group/micro"] == ("image-text-matching", "group_score")
        assert types["zeroshot", "top1"] == ("zero-shot-image-classification", "accuracy")
        assert types["sugarcrepe-pp", "tot/macro"] == ("sentence-similarity", "accuracy")


def test_the_interpolation_card_lists_its_hub_parents_as_a_merge(tiny_clip_dir, tmp_path):
    from hf_finegrained.model_card import interpolation_card

    card = interpolation_card("google/siglip-base-patch16-224", "me/siglip-ce", 0.5, "SiglipModel", license="mit")
    card.save(tmp_path / "README.md")
    card = check_card(tmp_path / "README.md")
    assert card.data.base_model == ["google/siglip-base-patch16-224", "me/siglip-ce"]
    assert card.data.base_model_relation == "merge" and card.data.license == "mit"
    assert card.data.tags[0] == "siglip" and "clip" not in card.data.tags
    local = interpolation_card(tiny_clip_dir, "me/ce-clip", 0.25)
    assert local.data.base_model == ["me/ce-clip"] and local.data.base_model_relation == "merge"
    assert tiny_clip_dir not in str(local) and os.path.basename(tiny_clip_dir) in local.text
    neither = interpolation_card(tiny_clip_dir, tiny_clip_dir, 0.25)
    assert neither.data.base_model is None and neither.data.get("base_model_relation") is None


def test_the_dataset_card_has_licence_tasks_features_and_the_generators_settings(tmp_path):
    import datasets
    from huggingface_hub import DatasetCard, DatasetCardData
    from PIL import Image

    from hf_finegrained.builders import add_hard_negatives, export_parquet
    from hf_finegrained.negatives import HardNegativeGenerator

    captions = ["A man riding a brown horse on the beach.", "A red car parked next to a white house."]
    data = datasets.Dataset.from_dict({"image": [Image.new("RGB", (8, 8), (9 * i, 0, 0)) for i in range(2)],
                                       "caption": captions})
    generator = HardNegativeGenerator(seed=7)
    with_negatives = add_hard_negatives(data, generator=generator)
    folder = export_parquet(with_negatives, tmp_path / "out", license="cc-by-4.0", generator=generator)

    card = DatasetCard.load(folder / "README.md")  # as the Hub reads it
    data_dict = card.data.to_dict()
    assert DatasetCardData(**data_dict).to_dict() == data_dict
    assert card.data.license == "cc-by-4.0"
    assert card.data.task_categories == ["image-to-text", "zero-shot-image-classification"]
    info = data_dict["dataset_info"]
    assert [f["name"] for f in info["features"]] == ["image", "caption", "hard_negatives"]
    assert info["features"][2]["struct"][0] == {"name": generator.types[0], "dtype": "string"}
    assert info["splits"] == [{"name": "train", "num_examples": 2}]
    assert data_dict["hf_finegrained"]["generator"]["seed"] == 7
    assert data_dict["hf_finegrained"]["generator"]["profile"] == "strict"
    # Readable: the struct's fields named, never `hard_negatives: dict`; the generator's settings and seed.
    assert "`hard_negatives`: struct {swap_object: string" in card.text and ": dict" not in card.text
    assert "`image`: image; `caption`: string;" in card.text
    assert "seed `7`, profile `strict`" in card.text and "Licence: `cc-by-4.0`" in card.text
    # the features of the card are those load_dataset gives back
    loaded = datasets.load_dataset(str(folder), cache_dir=str(tmp_path / "cache"))["train"]
    assert loaded.features == with_negatives.features and loaded["caption"] == captions


def test_each_new_benchmarks_row_names_the_licence_of_its_annotations():
    """docs/BENCHMARKS.md, the papers' suite table: the licence column names a licence (with where it was read)
    or says "not stated upstream", never blank."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md").read_text(encoding="utf-8")
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if "licence of the annotations" in line)
    column = [c.strip() for c in lines[header].split("|")].index("licence of the annotations")
    rows = {}
    for line in lines[header + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.split("|")]
        rows[cells[1].split("`")[1]] = cells[column]
    assert sorted(rows) == sorted(NEW)
    for name, cell in rows.items():
        assert cell.startswith(("MIT: ", "Apache-2.0: ", "CC BY 4.0: ", "not stated upstream")), (name, cell)
        assert "@" in cell, f"{name}: say which commit or copy the licence was read at"


def test_the_build_command_writes_its_generators_seed_and_the_licence_into_the_card(tmp_path):
    import datasets
    from huggingface_hub import DatasetCard
    from PIL import Image

    from hf_finegrained.builders.cli import main as build_main

    captions = ["A man riding a brown horse on the beach.", "A red car parked next to a white house."]
    source = tmp_path / "mine" / "train.parquet"
    source.parent.mkdir()
    datasets.Dataset.from_dict({"text": captions, "image": [Image.new("RGB", (8, 8))] * 2}).to_parquet(str(source))
    build_main(["negatives", "--dataset_path", str(source.parent), "--caption_column", "text", "--output_dir",
                str(tmp_path / "out"), "--negatives-seed", "3", "--license", "cc-by-4.0", "--disable_tqdm"])
    card = DatasetCard.load(tmp_path / "out" / "README.md")
    assert card.data.license == "cc-by-4.0" and card.data.to_dict()["hf_finegrained"]["generator"]["seed"] == 3
    assert "seed `3`, profile `strict`" in card.text


def test_the_interpolate_command_card_takes_the_licence_from_its_flag_or_the_fine_tunes_card(tiny_clip_dir, tmp_path):
    import shutil

    from huggingface_hub import ModelCard, ModelCardData

    from hf_finegrained.interpolation import main as interpolate_main

    finetuned = tmp_path / "finetuned"
    shutil.copytree(tiny_clip_dir, finetuned)
    ModelCard.from_template(ModelCardData(license="mit")).save(finetuned / "README.md")
    assert interpolate_main([tiny_clip_dir, str(finetuned), "--alpha", "0.5", "--output_dir",
                             str(tmp_path / "mixed"), "--disable_tqdm"]) == 0
    card = check_card(tmp_path / "mixed" / "README.md")
    assert card.data.license == "mit" and card.data.base_model is None  # local parents: no Hub id to list
    assert interpolate_main([tiny_clip_dir, str(finetuned), "--alpha", "0.5", "--output_dir",
                             str(tmp_path / "flagged"), "--license", "apache-2.0", "--disable_tqdm"]) == 0
    assert check_card(tmp_path / "flagged" / "README.md").data.license == "apache-2.0"


def test_the_committed_default_run_card_is_what_todays_code_writes_and_passes_the_hubs_rules():
    """model_cards/synthetic-ce-clip/README.md (the default run's card, linked from the README) carries the
    metadata today's code makes from its own results.json (metric and task types included), and the Hub's checks
    pass on it: a card left behind by a change of the card code fails here, not on the Hub."""
    import json
    from pathlib import Path

    folder = Path(__file__).resolve().parent.parent / "model_cards" / "synthetic-ce-clip"
    card = check_card(str(folder / "README.md"))
    scores = json.loads((folder / "results.json").read_text())["ce_clip"]
    expected = eval_results({f"synthetic_{group}": values for group, values in scores.items()})
    assert card.data.eval_results == expected
