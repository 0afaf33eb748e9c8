"""Issue 30 items 1-4: the `hf-finegrained-train` front door (help, modes, --config anywhere), one flag convention
across the commands, renamed columns, progress without raw log dicts on the console."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hf_finegrained import training_command as train
from hf_finegrained.synthetic.default_run import SYNTHETIC_DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
NEGATIVE_TYPES = ["swap_object", "replace_attribute", "replace_object", "replace_relation"]
RAW_DICT = re.compile(r"\{'(loss|train_runtime|learning_rate|epoch|grad_norm)'")


def _help() -> str:
    return train.build_parser().format_help()


# Item 1: the command and its help ------------------------------------------------------------------------

def test_console_command_is_installed_and_its_first_screen_names_both_modes():
    command = shutil.which("hf-finegrained-train") or str(Path(sys.executable).parent / "hf-finegrained-train")
    result = subprocess.run([command, "--help"], capture_output=True, text=True, timeout=120,
                            env={"COLUMNS": "120", "PATH": str(Path(sys.executable).parent)})
    assert result.returncode == 0, result.stderr[-2000:]
    first_screen = "\n".join(result.stdout.splitlines()[:40])
    assert first_screen.startswith("usage: hf-finegrained-train")
    for words in ("CLIP, SigLIP or SigLIP 2", "embedded default", "your model and data", "--model_name_or_path"):
        assert words in first_screen, words


def test_help_shows_the_defaults_each_mode_really_uses():
    """The table and each flag's line agree with what `parse` gives in each mode."""
    text = _help()
    embedded, paper = train.parse([])[3], train.parse(["--model_name_or_path", "m"])[3]
    table = text[text.index("Defaults that differ"):text.index("--config FILE.yaml (anywhere")]
    rows = {line.split()[0]: line.split()[1:] for line in table.splitlines()[2:] if line.strip()}
    assert rows["--max_steps"][-4:] == [str(embedded.max_steps), "steps", str(int(paper.num_train_epochs)), "epochs"]
    for flag in ("learning_rate", "warmup_steps", "per_device_train_batch_size", "output_dir"):
        mine, theirs = rows[f"--{flag}"]
        assert (mine, theirs) == (str(getattr(embedded, flag)), str(getattr(paper, flag))), flag
    assert (embedded.per_device_train_batch_size, embedded.learning_rate, embedded.max_steps,
            embedded.output_dir) == (64, 2e-4, 400, "outputs/synthetic-ce-clip")
    flat = " ".join(text.split())
    assert (f"(default: {SYNTHETIC_DEFAULTS['learning_rate']} on the embedded default, {paper.learning_rate} with "
            "--model_name_or_path)") in flat
    assert "(default: 64 on the embedded default, 256 with --model_name_or_path)" in flat


def test_help_lists_the_librarys_flags_before_training_arguments():
    text = _help()
    text = text[text.index("\noptions:"):]  # the flags, after the description's table
    library = [text.index(f"\n  --{name} ") for name in ("model_name_or_path", "dataset_path", "caption_column",
                                                          "model_family", "imc_weight", "negative_types")]
    inherited = [text.index(f"\n  --{name} ") for name in ("learning_rate", "per_device_train_batch_size",
                                                            "output_dir", "seed")]
    assert max(library) < min(inherited)


@pytest.mark.parametrize("where", ["first", "middle", "last", "equals", "positional"])
def test_config_works_anywhere_on_the_line(tmp_path, where):
    config = tmp_path / "run.yaml"
    config.write_text("learning_rate: 1e-3\nmax_steps: 9\n")
    before, after = ["--model_name_or_path", "m"], ["--seed", "3"]
    argv = {"first": ["--config", str(config), *before, *after],
            "middle": [*before, "--config", str(config), *after],
            "last": [*before, *after, "--config", str(config)],
            "equals": [*before, f"--config={config}", *after],
            "positional": [str(config), *before, *after]}[where]
    args = train.parse(argv)[3]
    flags = train.parse([*before, "--learning_rate", "1e-3", "--max_steps", "9", *after])[3]
    assert args.to_dict() == flags.to_dict() and args.learning_rate == 1e-3 and args.seed == 3


def test_a_flag_after_the_config_overrides_it(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("max_steps: 9\n")
    assert train.parse(["--config", str(config), "--max_steps", "4"])[3].max_steps == 4
    assert train.parse(["--max_steps", "4", "--config", str(config)])[3].max_steps == 9


def test_config_without_a_file_is_a_clear_error():
    with pytest.raises(SystemExit, match="--config needs a file"):
        train.parse(["--model_name_or_path", "m", "--config"])


# Item 2: one flag convention -----------------------------------------------------------------------------

def _hyphenated(argv: list[str]) -> list[str]:
    return [arg.replace("_", "-") if arg.startswith("--") else arg for arg in argv]


def test_train_reads_both_spellings_equal_in_both_modes():
    for argv in (["--per_device_train_batch_size", "8", "--synthetic_seed", "2", "--base_max_steps", "5",
                  "--imc_weight", "0.5", "--negative_types", "swap_object", "replace_object"],
                 ["--model_name_or_path", "m", "--caption_column", "text", "--max_seq_length", "20",
                  "--benchmarks", "valse", "--benchmark_data_root", "d", "--output_dir", "o"]):
        underscores, hyphens = train.parse(argv), train.parse(_hyphenated(argv))
        assert underscores[:3] == hyphens[:3] and underscores[3].to_dict() == hyphens[3].to_dict()
    # a hyphenated flag is "given": the embedded default does not replace it with its own value
    assert train.parse(["--per-device-train-batch-size", "8"])[3].per_device_train_batch_size == 8
    assert train.parse(["--max-seq-length", "20"])[3].max_text_length == 20


def test_train_old_flag_names_still_work_and_warn():
    with pytest.warns(FutureWarning, match="--eval_benchmarks is deprecated.*--benchmarks"):
        old = train.parse(["--model_name_or_path", "m", "--eval-benchmarks", "valse"])[1]
    assert old == train.parse(["--model_name_or_path", "m", "--benchmarks", "valse"])[1]


def test_eval_command_reads_both_spellings_and_its_old_names():
    from hf_finegrained.evaluation.cli import parse_args

    argv = ["model", "--benchmarks", "valse", "--benchmark_data_root", "d", "--output_dir", "o", "--batch_size",
            "8", "--disable_tqdm"]
    assert parse_args(argv) == parse_args(_hyphenated(argv))
    with pytest.warns(FutureWarning) as warned:
        old = parse_args(["model", "--benchmarks", "valse", "--data-root", "d", "--output-dir", "o",
                          "--batch-size", "8", "--no-progress"])
    assert old == parse_args(argv)
    assert {re.search(r"--(\w+) is deprecated", str(w.message)).group(1) for w in warned} == {"data_root",
                                                                                           "no_progress"}


def test_interpolate_command_reads_both_spellings_and_its_old_names():
    from hf_finegrained.interpolation import parse_args

    argv = ["base", "tuned", "--alphas", "0,0.5", "--output_dir", "o", "--benchmarks", "valse",
            "--benchmark_data_root", "d", "--batch_size", "8", "--disable_tqdm"]
    assert parse_args(argv) == parse_args(_hyphenated(argv))
    with pytest.warns(FutureWarning, match="--output is deprecated"):
        old = parse_args(["base", "tuned", "--alphas", "0,0.5", "--output", "o", "--benchmarks", "valse",
                          "--data-root", "d", "--batch-size", "8", "--disable-tqdm"])
    assert old == parse_args(argv)


def test_build_command_reads_both_spellings_and_its_old_names():
    from hf_finegrained.builders.cli import parse_args

    argv = ["negatives", "--dataset_path", "d", "--caption_column", "text", "--output_dir", "o",
            "--negatives_seed", "3", "--disable_tqdm"]
    assert parse_args(argv) == parse_args(_hyphenated(argv))
    with pytest.warns(FutureWarning, match="deprecated"):
        old = parse_args(["negatives", "--data", "d", "--caption-column", "text", "--out", "o",
                          "--negatives-seed", "3", "--disable-tqdm"])
    assert old == parse_args(argv)


def test_ablation_reads_both_spellings_and_the_training_commands_names():
    from hf_finegrained.synthetic.ablation import parse

    argv = ["--variants", "plain,ce_clip", "--seeds", "0", "--base_max_steps", "7", "--per_device_train_batch_size",
            "16", "--synthetic_seed", "2", "--synthetic_distractors", "0", "--tradeoff_alphas", "0.5",
            "--output_dir", "o", "--disable_tqdm"]
    settings, args = parse(argv)
    assert parse(_hyphenated(argv)) == (settings, args)
    assert (settings.base_steps, settings.batch_size, settings.world_seed, settings.distractors,
            settings.alphas) == (7, 16, 2, 0.0, "0.5")
    with pytest.warns(FutureWarning) as warned:
        old = parse(["--variants", "plain,ce_clip", "--seeds", "0", "--base_steps", "7", "--batch_size", "16",
                     "--world_seed", "2", "--distractors", "0", "--alphas", "0.5", "--output_dir", "o",
                     "--disable-tqdm"])
    assert old == (settings, args) and len(warned) == 5


# Item 3: columns under other names -----------------------------------------------------------------------

@pytest.fixture
def renamed_dataset(tmp_path) -> Path:
    from helpers import make_dataset

    folder = tmp_path / "renamed"
    folder.mkdir()
    data = make_dataset(8, invalid_rate=0.0).rename_columns(
        {"caption": "text", "image": "picture", "hard_negatives": "negs"})
    data.to_parquet(str(folder / "train.parquet"))
    return folder


def _real_flags(tiny_clip_dir: str, data: Path, out: Path, *extra: str) -> list[str]:
    return ["--model_name_or_path", tiny_clip_dir, "--dataset_path", str(data), "--output_dir", str(out),
            "--max_steps", "2", "--per_device_train_batch_size", "4", "--save_strategy", "no",
            "--negative_types", *NEGATIVE_TYPES, "--logging_steps", "1", "--warmup_steps", "0", *extra]


def test_a_dataset_with_renamed_columns_trains(tiny_clip_dir, renamed_dataset, tmp_path, capfd):
    out = tmp_path / "run"
    train.main(_real_flags(tiny_clip_dir, renamed_dataset, out, "--caption_column", "text", "--image-column",
                           "picture", "--negatives_column", "negs"))
    assert (out / "model.safetensors").is_file()
    state = __import__("json").loads((out / "finegrained_state.json").read_text())
    assert state  # the loss state was written: the run trained with its negatives
    console = capfd.readouterr()
    assert not RAW_DICT.search(console.out + console.err), "raw log dicts on the console"


def test_a_renamed_column_that_is_absent_stops_before_training_naming_flag_and_columns(tiny_clip_dir,
                                                                                     renamed_dataset, tmp_path):
    with pytest.raises(SystemExit) as raised:
        train.main(_real_flags(tiny_clip_dir, renamed_dataset, tmp_path / "run", "--caption_column", "txt",
                               "--image_column", "picture", "--negatives_column", "negs"))
    message = str(raised.value)
    assert "'txt'" in message and "--caption_column" in message and "'text'" in message
    assert not (tmp_path / "run" / "model.safetensors").exists()


# Item 4: progress, no raw dicts --------------------------------------------------------------------------

def test_disable_tqdm_prints_readable_log_lines_not_dicts(tiny_clip_dir, renamed_dataset, tmp_path, capfd):
    train.main(_real_flags(tiny_clip_dir, renamed_dataset, tmp_path / "run", "--caption_column", "text",
                           "--image_column", "picture", "--negatives_column", "negs", "--disable_tqdm", "true"))
    console = capfd.readouterr()
    assert re.search(r"^step 1/2: loss [0-9.]+", console.out, flags=re.M), console.out[-2000:]
    assert not RAW_DICT.search(console.out + console.err)
    assert "it/s" not in console.err  # no bar


@pytest.mark.slow
def test_the_default_run_shows_bars_for_every_long_step_and_no_raw_dicts(tmp_path, capfd):
    """The embedded default on a tiny world (the same code path as the bare command): a named bar for the base's
    pre-training, the plain fine-tune, the CE-CLIP fine-tune, the scoring and the trade-off sweep."""
    train.main(["--output_dir", str(tmp_path / "run"), "--synthetic_test", "48", "--synthetic_probe_rows", "160",
                "--base_max_steps", "10", "--max_steps", "4", "--logging_steps", "2",
                "--per_device_train_batch_size", "16", "--base_cache_dir", str(tmp_path / "cache"),
                "--tradeoff_alphas", "0.5"])
    console = capfd.readouterr()
    for bar in ("pre-training the clip base", "plain fine-tune", "CE-CLIP fine-tune",
                "scoring on the synthetic world", "trade-off sweep"):
        assert bar in console.err, bar
    assert not RAW_DICT.search(console.out + console.err), "raw log dicts on the console"
    assert "| synthetic world, % | base | plain fine-tune | CE-CLIP |" in console.out


# Item 6: SigLIP is named wherever CLIP is ----------------------------------------------------------------

def test_siglip_is_named_in_every_text_that_names_clip():
    import contextlib
    import io

    from hf_finegrained.evaluation.cli import parse_args as eval_parse

    readme_opening = (ROOT / "README.md").read_text().split("\n\n")[1]
    description = re.search(r'description="(.*?)",\n', (ROOT / "setup.py").read_text(), flags=re.S).group(1)
    model_help = next(a.help for a in train.build_parser()._actions if a.dest == "model_name_or_path")
    eval_help = io.StringIO()
    with contextlib.redirect_stdout(eval_help), pytest.raises(SystemExit):
        eval_parse(["--help"])
    for text in (readme_opening, description, model_help, eval_help.getvalue()):
        assert "SigLIP" in " ".join(text.split()) and "SiglipModel" in text.replace('"\n', ""), text
