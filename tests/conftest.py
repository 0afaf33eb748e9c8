import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("WANDB_DISABLED", "true")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory) -> str:
    """A tiny CLIPModel + CLIPProcessor (tokenizer trained here) saved to a folder, as a Hub id would be."""
    from helpers import all_captions

    from hf_finegrained.synthetic.tiny_clip import build_clip_model, build_processor, train_clip_tokenizer

    folder = tmp_path_factory.mktemp("tiny_clip")
    tokenizer = train_clip_tokenizer(all_captions() * 4, vocab_size=300)
    build_clip_model(tokenizer, image_size=32, patch_size=8, hidden_size=32, num_layers=2, num_heads=2,
                     projection_dim=16).save_pretrained(folder)
    build_processor(tokenizer, image_size=32).save_pretrained(folder)
    return str(folder)
