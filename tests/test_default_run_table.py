"""The README's default-run table can be checked by a user: it is the committed run's table, that run's base was
made from the data today's code makes, and command 1 installs the versions it was made with (issue 25)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hf_finegrained.synthetic.recipe import BaseModelSettings, base_cache_key, comparison_table, default_world

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "model_cards" / "synthetic-ce-clip" / "results.json"
MODELS = ("base", "plain_finetune", "ce_clip")


def _committed() -> dict:
    return json.loads(RESULTS.read_text())


def _readme_table() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("### What the default run prints", 1)[1]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    start = next(i for i, line in enumerate(lines) if line.startswith("| synthetic world, %"))
    table = []
    for line in lines[start:]:
        if table and not line.startswith("|"):
            break
        table.append(line)
        if line.startswith("| retrieval text->image"):
            break
    return "\n".join(table)


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def test_readme_table_is_the_committed_runs_table():
    results = _committed()
    assert _readme_table() == comparison_table({key: results[key] for key in MODELS}), (
        "README.md's default-run table is not the one in model_cards/synthetic-ce-clip/results.json: copy the "
        "table that `python examples/train.py` prints into the README (and commit its results.json)."
    )


def test_committed_run_was_trained_on_the_base_data_todays_code_makes():
    """The base is cached by a key holding fingerprints of its data (the tokenizer's texts, which include spaCy
    negatives, and the first rows of its stream). If today's code makes other data, a fresh machine trains
    another base and prints another table than the README's."""
    recorded = _committed()["base_cache_key"]
    world = default_world(seed=recorded["world"]["seed"], negative_types=tuple(recorded["world"]["negative_types"]))
    now = json.loads(json.dumps(base_cache_key(world, BaseModelSettings()), sort_keys=True))
    for part in ("world", "base", "data"):
        assert now[part] == recorded[part], (
            f"The base of the README's table was made from other {part!r} than today's code makes "
            f"({recorded[part]} then, {now[part]} now): re-run `python examples/train.py` from an empty cache and "
            "update the README's table, model_cards/synthetic-ce-clip/ and docs/RESULTS.md."
        )


def test_command_1_installs_the_versions_the_committed_run_was_made_with():
    pins = _pins()
    for name, version in _committed()["base_cache_key"]["versions"].items():
        pinned = pins.get("pillow" if name == "PIL" else name.lower())
        assert pinned is not None and version.split("+")[0] == pinned, (
            f"constraints.txt pins {name} {pinned}, the README's run was made with {version}")
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    main = [block for block in blocks if "hf-finegrained-train" in block and "torch==2.13.0" in block]
    assert main and "-c constraints.txt" in main[0], "command 1 must install with the constraints file"

