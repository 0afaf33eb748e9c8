"""Score a CLIP, SigLIP or SigLIP 2 model (folder or Hub id) on the benchmarks under --benchmark_data_root.

    python examples/run_benchmarks.py openai/clip-vit-base-patch32 --benchmark_data_root data \
        --benchmarks sugarcrepe,valse --output_dir eval_results

Writes eval_results/results.json and eval_results/results.md; benchmarks whose files are absent are skipped
with a message naming what to download and where to put it (layout: docs/BENCHMARKS.md).
Same as the `hf-finegrained-eval` console command.
"""

from hf_finegrained.evaluation.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
