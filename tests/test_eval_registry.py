"""The benchmark registry: each benchmark module declares its own `BenchmarkSpec`; the runner's one list
registers every declared spec, in a fixed order and under fixed names (CLI choices and results keys)."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import hf_finegrained.evaluation as evaluation
from hf_finegrained.evaluation import BenchmarkSpec, runner
from hf_finegrained.evaluation.cli import main as eval_main

NAMES = [
    "sugarcrepe", "sugarcrepe_pp", "aro_vg_relation", "aro_vg_attribution", "aro_coco_order", "aro_flickr_order", "valse",
    "vl_checklist", "winoground", "whatsup", "crepe", "bivlc", "mmvp_vlm", "vismin", "eqben", "spec", "colorswap",
    "retrieval_coco", "retrieval_flickr", "zeroshot",
]
HUB_COPIES = {"bivlc", "vismin"}  # a local copy of a Hub dataset: one folder under the data root


def _declared() -> dict[str, list[tuple[str, BenchmarkSpec]]]:
    """Module name -> (attribute, spec) of every `BenchmarkSpec` held at module level in `evaluation/`."""
    out = {}
    for info in pkgutil.iter_modules(evaluation.__path__):
        module = importlib.import_module(f"{evaluation.__name__}.{info.name}")
        specs = [(k, v) for k, v in vars(module).items() if isinstance(v, BenchmarkSpec)]
        if specs:
            out[module.__name__] = specs
    return out


def test_names_and_order_are_fixed():
    assert list(runner.BENCHMARKS) == NAMES
    assert runner.benchmark_names(None) == runner.benchmark_names("all") == NAMES
    assert [spec.name for spec in runner.REGISTERED] == NAMES
    assert all(runner.BENCHMARKS[spec.name] is spec for spec in runner.REGISTERED)


def test_every_declared_spec_is_registered_and_declared_in_its_benchmark_module():
    declared = _declared()
    assert "hf_finegrained.evaluation.runner" not in declared  # the runner registers, it declares nothing
    found = [spec for specs in declared.values() for _, spec in specs]
    unregistered = [f"{module}.{attr}" for module, specs in declared.items() for attr, spec in specs
                    if not any(spec is registered for registered in runner.REGISTERED)]
    assert not unregistered, f"benchmark specs missing from runner.REGISTERED: {unregistered}"
    assert len(found) == len(runner.REGISTERED) == len(NAMES)
    for module, specs in declared.items():
        for _, spec in specs:  # how to run and check a benchmark lives in its own module
            assert spec.run.__module__ == module, (spec.name, spec.run.__module__)
            assert spec.check is None or spec.check.__module__ in {module, "hf_finegrained.evaluation.karpathy"}
    assert {m.rsplit(".", 1)[1] for m in declared} == {
        "sugarcrepe", "sugarcrepe_pp", "aro", "valse", "vl_checklist", "winoground", "retrieval", "zeroshot",
        "whatsup", "crepe", "bivlc", "mmvp", "vismin", "eqben", "spec_benchmark", "colorswap"}


def test_registration_is_one_line_per_benchmark():
    tree = ast.parse(Path(runner.__file__).read_text())
    (node,) = [n for n in tree.body if isinstance(n, ast.AnnAssign) and getattr(n.target, "id", "") == "REGISTERED"]
    assert all(isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name) for e in node.value.elts)
    lines = [e.lineno for e in node.value.elts]
    assert len(set(lines)) == len(lines) == len(NAMES)


def test_benchmark_modules_do_not_import_the_runner():
    for module in _declared():
        source = Path(importlib.import_module(module).__file__).read_text()
        imported = {n.module for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ImportFrom)}
        assert "runner" not in imported and ".runner" not in imported, module


def test_file_based_benchmarks_have_a_check_and_paths_under_the_data_root():
    for name, spec in runner.BENCHMARKS.items():
        if name == "zeroshot":  # a dataset id or folder, given by the user
            assert spec.check is None and list(spec.paths) == ["dataset"] and spec.paths["dataset"][0] == ""
            continue
        if name in HUB_COPIES:
            assert spec.check is not None and list(spec.paths) == ["dataset"] and spec.paths["dataset"][0] == name
            continue
        assert spec.check is not None and set(spec.paths) == {"annotations", "images"}, name
        assert all(default and what for default, what in spec.paths.values()), name


def test_karpathy_benchmarks_share_their_files(tmp_path):
    bench = runner.BENCHMARKS
    assert bench["aro_coco_order"].paths == bench["retrieval_coco"].paths
    assert bench["aro_flickr_order"].paths == bench["retrieval_flickr"].paths
    assert bench["retrieval_coco"].paths["annotations"][0] == "coco/coco_karpathy_test.json"
    assert bench["retrieval_flickr"].paths["images"][0] == "flickr30k"
    (tmp_path / "coco").mkdir()
    (tmp_path / "coco" / "coco_karpathy_test.json").write_text('[{"image": "val2014/a.jpg", "caption": ["x"]}]')
    status = runner.check_benchmarks(["aro_coco_order", "retrieval_coco", "retrieval_flickr"], str(tmp_path))
    assert status["aro_coco_order"] == status["retrieval_coco"] == ("ready", "")
    assert status["retrieval_flickr"][0] == "absent" and "flickr30k_test.json" in status["retrieval_flickr"][1]


def test_cli_lists_the_registered_names(capsys):
    with pytest.raises(SystemExit):
        eval_main(["--help"])
    assert ", ".join(NAMES) in " ".join(capsys.readouterr().out.split())
