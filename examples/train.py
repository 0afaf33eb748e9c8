"""Fine-tune a CLIPModel, SiglipModel or Siglip2Model with the CE-CLIP loss: the `hf-finegrained-train` command.

    python examples/train.py                         # embedded default: CPU, minutes, nothing downloaded
    accelerate launch examples/train.py [--config config.yaml] [flags]
    hf-finegrained-train --help                      # the same command, installed by `pip install -e .`

Everything lives in `hf_finegrained.training_command` (flags, the two modes, their defaults: see --help); the
embedded default's run in `hf_finegrained.synthetic.default_run`.
"""

from hf_finegrained.training_command import main

if __name__ == "__main__":
    main()
