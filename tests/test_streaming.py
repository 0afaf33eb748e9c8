"""Streaming training data (`hf_finegrained.streaming`): the same steps as map-style data, each row read once
across processes, bad rows skipped, counted and named, negatives made in the dataloader workers.

Run as a script (`__main__` at the end), this file is also the torchrun worker of the two-process test.
"""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys

import datasets
import pytest
import torch
from helpers import NEGATIVE_TYPES, make_dataset, make_rows
from transformers import CLIPModel, CLIPProcessor

from hf_finegrained import FineGrainedTrainer, FineGrainedTrainingArguments, streaming
from hf_finegrained.collator import FineGrainedCollator
from hf_finegrained.streaming import BadRowRateError


def make_args(output_dir, **overrides) -> FineGrainedTrainingArguments:
    settings = dict(output_dir=str(output_dir), per_device_train_batch_size=4, max_steps=3, learning_rate=5e-3,
                    warmup_steps=0, logging_steps=1, save_strategy="no", report_to=[], use_cpu=True, seed=0,
                    negative_types=NEGATIVE_TYPES, disable_tqdm=True)
    settings.update(overrides)
    return FineGrainedTrainingArguments(**settings)


def make_trainer(model_dir, args, train, collator=None) -> FineGrainedTrainer:
    processor = CLIPProcessor.from_pretrained(model_dir)
    return FineGrainedTrainer(model=CLIPModel.from_pretrained(model_dir), args=args, train_dataset=train,
                              processing_class=processor, data_collator=collator)


def with_ids(dataset: datasets.Dataset) -> datasets.Dataset:
    return dataset.add_column("id", list(range(len(dataset))))


def bad_rows_stream(folder, count: int, num_shards: int = 1, bad=(2, 5, 8)) -> datasets.IterableDataset:
    """`count` rows (`id` = position) with image files; among the rows of `bad`, row 2 gets a blank caption,
    row 5 three negatives for four types, row 8 a truncated image file."""
    rows = make_rows(count)
    for index, row in enumerate(rows):
        path = os.path.join(folder, f"img{index}.png")
        row["image"].save(path)
        if index == 8 and index in bad:
            with open(path, "r+b") as handle:
                handle.truncate(60)
        row["image"], row["id"] = path, index
    if 2 in bad:
        rows[2]["caption"] = " "
    if 5 in bad:
        rows[5]["hard_negatives"] = rows[5]["hard_negatives"][:3]
    features = datasets.Features({"image": datasets.Image(), "caption": datasets.Value("string"),
                                  "hard_negatives": datasets.Sequence(datasets.Value("string")),
                                  "id": datasets.Value("int64")})
    return datasets.Dataset.from_list(rows, features=features).to_iterable_dataset(num_shards=num_shards)


def step_losses(trainer: FineGrainedTrainer) -> list[float]:
    return [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]


def test_a_stream_trains_step_by_step_as_the_same_rows_in_memory(tiny_clip_dir, tmp_path):
    """Same rows, same order (the map-style run samples sequentially), same seed: the same loss at every step."""
    data = with_ids(make_dataset(16))
    in_memory = make_trainer(tiny_clip_dir, make_args(tmp_path / "a", max_steps=4,
                                                      train_sampling_strategy="sequential"), data)
    in_memory.train()
    stream = data.to_iterable_dataset(num_shards=4)
    streamed = make_trainer(tiny_clip_dir, make_args(tmp_path / "b", max_steps=4), stream)
    streamed.train()
    expected, got = step_losses(in_memory), step_losses(streamed)
    assert len(expected) == 4 and len(set(expected)) == 4
    assert got == pytest.approx(expected, rel=1e-6, abs=1e-7)
    assert streamed.stream_rows.counts.read == 16 and streamed.stream_rows.counts.skipped == 0


class IdRecordingCollator(FineGrainedCollator):
    """Records the `id` of every row it collates, and each batch's size (in the process that collates)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.ids: list[int] = []
        self.sizes: list[int] = []

    def __call__(self, rows):
        self.ids.extend(row["id"] for row in rows)
        self.sizes.append(len(rows))
        return super().__call__(rows)


def test_bad_rows_are_skipped_counted_and_named_in_the_log_and_the_card(tiny_clip_dir, tmp_path, caplog):
    collator = IdRecordingCollator(CLIPProcessor.from_pretrained(tiny_clip_dir), NEGATIVE_TYPES)
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path / "run", per_device_train_batch_size=3),
                           bad_rows_stream(tmp_path, 12), collator=collator)
    with caplog.at_level("WARNING"):
        trainer.train()
    assert collator.ids == [0, 1, 3, 4, 6, 7, 9, 10, 11]
    assert collator.sizes == [3, 3, 3]  # batches keep their size: bad rows are taken out before batching
    counts = trainer.stream_rows.counts
    assert (counts.read, counts.skipped) == (12, 3)
    assert len(counts.named) == 3
    for name, (row, reason) in zip(counts.named, [(2, "caption is empty"), (5, "hard_negatives has 3 entries"),
                                                  (8, "cannot read image")]):
        assert name.startswith(f"stream row {row} (id={row}, ") and reason in name
    assert str(tmp_path / "img8.png") in counts.named[2]
    assert sum("Skipped a bad training row: stream row" in record.message for record in caplog.records) == 3
    assert "3 of the 12 training rows read by this process were bad" in caplog.text
    trainer.save_model()
    card = (tmp_path / "run" / "README.md").read_text()
    assert "Checked as the stream was read: rows read from the stream: 12; bad rows skipped: 3." in card
    # The card is published: it names the bad rows with their image's file name only (the log keeps the path).
    assert counts.public[2] == counts.named[2].replace(f"{tmp_path}{os.sep}", "")
    assert all(f"- {name}" in card for name in counts.public) and str(tmp_path) not in card


def test_past_the_rate_training_stops_naming_the_rows(tiny_clip_dir, tmp_path, monkeypatch):
    """3 bad rows in the first 10 (30% > 1%) stop the run once 10 rows are read, naming them and the fix; a rate
    of 50% trains on. The minimum is patched from 100 to 10 to keep the test small."""
    monkeypatch.setattr(streaming, "MIN_ROWS_JUDGED", 10)
    trainer = make_trainer(tiny_clip_dir, make_args(tmp_path / "a", per_device_train_batch_size=3, max_steps=5),
                           bad_rows_stream(tmp_path, 16))
    with pytest.raises(BadRowRateError) as error:
        trainer.train()
    message = str(error.value)
    assert "3 of the 1" in message and "more than max_bad_row_rate=1.0%" in message
    assert all(f"stream row {row} (id={row}" in message for row in (2, 5, 8))
    assert "--max_bad_row_rate" in message and "Fix or drop these rows" in message
    assert trainer.state.global_step < 5
    lenient = make_trainer(tiny_clip_dir, make_args(tmp_path / "b", per_device_train_batch_size=3, max_steps=4,
                                                    max_bad_row_rate=0.5), bad_rows_stream(tmp_path, 16))
    lenient.train()
    assert lenient.state.global_step == 4 and lenient.stream_rows.counts.skipped == 3


def test_a_stream_needs_max_steps_and_its_columns(tiny_clip_dir, tmp_path):
    stream = make_dataset(4).to_iterable_dataset()
    with pytest.raises(ValueError, match=r"--max_steps"):
        make_trainer(tiny_clip_dir, make_args(tmp_path, max_steps=-1), stream)
    with pytest.raises(ValueError, match=r"no 'hard_negatives' column.*--generate_negatives"):
        make_trainer(tiny_clip_dir, make_args(tmp_path), stream.remove_columns("hard_negatives"))
    with pytest.raises(ValueError, match="max_bad_row_rate"):
        make_args(tmp_path, max_bad_row_rate=1.5)


class FileRecordingCollator(FineGrainedCollator):
    """Appends each row's process id, caption and negatives to a file (rows are collated in the workers)."""

    def __init__(self, *args, path: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.path = path

    def __call__(self, rows):
        with open(self.path, "a", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps([os.getpid(), row["caption"], row["hard_negatives"]]) + "\n")
        return super().__call__(rows)


def test_generate_negatives_fills_the_column_in_the_dataloader_workers(tiny_clip_dir, tmp_path):
    from hf_finegrained.negatives import HardNegativeGenerator

    stream = make_dataset(8).remove_columns("hard_negatives").to_iterable_dataset(num_shards=2)
    record = str(tmp_path / "rows.jsonl")
    collator = FileRecordingCollator(CLIPProcessor.from_pretrained(tiny_clip_dir), NEGATIVE_TYPES, path=record)
    args = make_args(tmp_path / "run", per_device_train_batch_size=2, max_steps=4, generate_negatives=True,
                     dataloader_num_workers=2, seed=3)
    trainer = make_trainer(tiny_clip_dir, args, stream, collator=collator)
    trainer.train()
    seen = [json.loads(line) for line in open(record, encoding="utf-8")]
    assert len(seen) == 8 and os.getpid() not in {pid for pid, _, _ in seen}
    expected = HardNegativeGenerator(seed=3, types=NEGATIVE_TYPES).generate([caption for _, caption, _ in seen])
    assert [negatives for _, _, negatives in seen] == [[row[t] for t in NEGATIVE_TYPES] for row in expected]
    assert any(any(negatives) for _, _, negatives in seen)
    assert sorted(caption for _, caption, _ in seen) == sorted(make_dataset(8)["caption"])
    assert trainer.stream_rows.counts.read == 8


def test_train_script_streams_parquet_files_and_makes_their_negatives(tiny_clip_dir, tmp_path, monkeypatch):
    """hf-finegrained-train --dataset_path 'data/*.parquet' --streaming --generate_negatives: files without a
    `hard_negatives` column train, a blank caption is skipped and named in the card; without --max_steps the
    command stops, naming the flag."""
    from hf_finegrained import training_command as script

    data = with_ids(make_dataset(10)).remove_columns("hard_negatives")
    data = data.map(lambda row: {"caption": "" if row["id"] == 3 else row["caption"]})
    (tmp_path / "data").mkdir()
    for index in range(2):
        data.shard(2, index, contiguous=True).to_parquet(str(tmp_path / "data" / f"train-{index}.parquet"))
    flags = ["--model_name_or_path", tiny_clip_dir, "--dataset_path", str(tmp_path / "data" / "*.parquet"),
             "--streaming", "--generate_negatives", "--per_device_train_batch_size", "3", "--output_dir",
             str(tmp_path / "run"), "--negative_types", *NEGATIVE_TYPES, "--use_cpu", "--save_strategy", "no"]
    with pytest.raises(SystemExit, match="--max_steps"):
        script.main(flags)
    script.main([*flags, "--max_steps", "3"])
    card = (tmp_path / "run" / "README.md").read_text()
    assert "rows read from the stream: 10; bad rows skipped: 1." in card
    assert "- stream row 3 (id=3, caption ''" in card


# --- two processes over a sharded stream ----------------------------------------------------------------------


def _two_process_worker(model_dir: str, out: str) -> None:
    """Run under torchrun (gloo): 4 steps of 2 rows on 16 rows in 4 shards, row 5 bad; rank 0 saves every rank's
    row ids, step count and the card."""
    import tempfile

    import torch.distributed as dist

    torch.set_num_threads(1)
    stream = bad_rows_stream(tempfile.mkdtemp(), 16, num_shards=4, bad=(5,))
    collator = IdRecordingCollator(CLIPProcessor.from_pretrained(model_dir), NEGATIVE_TYPES)
    args = make_args(os.path.join(os.path.dirname(out), "run"), per_device_train_batch_size=2, max_steps=4)
    trainer = make_trainer(model_dir, args, stream, collator=collator)
    trainer.train()
    trainer.save_model()
    every = [None] * dist.get_world_size()
    dist.all_gather_object(every, {"ids": collator.ids, "steps": trainer.state.global_step})
    if dist.get_rank() == 0:
        card = open(os.path.join(args.output_dir, "README.md"), encoding="utf-8").read()
        torch.save({"ranks": every, "card": card}, out)
    dist.barrier()


def test_two_processes_over_a_sharded_stream_read_every_row_once(tiny_clip_dir, tmp_path):
    """Each process reads its own two of the four shards: together every good row exactly once, each process
    whole shards; the bad row is counted once, and the card of rank 0 holds both processes' counts."""
    out = tmp_path / "ranks.pt"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
               str(_free_port()), os.path.abspath(__file__), "--model", tiny_clip_dir, "--out", str(out)]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([root, os.path.dirname(os.path.abspath(__file__))])}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    saved = torch.load(out, weights_only=False)
    ranks = saved["ranks"]
    assert [rank["steps"] for rank in ranks] == [4, 4]
    first, second = ranks[0]["ids"], ranks[1]["ids"]
    assert sorted(first + second) == [index for index in range(16) if index != 5]
    assert {index // 4 for index in first}.isdisjoint({index // 4 for index in second})  # shards, not rows
    assert "rows read from the stream: 16; bad rows skipped: 1." in saved["card"]
    assert re.search(r"- stream row \d of process [01] \(id=5, ", saved["card"])


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":  # the torchrun worker of the test above
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--out", required=True)
    options = parser.parse_args()
    _two_process_worker(options.model, options.out)
