"""The collator's fast image path (`pixels.PixelRule`): the processor's pixels, exactly for images that are not
reduced-scale JPEGs and within a stated bound for those; the same scores; streams, negatives made on the fly and
the trainer's normalisation on the device."""

import io
import math

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from helpers import NEGATIVE_TYPES, all_captions, make_dataset
from hf_finegrained.collator import FineGrainedCollator
from hf_finegrained.families import CLIP, SIGLIP, SIGLIP2
from hf_finegrained.negatives.types import DEFAULT_NEGATIVE_TYPES as TYPES
from hf_finegrained.pixels import PixelRule, UnsupportedPixelRule, normalize_batch
from hf_finegrained.rows import open_image
from hf_finegrained.synthetic.tiny_clip import build_processor, build_siglip_processor, train_clip_tokenizer

# The bound of the fast path on 640x480 JPEGs decoded at half scale (draft mode), in uint8 levels of the
# processor's own output (normalised difference / the normalised step of one level). Measured on these photo-like
# images (sensor-like noise of sd 18 levels, which the DCT-scaled decode averages otherwise than the full decode
# and the processor's antialiased bicubic resize): mean 2.9 levels (CLIP) and 2.6 (SigLIP), max 48 and 40 levels
# (single pixels on sharp edges); without the noise, mean 0.6 (CLIP) and 0.5 (SigLIP) levels (docs/PERFORMANCE.md).
MEAN_LEVELS, MAX_LEVELS = 3.5, 64


def make_args(output_dir, **overrides):
    from hf_finegrained import FineGrainedTrainingArguments
    settings = dict(output_dir=str(output_dir), per_device_train_batch_size=4, max_steps=2, learning_rate=5e-3,
                    warmup_steps=0, logging_steps=1, save_strategy="no", report_to=[], use_cpu=True, seed=0,
                    negative_types=NEGATIVE_TYPES, disable_tqdm=True)
    return FineGrainedTrainingArguments(**{**settings, **overrides})


def make_trainer(model_dir, args, train_dataset):
    from transformers import CLIPModel, CLIPProcessor

    from hf_finegrained import FineGrainedTrainer

    return FineGrainedTrainer(model=CLIPModel.from_pretrained(model_dir), args=args, train_dataset=train_dataset,
                              processing_class=CLIPProcessor.from_pretrained(model_dir))


def photo_like(seed: int, width: int = 640, height: int = 480) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack([110 + 90 * np.sin(x / rng.uniform(30, 90) + y / rng.uniform(40, 120) + c) for c in range(3)], -1)
    canvas = Image.fromarray(image.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    for _ in range(8):
        x0, y0 = int(rng.integers(0, width - 60)), int(rng.integers(0, height - 60))
        draw.ellipse((x0, y0, x0 + 120, y0 + 80), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    noisy = np.asarray(canvas, dtype=np.float32) + rng.normal(0, 18, (height, width, 3))
    return Image.fromarray(noisy.clip(0, 255).astype(np.uint8))


def encoded(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def processors():
    tokenizer = train_clip_tokenizer(all_captions() * 4, vocab_size=300)
    return {"clip": build_processor(tokenizer, image_size=224), "siglip": build_siglip_processor(tokenizer, 224)}


def levels(rule: PixelRule, difference: torch.Tensor) -> torch.Tensor:
    """A normalised difference [B, 3, H, W] in uint8 levels of each channel."""
    step = (rule.table[:, 1] - rule.table[:, 0]).view(1, 3, 1, 1)
    return difference / step


def both_paths(processor, values):
    rule = PixelRule.from_processor(processor.image_processor)
    reference = processor.image_processor(images=[open_image(v) for v in values], return_tensors="pt")["pixel_values"]
    fast = rule([rule.decode(v) for v in values])
    return rule, reference, fast


@pytest.mark.parametrize("name", ["clip", "siglip"])
def test_the_fast_path_gives_the_processors_pixels(processors, name):
    processor = processors[name]
    images = [photo_like(seed) for seed in range(3)]
    jpegs = [{"bytes": encoded(image, "JPEG", quality=90), "path": None} for image in images]
    pngs = [{"bytes": encoded(image, "PNG"), "path": None} for image in images]
    rule, reference, fast = both_paths(processor, pngs)
    assert fast.dtype == torch.uint8 and fast.shape == reference.shape == (3, 3, 224, 224)
    assert torch.equal(rule.normalize(fast), reference), "a PNG must give the processor's values to the bit"
    rule, reference, fast = both_paths(processor, jpegs)
    assert rule.decode(jpegs[0]).size == ((298, 224) if name == "clip" else (224, 224)), "drafted and resized"
    difference = levels(rule, (rule.normalize(fast) - reference).abs())
    mean, peak = difference.mean().item(), difference.max().item()
    print(f"{name} 640x480 JPEG q90, fast vs processor: mean {mean:.2f} levels, max {peak:.1f} levels")
    assert 0 < mean <= MEAN_LEVELS and peak <= MAX_LEVELS
    # A JPEG no larger than needed is not drafted: exact again.
    small = [{"bytes": encoded(image.resize((300, 240)), "JPEG", quality=90), "path": None} for image in images]
    rule, reference, fast = both_paths(processor, small)
    assert torch.equal(rule.normalize(fast), reference)


def test_the_table_is_the_processors_mean_and_std(processors):
    for name, mean, std in (("clip", (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),
                            ("siglip", (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))):
        rule = PixelRule.from_processor(processors[name].image_processor)
        expected = (torch.arange(256).view(1, 256) / 255 - torch.tensor(mean).view(3, 1)) / torch.tensor(std).view(3, 1)
        assert torch.allclose(rule.table, expected, atol=1e-5), name
    changed = build_processor(train_clip_tokenizer(all_captions(), vocab_size=300), image_size=32)
    changed.image_processor.image_mean = [0.1, 0.2, 0.3]
    assert torch.allclose(PixelRule.from_processor(changed.image_processor).table[:, 0],
                          -torch.tensor([0.1, 0.2, 0.3]) / torch.tensor(changed.image_processor.image_std))


def test_exif_orientation_and_odd_sizes_follow_the_processor(processors):
    processor = processors["clip"]
    image = photo_like(7, width=901, height=677)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: stored 901 x 677, shown 677 x 901
    rotated = {"bytes": encoded(image, "JPEG", quality=92, exif=exif.tobytes()), "path": None}
    portrait = {"bytes": encoded(image.transpose(Image.Transpose.ROTATE_90), "PNG"), "path": None}
    rule, reference, fast = both_paths(processor, [rotated, portrait])
    assert fast.shape == reference.shape
    difference = levels(rule, (rule.normalize(fast) - reference).abs())
    assert difference[0].mean() <= MEAN_LEVELS, "the drafted, rotated JPEG is shown upright like the processor's"
    assert difference[1].max() == 0


def test_siglip2_and_padding_processors_have_no_fast_path(processors):
    tokenizer = processors["clip"].tokenizer
    with pytest.raises(UnsupportedPixelRule, match="image_pipeline='processor'"):
        SIGLIP2.pixel_rule(build_siglip_processor(tokenizer, 32, version=2).image_processor)
    padding = build_processor(tokenizer, 32).image_processor
    padding.do_pad = True
    with pytest.raises(UnsupportedPixelRule, match="pads"):
        CLIP.pixel_rule(padding)
    with pytest.raises(ValueError, match="image_pipeline"):
        FineGrainedCollator(processors["clip"], TYPES, image_pipeline="gpu")


def test_the_scorer_prepares_images_on_the_fast_path_with_the_same_embeddings(tiny_clip_dir, processors, monkeypatch):
    """`ModelScorer` takes the fast path where it is exact (decoded RGB images, a PIL-backend processor): the same
    embeddings as the processor's path, without calling the image processor; elsewhere the processor."""
    from transformers import AutoModel, AutoProcessor

    from hf_finegrained.evaluation.scorer import ModelScorer, _exact_pixel_rule
    from hf_finegrained.synthetic.world import SyntheticWorld

    model, processor = AutoModel.from_pretrained(tiny_clip_dir).eval(), AutoProcessor.from_pretrained(tiny_clip_dir)
    fast, reference = ModelScorer(model, processor), ModelScorer(model, processor, image_pipeline="processor")
    assert fast.pixel_rule is not None and reference.pixel_rule is None
    world = SyntheticWorld(num_train=0, num_test=0, num_seen=2).build_split("test_seen")["image"]
    images = [photo_like(0), photo_like(1, 300, 240), photo_like(2, 200, 400)] + [i.convert("RGB") for i in world]
    expected = reference.encode_images(images)

    def no_processor(*args, **kwargs):
        raise AssertionError("the image processor was called on the fast path")

    monkeypatch.setattr(type(processor.image_processor), "__call__", no_processor)
    assert torch.equal(fast.encode_images(images), expected)
    with pytest.raises(AssertionError, match="fast path"):
        fast.encode_images([images[0].convert("L")])  # not RGB: the processor's own conversion decides
    tokenizer = processors["clip"].tokenizer
    assert _exact_pixel_rule(SIGLIP2, build_siglip_processor(tokenizer, 32, version=2).image_processor) is None
    padding = build_processor(tokenizer, 32).image_processor
    padding.do_pad = True
    assert _exact_pixel_rule(CLIP, padding) is None
    with pytest.raises(ValueError, match="image_pipeline"):
        ModelScorer(model, processor, image_pipeline="gpu")


def rows_of(images, captions):
    negatives = [None, "a blue square", None, None, None]
    return [{"image": image, "caption": caption, "hard_negatives": negatives} for image, caption in zip(images, captions)]


@pytest.mark.parametrize("family,name", [(CLIP, "clip"), (SIGLIP, "siglip")])
def test_the_collator_hands_uint8_and_the_same_texts(processors, family, name):
    processor = processors[name]
    values = [{"bytes": encoded(photo_like(s), "PNG"), "path": None} for s in range(2)]
    rows = rows_of(values, ["a red circle", "a green square left of a red circle"])
    reference = FineGrainedCollator(processor, TYPES, max_length=16, family=family)(rows)
    collator = FineGrainedCollator(processor, TYPES, max_length=16, family=family, image_pipeline="fast")
    fast = collator(rows)
    assert fast["pixel_values"].dtype == torch.uint8
    assert fast.keys() == reference.keys()
    for key in fast:
        if key != "pixel_values":
            assert torch.equal(fast[key], reference[key]), key
    assert torch.equal(normalize_batch(fast, collator.pixel_rule)["pixel_values"], reference["pixel_values"])
    with pytest.raises(ValueError, match="uint8"):
        normalize_batch(fast, None)


def test_a_truncated_jpeg_is_still_an_error_naming_the_row(processors):
    blob = encoded(photo_like(3), "JPEG", quality=90)
    rows = rows_of([{"bytes": blob[: len(blob) // 2], "path": None}], ["a red circle"])
    collator = FineGrainedCollator(processors["clip"], TYPES, image_pipeline="fast")
    with pytest.raises(ValueError, match="batch row 0.*cannot read the image"):
        collator(rows)


def test_the_synthetic_world_gets_the_processors_pixels_to_the_bit(tiny_clip_dir):
    """The default run trains on the world's PNG images through the fast path: it must see the same floats."""
    from transformers import AutoProcessor

    from hf_finegrained.rows import defer_image_decoding
    from hf_finegrained.synthetic.world import SyntheticWorld

    split = defer_image_decoding(SyntheticWorld(num_train=0, num_test=0, num_seen=64).build_split("test_seen"))
    rows = [{**row, "hard_negatives": [None] * len(TYPES)} for row in split]
    processor = AutoProcessor.from_pretrained(tiny_clip_dir)
    reference = FineGrainedCollator(processor, TYPES)(rows)["pixel_values"]
    collator = FineGrainedCollator(processor, TYPES, image_pipeline="fast")
    fast = collator(rows)["pixel_values"]
    assert torch.equal(collator.pixel_rule.normalize(fast), reference)


def strict_choice_outcomes(image_embeds, text_embeds, items) -> list[bool]:
    """Whether each (image, caption, negative) item's caption scores strictly above its negative."""
    return [bool(image_embeds[i] @ text_embeds[c] > image_embeds[i] @ text_embeds[n]) for i, c, n in items]


def test_a_fixed_model_scores_the_same_through_both_paths(tiny_clip_dir, tmp_path):
    """The world's test_seen, scored by a fixed model: (a) its own PNG images through the scoring engine on the
    fast path and on the processor's (equal scores: equal pixels); (b) the same images stored as 640x480 JPEGs
    (drafted on the fast path): the strict-choice accuracy of the collator's fast pixels vs the processor's, within 0.2
    points (computed here from the model's towers, not through the engine, which decodes images itself)."""
    from transformers import AutoModel, AutoProcessor

    from hf_finegrained.evaluation.scorer import ModelScorer
    from hf_finegrained.synthetic.evaluation import category_scores
    from hf_finegrained.synthetic.world import SyntheticWorld

    model, processor = AutoModel.from_pretrained(tiny_clip_dir).eval(), AutoProcessor.from_pretrained(tiny_clip_dir)
    split = SyntheticWorld(num_train=0, num_test=0, num_seen=300).build_split("test_seen")
    rule = CLIP.pixel_rule(processor.image_processor)

    class FastScorer(ModelScorer):
        @torch.no_grad()
        def encode_images(self, images):
            pixels = rule.normalize(rule([rule.decode(image) for image in images]))
            out = self.model.get_image_features(pixel_values=pixels)
            out = out.pooler_output if hasattr(out, "pooler_output") else out
            return torch.nn.functional.normalize(out.float(), dim=-1)

    from hf_finegrained.evaluation.engine import make_engine

    assert ModelScorer(model, processor).pixel_rule is not None
    assert category_scores(make_engine(ModelScorer(model, processor), progress=False), split) == \
        category_scores(make_engine(ModelScorer(model, processor, image_pipeline="processor"), progress=False), split)

    scorer = ModelScorer(model, processor)
    jpegs = [{"bytes": encoded(image.convert("RGB").resize((640, 480), Image.Resampling.BICUBIC), "JPEG",
                               quality=90), "path": None} for image in split["image"]]
    texts, items = [], []
    for i, row in enumerate(split):
        for negative in row["hard_negatives"].values():
            if negative is not None:
                items.append((i, len(texts), len(texts) + 1))
                texts += [row["caption"], negative]
    text_embeds = scorer.encode_texts(texts)
    with torch.no_grad():
        reference = scorer.encode_images([open_image(value) for value in jpegs])
        fast = FastScorer(model, processor).encode_images(jpegs)
    outcomes = [strict_choice_outcomes(embeds, text_embeds, items) for embeds in (reference, fast)]
    accuracy = [100 * sum(o) / len(o) for o in outcomes]
    agree = 100 * sum(a == b for a, b in zip(*outcomes)) / len(items)
    print(f"{len(items)} items: processor {accuracy[0]:.2f}%, fast {accuracy[1]:.2f}%, same outcome {agree:.2f}%")
    assert len(items) >= 1000 and abs(accuracy[0] - accuracy[1]) <= 0.2
    assert agree >= 99.0, "not only the same accuracy: the same items right"
    assert not torch.equal(reference, fast), "the JPEGs were drafted, so the pixels differ a little"


def test_the_trainer_normalises_uint8_pixels_on_the_device_with_the_same_loss(tiny_clip_dir, tmp_path):
    rows = make_dataset(8, seed=1)
    losses, weights = {}, {}
    for pipeline in ("processor", "fast"):
        trainer = make_trainer(tiny_clip_dir, make_args(tmp_path / pipeline, max_steps=1, image_pipeline=pipeline),
                               train_dataset=rows)
        assert (trainer.data_collator.pixel_rule is not None) == (pipeline == "fast")
        batch = trainer.data_collator([rows[i] for i in range(4)])
        assert batch["pixel_values"].dtype == (torch.uint8 if pipeline == "fast" else torch.float32)
        losses[pipeline] = trainer.compute_loss(trainer.model, trainer._prepare_inputs(batch)).item()
        trainer.train()
        weights[pipeline] = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}
    assert math.isfinite(losses["fast"]) and losses["fast"] == losses["processor"]
    # Two training steps on PNG-backed rows (as the default run's world): the same weights to the bit.
    assert all(torch.equal(weights["fast"][name], value) for name, value in weights["processor"].items())


def test_a_stream_with_negatives_made_on_the_fly_trains_on_the_fast_path(tiny_clip_dir, tmp_path):
    """A JPEG stream without negatives (`generate_negatives`): the row check decodes with the fast path's
    decode (drafted at 1/8 for the 32 px model), batches hold uint8 pixels, and training runs."""
    import datasets

    from helpers import draw

    features = datasets.Features({"image": datasets.Image(), "caption": datasets.Value("string")})
    source = make_dataset(8, seed=2)
    rows = [{"image": {"bytes": encoded(draw(*row["caption"].split()[1:3]).resize((640, 480)), "JPEG", quality=90),
                       "path": None}, "caption": row["caption"]} for row in source]
    stream = datasets.Dataset.from_list(rows, features=features).to_iterable_dataset(num_shards=2)
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path / "run", per_device_train_batch_size=2, max_steps=2,
                                                    generate_negatives=True), stream)
    rule = trainer.data_collator.pixel_rule
    assert rule is not None and trainer.train_dataset.decode == rule.decode
    batch = next(iter(trainer.get_train_dataloader()))
    assert batch["pixel_values"].dtype == torch.uint8 and batch["pixel_values"].shape == (2, 3, 32, 32)
    assert rule.decode(rows[0]["image"]).size == (42, 32)  # drafted to 80 x 60, then resized
    assert torch.equal(batch["pixel_values"], rule([rule.decode(row["image"]) for row in rows[:2]]))
    assert batch["negative_mask"].any(), "negatives were made as the stream was read"
    trainer.train()
    logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert len(logs) == 2 and all(math.isfinite(entry["loss"]) for entry in logs)


def test_the_trainer_setting_falls_back_to_the_processor_where_there_is_no_fast_path(processors, tmp_path):
    from hf_finegrained.training_data import _image_pipeline

    siglip2 = build_siglip_processor(processors["clip"].tokenizer, 32, version=2)
    assert _image_pipeline("fast", SIGLIP2, siglip2) == "processor"
    assert _image_pipeline("fast", CLIP, processors["clip"]) == "fast"
    assert _image_pipeline("processor", CLIP, processors["clip"]) == "processor"
    with pytest.raises(ValueError, match="image_pipeline must be 'fast' or 'processor'"):
        make_args(tmp_path, image_pipeline="gpu")
