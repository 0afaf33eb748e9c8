"""FineGrainedCollator: text order, padding, truncation, masks and errors."""

from __future__ import annotations

import pytest
import torch
from helpers import NEGATIVE_TYPES, draw
from transformers import CLIPProcessor

from hf_finegrained import FineGrainedCollator


@pytest.fixture(scope="module")
def processor(tiny_clip_dir):
    return CLIPProcessor.from_pretrained(tiny_clip_dir)


def _row(caption, negatives, image=None):
    return {"image": image if image is not None else draw("red", "circle"), "caption": caption,
            "hard_negatives": negatives}


def test_texts_are_captions_then_valid_negatives_row_major(processor):
    rows = [
        _row("a red circle on a white background", ["a", None, "b c", ""]),
        _row("a blue square", [None, "d", None, "e f g"]),
    ]
    batch = FineGrainedCollator(processor, NEGATIVE_TYPES)(rows)
    assert batch["negative_mask"].tolist() == [[True, False, True, False], [False, True, False, True]]
    expected = ["a red circle on a white background", "a blue square", "a", "b c", "d", "e f g"]
    decoded = processor.tokenizer.batch_decode(batch["input_ids"], skip_special_tokens=True)
    assert decoded == expected
    # Padded to the longest text of the batch, not to 77.
    longest = max(len(processor.tokenizer(t)["input_ids"]) for t in expected)
    assert batch["input_ids"].shape == (6, longest)
    assert batch["attention_mask"].sum(1).tolist() == [len(processor.tokenizer(t)["input_ids"]) for t in expected]
    assert batch["pixel_values"].shape == (2, 3, 32, 32)


def test_negatives_by_type_name_and_truncation(processor, tmp_path):
    path = tmp_path / "img.png"
    draw("blue", "square").save(path)
    texts = ["a red circle", "a blue square", "a green triangle", "a yellow circle"]
    by_name = dict(zip(NEGATIVE_TYPES, texts))
    row = _row(" ".join(["red circle"] * 60), dict(reversed(list(by_name.items()))), image=str(path))
    batch = FineGrainedCollator(processor, NEGATIVE_TYPES, max_length=16)([row])
    assert batch["input_ids"].shape == (5, 16)
    assert batch["input_ids"][0, -1].item() == processor.tokenizer.eos_token_id
    assert processor.tokenizer.batch_decode(batch["input_ids"][1:], skip_special_tokens=True) == texts


def test_without_negatives_has_no_mask(processor):
    batch = FineGrainedCollator(processor, [], include_negatives=False)([{"image": draw("red", "square"),
                                                                           "caption": "a red square"}])
    assert "negative_mask" not in batch and batch["input_ids"].shape[0] == 1


@pytest.mark.parametrize(
    "row,match",
    [
        (_row("", [None] * 4), r"batch row 0 .*caption is empty"),
        (_row("a cat", ["x"] * 3), r"hard_negatives has 3 entries but 4 negative types"),
        (_row("a cat", ["x", 1, None, None]), r"entries must be str or None"),
        (_row("a cat", {"swap_object": "x"}), r"no entry for type\(s\)"),
        (_row("a cat", [None] * 4, image="/nonexistent/cat.jpg"), r"image /nonexistent/cat.jpg.*cannot read"),
        ({"caption": "a cat", "hard_negatives": [None] * 4}, r"has no 'image' column.*remove_unused_columns"),
    ],
)
def test_bad_rows_name_the_row_and_the_fix(processor, row, match):
    with pytest.raises((ValueError, KeyError), match=match):
        FineGrainedCollator(processor, NEGATIVE_TYPES)([row])


def test_mask_shape_with_all_invalid(processor):
    batch = FineGrainedCollator(processor, NEGATIVE_TYPES)([_row("a red circle", [None, " ", "", None])])
    assert batch["negative_mask"].shape == (1, 4) and not batch["negative_mask"].any()
    assert batch["input_ids"].shape[0] == 1
    assert torch.equal(batch["negative_mask"], torch.zeros(1, 4, dtype=torch.bool))


def test_one_max_length_rule_for_training_validation_and_scoring(tiny_clip_dir, tmp_path):
    """`ModelFamily.max_text_length`: the override, else the smaller of the tokenizer's finite limit and the text
    model's positions, else 77; the trainer's collator (hence the validation's count of cut captions) and the
    scorer read the same number."""
    from transformers import CLIPModel

    from hf_finegrained import FineGrainedTrainingArguments
    from hf_finegrained.evaluation.scorer import ModelScorer
    from hf_finegrained.families import CLIP
    from hf_finegrained.training_data import prepare_training_data

    model, processor = CLIPModel.from_pretrained(tiny_clip_dir), CLIPProcessor.from_pretrained(tiny_clip_dir)
    args = FineGrainedTrainingArguments(output_dir=str(tmp_path), report_to=[], use_cpu=True)

    def lengths() -> tuple[int, int]:
        return prepare_training_data(args, model, CLIP, processor).collator.max_length, \
            ModelScorer(model, processor).max_length

    for limit, expected in ((77, 77), (512, 77), (20, 20), (int(1e30), 77)):  # 512: more than the positions
        processor.tokenizer.model_max_length = limit
        assert lengths() == (expected, expected), limit
    assert FineGrainedCollator(processor, NEGATIVE_TYPES).max_length == 77  # no model: tokenizer, else CLIP's 77
    processor.tokenizer.model_max_length = 30
    assert FineGrainedCollator(processor, NEGATIVE_TYPES).max_length == 30
    assert CLIP.max_text_length(processor.tokenizer, model, override=12) == 12
