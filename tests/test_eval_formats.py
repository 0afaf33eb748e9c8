"""Loaders on small fixtures in each format (ARO, Winoground, Karpathy retrieval, zero-shot), scored with the
stand-in scorer whose answers are worked out in eval_helpers."""

import pytest
from eval_helpers import (
    ORDER_CAPTIONS, StandInScorer, solid, write_aro_vg, write_karpathy, write_order, write_winoground, zeroshot_dataset,
)

from hf_finegrained.evaluation import ScoringEngine
from hf_finegrained.evaluation.aro import evaluate_order, evaluate_vg, load_order
from hf_finegrained.evaluation.order_perturbations import clean_caption, perturb
from hf_finegrained.evaluation.retrieval import evaluate_retrieval, evaluate_retrieval_pairs
from hf_finegrained.evaluation.winoground import evaluate_winoground
from hf_finegrained.evaluation.zeroshot import evaluate_zeroshot


def _engine():
    return ScoringEngine(StandInScorer(), batch_size=4, progress=False)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    write_aro_vg(root)
    write_winoground(root)
    write_karpathy(root)
    write_order(root)
    return root


def test_vg_relation_macro_on_crops(root):
    engine = _engine()
    result = evaluate_vg(engine, root / "aro/visual_genome_relation.json", root / "aro/images", "relation")
    assert result.counts == {"items": 6, "scored": 5, "missing_images": 1}
    assert result.details["per_group"] == {"on": pytest.approx(2 / 3), "wearing": 1.0}
    assert result.details["left_out_groups"] == ["next to"]
    assert result.metrics["macro"] == pytest.approx((2 / 3 + 1) / 2)
    assert result.metrics["micro"] == pytest.approx(3 / 5)
    assert engine.stats.image_encodes == 1  # five items, one crop


def test_vg_attribution_keeps_pairs_with_25_items(root):
    result = evaluate_vg(_engine(), root / "aro/visual_genome_attribution.json", root / "aro/images", "attribution")
    assert result.metrics["macro"] == 1.0 and result.metrics["micro"] == pytest.approx(25 / 28)
    assert result.details["left_out_groups"] == ["big_small"]


def test_order_items_are_caption_plus_four_seeded_word_perturbations(root):
    pytest.importorskip("spacy")
    files = (root / "flickr30k/flickr30k_test.json", root / "flickr30k")
    choice_set = load_order(*files, seed=0)
    assert len(choice_set.items) == choice_set.total == 4
    for item, caption in zip(choice_set.items, ORDER_CAPTIONS * 2):
        assert len(item.captions) == 5 and item.captions[0] == clean_caption(caption)
        assert all(sorted(p.split()) == sorted(item.captions[0].split()) for p in item.captions[1:])
        assert any(p != item.captions[0] for p in item.captions[1:])
    assert [i.captions for i in load_order(*files, seed=0).items] == [i.captions for i in choice_set.items]
    assert [i.captions for i in load_order(*files, seed=1).items] != [i.captions for i in choice_set.items]


def test_order_noun_shuffle_moves_only_nouns_and_adjectives():
    from hf_finegrained.evaluation.order_perturbations import ADJ_TAGS, NOUN_TAGS, load_spacy

    import random

    doc = load_spacy()(ORDER_CAPTIONS[0])
    shuffled = perturb(doc, random.Random(3))[0].split()
    for token, word in zip(doc, shuffled):
        if token.tag_ not in NOUN_TAGS | ADJ_TAGS:
            assert word == token.text


def test_order_ties_count_as_aros_code_counts_them_by_default_and_wrong_when_strict(root):
    pytest.importorskip("spacy")
    # the stand-in scores by length and every option has the same length: all 4 captions tie with their
    # perturbations. ARO's argmax over [caption, perturbations...] picks the caption: right by default.
    files = (root / "flickr30k/flickr30k_test.json", root / "flickr30k")
    official = evaluate_order(_engine(), *files, "aro_flickr_order")
    assert official.metrics["micro"] == 1.0 and official.details["num_ties"] == 4
    assert official.details["tie_rule"] == "ties count right"
    strict = evaluate_order(_engine(), *files, "aro_flickr_order", strict_ties=True)
    assert strict.metrics["micro"] == 0.0 and strict.details["num_ties"] == 4
    assert strict.details["tie_rule"] == "ties count wrong"
    # every perturbation has the caption's words: an order-blind scorer ties everywhere, which the official
    # rule counts right (ceiling 1) and the strict one wrong (ceiling 0)
    assert official.details["bow_equal_share"] == {"micro": 1.0} and official.details["bow_equal_items"] == {"all": 4}
    assert official.metrics["bow_ceiling/micro"] == 1.0 and strict.metrics["bow_ceiling/micro"] == 0.0


def test_order_strict_ties_is_a_setting_of_the_registered_benchmark(root):
    pytest.importorskip("spacy")
    from hf_finegrained.evaluation import check_benchmarks, run_benchmarks

    def run(**settings):
        document = run_benchmarks(_engine(), ["aro_flickr_order"], data_root=str(root), progress=False,
                                  paths={"aro_flickr_order": settings}, log=lambda message: None)
        return document["benchmarks"]["aro_flickr_order"]

    assert run()["metrics"]["micro"] == 1.0
    strict = run(strict_ties="true")  # as `--set aro_flickr_order.strict_ties=true` gives it
    assert strict["metrics"]["micro"] == 0.0 and strict["details"]["num_ties"] == 4
    assert run(strict_ties="false")["metrics"]["micro"] == 1.0
    wrong = run(strict_ties="perhaps")
    assert wrong["status"] == "error" and "strict_ties='perhaps'" in wrong["reason"]
    status, message = check_benchmarks(["aro_flickr_order"], str(root), {"aro_flickr_order": {"strict_ties": "?"}})[
        "aro_flickr_order"]
    assert status == "error" and "strict_ties" in message
    assert check_benchmarks(["aro_flickr_order"], str(root), {"aro_flickr_order": {"strict_ties": "yes"}}) == {
        "aro_flickr_order": ("ready", "")}


def test_vg_ceilings_count_swapped_captions_as_order_blind_ties(tmp_path):
    import json

    images = tmp_path / "aro" / "images"
    images.mkdir(parents=True)
    solid(0).save(images / "1.jpg", format="PNG")
    box = {"image_path": "1.jpg", "bbox_x": 0, "bbox_y": 0, "bbox_w": 8, "bbox_h": 8}
    relation = [  # "on": one swap (same words), one not; "wearing": a swap; "next to" is left out by ARO
        {**box, "relation_name": "on", "true_caption": "the cup is on the table",
         "false_caption": "the table is on the cup"},
        {**box, "relation_name": "on", "true_caption": "the cup is on the table",
         "false_caption": "the cup is under the table"},
        {**box, "relation_name": "wearing", "true_caption": "the man is wearing the hat",
         "false_caption": "the hat is wearing the man"},
        {**box, "relation_name": "next to", "true_caption": "a is next to b", "false_caption": "c is next to d"},
    ]
    (tmp_path / "aro" / "visual_genome_relation.json").write_text(json.dumps(relation))
    result = evaluate_vg(_engine(), tmp_path / "aro/visual_genome_relation.json", images, "relation")
    assert result.details["bow_ceiling_per_group"] == {"on": 0.5, "wearing": 0.0}
    assert result.metrics["bow_ceiling/macro"] == 0.25 and result.metrics["bow_ceiling/micro"] == 0.5
    assert result.details["bow_equal_share"] == {"micro": 0.5} and result.details["bow_equal_items"] == {"all": 2}


def test_winoground_scores_and_missing_images(root):
    result = evaluate_winoground(_engine(), root / "winoground/examples.jsonl", root / "winoground/images")
    assert result.counts == {"items": 3, "scored": 2, "missing_images": 1}
    assert result.metrics == {"text": 1.0, "image": 0.5, "group": 0.5}
    assert result.details["per_category"]["Relation"]["image_score"] == 0.0


def test_retrieval_recalls_with_ties_against_the_right_image(root):
    engine = _engine()
    result = evaluate_retrieval(engine, root / "coco/coco_karpathy_test.json", root / "coco", "retrieval_coco")
    assert result.counts == {"items": 4, "scored": 3, "missing_images": 1, "captions": 6}
    assert result.metrics["i2t_recall@1"] == 1.0
    assert result.metrics["t2i_recall@1"] == pytest.approx(4 / 6)
    assert result.metrics["t2i_recall@5"] == 1.0
    assert engine.stats.image_encodes == 3 and engine.stats.text_encodes == 6


def test_retrieval_of_in_memory_pairs_treats_a_repeated_caption_as_right_for_both_images():
    engine = _engine()
    # Images red 0, 10, 30 (the stand-in prefers captions of 0, 10, 30 characters). The 10-character caption
    # belongs to red 0 and red 10: one candidate, right for both, so its best image (red 10) is a hit.
    images = [solid(0), solid(10), solid(30)]
    captions = [["", "t" * 10], "t" * 10, "u" * 30]
    result = evaluate_retrieval_pairs(engine, images, captions, name="pairs")
    assert result.counts["captions"] == 3 and engine.stats.text_encodes == 3
    assert result.metrics["i2t_recall@1"] == 1.0
    assert result.metrics["t2i_recall@1"] == 1.0
    swapped = evaluate_retrieval_pairs(_engine(), images, ["t" * 10, "", "u" * 30], name="pairs")
    assert swapped.metrics["i2t_recall@1"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="one per image"):
        evaluate_retrieval_pairs(engine, images, ["only one"])


def test_karpathy_original_layout_keeps_test_split(tmp_path):
    import json

    from hf_finegrained.evaluation.karpathy import load_karpathy_test

    (tmp_path / "dataset_coco.json").write_text(json.dumps({"images": [
        {"filepath": "val2014", "filename": "a.jpg", "split": "test", "sentences": [{"raw": "one"}, {"raw": "two"}]},
        {"filepath": "val2014", "filename": "b.jpg", "split": "train", "sentences": [{"raw": "three"}]},
    ]}))
    assert load_karpathy_test(tmp_path / "dataset_coco.json") == [("val2014/a.jpg", ["one", "two"])]


def test_zeroshot_top1_top5():
    engine = _engine()
    result = evaluate_zeroshot(engine, zeroshot_dataset())
    assert result.metrics == {"top1": 0.5, "top5": 0.75}
    assert result.details["num_classes"] == 6 and engine.stats.text_encodes == 6
