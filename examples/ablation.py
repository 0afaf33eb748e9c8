"""The paper's ablation (Table 4, Figure 4) on the synthetic world, beside the plain fine-tune, on a CPU.

    python examples/ablation.py                    # the study: 7 variants x 3 seeds on the test splits (<= 60 min)
    python examples/ablation.py --eval_split validation --variants plain,ce_clip --seeds 0   # choosing settings
    python examples/ablation.py --quick            # a tiny world and a few steps: checks the pipeline (CI)

The study lives in `hf_finegrained.synthetic.ablation` (its --help lists the variants and flags).
"""

from hf_finegrained.synthetic.ablation import main

if __name__ == "__main__":
    main()
