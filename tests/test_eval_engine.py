"""The scoring engine: deduplication and batching, crops, tie-aware ranking, agreement with the model's own
forward pass on the tiny CLIP, and the one-call in-memory choice benchmark."""

import math

import pytest
import torch
from eval_helpers import StandInScorer, solid
from helpers import make_rows
from PIL import Image
from transformers import CLIPModel, CLIPProcessor

from hf_finegrained.evaluation import (
    ChoiceItem, CLIPScorer, FileImage, MemoryImage, ScoringEngine, UnreadableImageError, evaluate_choice, rank_top_k,
)

SYNTHETIC = ["swap_att", "swap_obj", "replace_att", "replace_obj", "replace_rel"]


class CountingScorer(StandInScorer):
    def __init__(self):
        super().__init__()
        self.image_calls, self.text_calls = [], []

    def encode_images(self, images):
        self.image_calls.append(len(images))
        return super().encode_images(images)

    def encode_texts(self, texts):
        self.text_calls.append(len(texts))
        return super().encode_texts(texts)


def test_each_unique_image_and_caption_is_encoded_once_in_batches():
    scorer = CountingScorer()
    images = [MemoryImage(solid(r), name=r) for r in (0, 10, 20)]
    items = [ChoiceItem(images[i % 3], [f"caption {i % 4}", "shared negative"], 0) for i in range(12)]
    engine = ScoringEngine(scorer, batch_size=2, progress=False)
    scores = engine.score_choices(items)
    assert scorer.image_calls == [2, 1] and sorted(scorer.text_calls) == [1, 2, 2]
    # 12 image and 24 caption requests; encodes are counted where the scorer is called, unique from the requests
    stats = engine.stats
    assert (stats.requested_images, stats.unique_images, stats.image_encodes) == (12, 3, sum(scorer.image_calls))
    assert (stats.requested_texts, stats.unique_texts, stats.text_encodes) == (24, 5, sum(scorer.text_calls))
    assert stats.work_ratio() == 1.0
    reds = [0, 10, 20]
    for i, item_scores in enumerate(scores):
        assert item_scores == pytest.approx([math.cos(math.pi / 1000 * (reds[i % 3] - len(c)))
                                             for c in items[i].captions], abs=1e-6)


def test_encodes_count_what_reached_the_scorer_and_unique_what_was_asked(tmp_path):
    good = tmp_path / "good.png"
    solid(0).save(good)
    (tmp_path / "bad.png").write_bytes(b"not a png")
    refs = [FileImage(str(good)), FileImage(str(tmp_path / "bad.png")), FileImage(str(good), (0, 0, 2, 2))]
    scorer = CountingScorer()
    engine = ScoringEngine(scorer, batch_size=1, progress=False)
    with pytest.raises(UnreadableImageError):
        engine.embed_images(refs + refs[:1])
    # the first batch was encoded, the bad image stopped the rest
    assert scorer.image_calls == [1]
    assert (engine.stats.requested_images, engine.stats.unique_images, engine.stats.image_encodes) == (4, 3, 1)
    engine.embed_texts(["a", "b", "a"])
    engine.embed_texts(["a"])  # a later call encodes again: keys and strings are deduplicated per call
    assert (engine.stats.requested_texts, engine.stats.unique_texts, engine.stats.text_encodes) == (4, 3, 3)


def test_file_images_are_cropped_to_their_box(tmp_path):
    image = Image.new("RGB", (20, 10), (200, 0, 0))
    image.paste(solid(50, 10), (10, 0))
    image.save(tmp_path / "two_halves.png")
    scorer = StandInScorer()
    engine = ScoringEngine(scorer, progress=False)
    path = str(tmp_path / "two_halves.png")
    refs = [FileImage(path, (10, 0, 10, 10)), FileImage(path), FileImage(path, (10, 0, 10, 10))]
    _, index = engine.embed_images(refs)
    assert len(index) == 2 and sorted(scorer.images_seen) == [(50, (10, 10)), (200, (20, 10))]


def test_rank_top_k_breaks_ties_against_the_right_candidate():
    scores = torch.tensor([[0.5, 0.5, 0.1], [0.5, 0.5, 0.1], [0.2, 0.9, 0.9]])
    assert rank_top_k(scores, [[0], [1], [1, 2]], k=3) == [[1, 0, 2], [0, 1, 2], [1, 2, 0]]
    assert rank_top_k(scores, [[0], [1], [0]], k=2, chunk=2) == [[1, 0], [0, 1], [1, 2]]


def test_engine_scores_equal_the_models_own_cosine(tiny_clip_dir):
    model = CLIPModel.from_pretrained(tiny_clip_dir)
    processor = CLIPProcessor.from_pretrained(tiny_clip_dir)
    rows = make_rows(6, seed=3)
    items = [ChoiceItem(MemoryImage(row["image"], name=i), [row["caption"], "a much longer caption " * (i + 1)], 0)
             for i, row in enumerate(rows)]
    engine = ScoringEngine(CLIPScorer(model, processor, device="cpu"), batch_size=4, progress=False)
    scores = engine.score_choices(items)
    with torch.no_grad():
        for item, item_scores in zip(items, scores):
            # one pair at a time through CLIPModel.forward: logits = exp(logit_scale) * cosine
            for caption, score in zip(item.captions, item_scores):
                inputs = processor(text=[caption], images=[item.image.image], return_tensors="pt", padding=True,
                                   truncation=True)
                logit = model(**inputs).logits_per_image[0, 0]
                assert score == pytest.approx((logit / model.logit_scale.exp()).item(), abs=1e-5)


def _spy_moves(model, monkeypatch, call_through=True):
    """Records the devices `model.to` is called with on this model object."""
    moves, real_to = [], model.to

    def to(*args, **kwargs):
        moves.append(torch.device(args[0] if args else kwargs["device"]))
        return real_to(*args, **kwargs) if call_through else model

    monkeypatch.setattr(model, "to", to)
    return moves


def test_clip_scorer_scores_where_the_model_is(tiny_clip_dir, monkeypatch):
    # on "meta" nothing can be computed or copied: moving the model would fail, and only the model's own device
    # is right for the inputs; the towers are replaced by recorders of what reaches them
    model = CLIPModel.from_pretrained(tiny_clip_dir).to("meta")
    processor = CLIPProcessor.from_pretrained(tiny_clip_dir)
    moves = _spy_moves(model, monkeypatch, call_through=False)
    seen = []

    def features(**inputs):
        seen.append({name: (value.device, value.dtype) for name, value in inputs.items()})
        return torch.ones(len(next(iter(inputs.values()))), 16)

    monkeypatch.setattr(model, "get_image_features", features)
    monkeypatch.setattr(model, "get_text_features", features)
    scorer = CLIPScorer(model, processor)
    assert moves == [] and scorer.device == torch.device("meta")
    assert scorer.encode_images([solid(0), solid(9)]).shape == (2, 16)
    assert scorer.encode_texts(["a red cube"]).shape == (1, 16)
    meta = torch.device("meta")
    assert seen == [{"pixel_values": (meta, torch.float32)},
                    {"input_ids": (meta, torch.long), "attention_mask": (meta, torch.long)}]


def test_clip_scorer_moves_the_model_only_when_told(tiny_clip_dir, monkeypatch):
    processor = CLIPProcessor.from_pretrained(tiny_clip_dir)
    model = CLIPModel.from_pretrained(tiny_clip_dir)
    moves = _spy_moves(model, monkeypatch)
    assert CLIPScorer(model, processor, device="cpu").device == torch.device("cpu")
    assert moves == [torch.device("cpu")]
    sharded = CLIPModel.from_pretrained(tiny_clip_dir)
    sharded.hf_device_map = {"": "cpu"}  # as placed by from_pretrained(device_map=...): never moved
    moves = _spy_moves(sharded, monkeypatch)
    CLIPScorer(sharded, processor, device="cpu")
    assert moves == []


def test_evaluate_choice_on_in_memory_rows(tiny_clip_dir):
    rows = make_rows(10, seed=1, invalid_rate=0.3)
    # the later synthetic split: a true caption and one negative (or None) per category
    synthetic = [{"image": r["image"], "caption": r["caption"],
                  "negatives": dict(zip(SYNTHETIC, r["hard_negatives"] + [r["hard_negatives"][0]]))} for r in rows]
    result = evaluate_choice(tiny_clip_dir, synthetic, name="synthetic", progress=False, device="cpu")
    present = {c: sum(row["negatives"][c] is not None for row in synthetic) for c in SYNTHETIC}
    assert result.counts == {"items": 50, "scored": sum(present.values()), "missing_images": 0}
    assert result.details["category_counts"] == {c: n for c, n in present.items() if n}
    assert result.details["no_negative"] == {c: 10 - n for c, n in present.items() if n < 10}
    assert result.headline == "macro" and 0.0 <= result.metrics["macro"] <= 1.0
    categories = [c for c in SYNTHETIC if present[c]]
    assert result.metrics["macro"] == pytest.approx(sum(result.metrics[c] for c in categories) / len(categories))


def test_evaluate_choice_with_list_negatives_and_known_answers():
    rows = [{"image": solid(0), "caption": "short", "negatives": ["a longer one", None]},
            {"image": solid(0), "caption": "tied!", "negatives": ["equal", "much longer negative"]}]
    scorer = CountingScorer()
    result = evaluate_choice(scorer, rows, categories=["swap_att", "replace_rel"], progress=False)
    assert result.metrics["swap_att"] == 0.5  # the second row ties (same length) and counts wrong
    assert result.metrics["replace_rel"] == 1.0
    assert result.metrics["micro"] == pytest.approx(2 / 3)
    assert sum(scorer.image_calls) == 2  # one encode per row, shared by its negatives
    with pytest.raises(ValueError):
        evaluate_choice(scorer, rows, progress=False)  # list negatives need categories


def test_evaluate_choice_takes_a_datasets_split():
    from helpers import NEGATIVE_TYPES, make_dataset

    dataset = make_dataset(8, seed=2, invalid_rate=0.25)
    scorer = CountingScorer()
    result = evaluate_choice(scorer, dataset, categories=NEGATIVE_TYPES, negatives_key="hard_negatives",
                             progress=False)
    present = sum(n is not None for negatives in dataset["hard_negatives"] for n in negatives)
    assert result.counts["items"] == 8 * len(NEGATIVE_TYPES) and result.counts["scored"] == present
    rows_with_a_negative = sum(any(n is not None for n in negatives) for negatives in dataset["hard_negatives"])
    assert sum(scorer.image_calls) == rows_with_a_negative


def test_image_and_text_scores_come_from_one_encoding_of_each_unique_item():
    scorer = CountingScorer()
    images = [MemoryImage(solid(r), name=r) for r in (0, 10)]
    items = [ChoiceItem(images[i % 2], ["ab", "abcd", f"negative {i % 3}"], 0) for i in range(6)]
    engine = ScoringEngine(scorer, batch_size=8, progress=False)
    scores, similarities = engine.score_choices_and_texts(items)
    assert scores == engine.score_choices(items)[:6]  # the same image-caption scores
    assert sum(scorer.image_calls) == 2 + 2 and sum(scorer.text_calls) == 5 + 5  # one encode per call
    assert (engine.stats.unique_texts, engine.stats.text_encodes) == (10, 10)
    for item, matrix in zip(items, similarities):
        lengths = [len(c) for c in item.captions]
        assert [v for row in matrix for v in row] == pytest.approx(
            [math.cos(math.pi / 1000 * (a - b)) for a in lengths for b in lengths], abs=1e-6)
        assert all(matrix[i][j] == matrix[j][i] for i in range(3) for j in range(3))


def test_equal_embeddings_score_exactly_equal():
    """Scores are summed products, not a matrix product whose kernel may round two equal rows apart (it does for
    most dense 512-d vectors): captions with the same embedding (say, cut at the same 77 tokens) tie exactly."""

    class OneTextEmbedding:
        """Every text gets one dense unit vector per trial, the image another."""

        def __init__(self, seed):
            generator = torch.Generator().manual_seed(seed)
            self.text, self.image = torch.nn.functional.normalize(torch.randn(2, 512, generator=generator), dim=1)

        def encode_images(self, images):
            return self.image.expand(len(images), -1)

        def encode_texts(self, texts):
            return self.text.expand(len(texts), -1)

    for seed in range(20):
        item = ChoiceItem(MemoryImage(solid(0), name="i"), ["right caption", "its twin"], 0)
        engine = ScoringEngine(OneTextEmbedding(seed), progress=False)
        scores, similarities = engine.score_choices_and_texts([item])
        assert scores[0][0] == scores[0][1], seed
        assert similarities[0][0][1] == similarities[0][1][0] == similarities[0][0][0] == similarities[0][1][1]
