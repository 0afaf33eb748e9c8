"""Images stored resized at build time (issue 28, item 1): shortest side, centre crop, JPEG quality, the original
size in the features, the dataset card, and both flag spellings of `hf-finegrained-build`."""

from __future__ import annotations

import io
import json

import datasets
import numpy as np
import pytest
from huggingface_hub import DatasetCard
from PIL import Image

from hf_finegrained.builders import ImageResize, export_parquet, resize_images
from hf_finegrained.builders.cli import main as build_main
from hf_finegrained.builders.resize import resize_image

SIZES = {"wide.jpg": (640, 480), "tall.png": (300, 500), "small.jpg": (200, 150)}


def photo(width: int, height: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack([128 + 100 * np.sin(x / 40 + y / 70 + c + seed) for c in range(3)], -1)
    return Image.fromarray((image + rng.normal(0, 6, image.shape)).clip(0, 255).astype(np.uint8))


def write_images(folder):
    folder.mkdir(parents=True, exist_ok=True)
    for seed, (name, size) in enumerate(SIZES.items()):
        photo(*size, seed).save(folder / name, quality=95)


def write_coco(folder):
    write_images(folder / "images")
    annotation = {"images": [{"id": i, "file_name": name} for i, name in enumerate(SIZES)],
                  "annotations": [{"id": 100 + i, "image_id": i, "caption": f"a red car next to a blue bus {i}"}
                                  for i in range(len(SIZES))]}
    path = folder / "captions.json"
    path.write_text(json.dumps(annotation))
    return path


def test_resize_keeps_the_aspect_records_the_original_size_and_never_enlarges(tmp_path):
    write_images(tmp_path)
    data = datasets.Dataset.from_dict({"image": [str(tmp_path / name) for name in SIZES], "caption": list(SIZES)},
                                      features=datasets.Features({"image": datasets.Image(),
                                                                  "caption": datasets.Value("string")}))
    resized = resize_images(data, ImageResize(256))
    assert resized["original_width"] == [640, 300, 200] and resized["original_height"] == [480, 500, 150]
    assert resized.features["original_width"] == datasets.Value("int32")
    assert [image.size for image in resized["image"]] == [(341, 256), (256, 426), (200, 150)]
    assert [image.format for image in resized["image"]] == ["JPEG", "JPEG", "JPEG"]
    raw = resized.cast_column("image", datasets.Image(decode=False))
    assert raw[2]["image"]["bytes"] == (tmp_path / "small.jpg").read_bytes(), "a small image is kept byte for byte"
    # Close to a full decode and a plain bicubic resize (the stored JPEG went through draft mode and quality 90).
    reference = np.asarray(Image.open(tmp_path / "wide.jpg").convert("RGB").resize((341, 256), Image.BICUBIC), float)
    assert np.abs(np.asarray(resized[0]["image"], float) - reference).mean() < 3
    cropped = resize_images(data, ImageResize(128, center_crop=True, quality=80))
    assert [image.size for image in cropped["image"]] == [(128, 128)] * 3
    with pytest.raises(ValueError, match="already has"):
        resize_images(resized, ImageResize(128))


def test_exif_orientation_is_applied_and_the_upright_size_recorded():
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    photo(640, 480, 3).save(buffer, format="JPEG", exif=exif.tobytes())
    stored, width, height = resize_image({"bytes": buffer.getvalue(), "path": "/local/folder/turned.jpg"},
                                         ImageResize(240))
    assert (width, height) == (480, 640)
    assert Image.open(io.BytesIO(stored["bytes"])).size == (240, 320) and stored["path"] == "turned.jpg"


def test_bad_settings_and_unreadable_images_are_named(tmp_path):
    with pytest.raises(ValueError, match="shortest_side"):
        ImageResize(0)
    with pytest.raises(ValueError, match="quality"):
        ImageResize(256, quality=100)
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    data = datasets.Dataset.from_dict({"image": [str(tmp_path / "broken.jpg")]},
                                      features=datasets.Features({"image": datasets.Image()}))
    with pytest.raises(ValueError, match="row 0: cannot resize the image.*broken.jpg"):
        resize_images(data, ImageResize(64))


@pytest.mark.parametrize("spelling", ["_", "-"])
def test_the_build_command_stores_resized_images_and_the_card_says_so(tmp_path, spelling):
    annotations = write_coco(tmp_path)
    out = tmp_path / "out"
    flag = lambda name: "--" + name.replace("_", spelling)  # noqa: E731
    build_main(["coco", flag("annotations"), str(annotations), flag("images"), str(tmp_path / "images"),
                flag("output_dir"), str(out), flag("image_shortest_side"), "128", flag("image_quality"), "85",
                flag("image_center_crop"), flag("disable_tqdm")])
    loaded = datasets.load_dataset(str(out), split="train", cache_dir=str(tmp_path / "cache"))
    assert [image.size for image in loaded["image"]] == [(128, 128)] * 3
    assert loaded["original_width"] == [640, 300, 200] and loaded["original_height"] == [480, 500, 150]
    assert sorted(loaded.column_names) == sorted(["image", "caption", "image_id", "caption_id", "hard_negatives",
                                                 "original_width", "original_height"])
    card = DatasetCard.load(out / "README.md")
    assert card.data.to_dict()["hf_finegrained"]["images"] == {
        "shortest_side": 128, "center_crop": True, "jpeg_quality": 85,
        "original_size_columns": ["original_width", "original_height"]}
    assert "shortest side 128 px" in card.text and "`original_width`" in card.text


def test_a_bad_resize_flag_stops_before_anything_is_built(tmp_path):
    annotations = write_coco(tmp_path)
    for flags, message in ((["--image_center_crop"], "needs --image_shortest_side"),
                           (["--image-shortest-side", "256", "--image-quality", "0"], "quality")):
        with pytest.raises(SystemExit, match=message):
            build_main(["coco", "--annotations", str(annotations), "--images", str(tmp_path / "images"),
                        "--output_dir", str(tmp_path / "out"), *flags])
        assert not (tmp_path / "out").exists()


def test_export_parquet_resizes_without_the_command(tmp_path):
    write_images(tmp_path / "images")
    data = datasets.Dataset.from_dict({"image": [str(tmp_path / "images" / "wide.jpg")], "caption": ["a car"]},
                                      features=datasets.Features({"image": datasets.Image(),
                                                                  "caption": datasets.Value("string")}))
    export_parquet(data, tmp_path / "out", image_resize=ImageResize(64))
    loaded = datasets.load_dataset(str(tmp_path / "out"), split="train", cache_dir=str(tmp_path / "cache"))
    assert loaded[0]["image"].size == (85, 64) and loaded[0]["original_width"] == 640
