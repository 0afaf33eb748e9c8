"""Small CLIP models built from a config, with a BPE tokenizer trained on given texts.

Used by the embedded default run (nothing downloaded) and by the tests. The results load with plain
`CLIPModel.from_pretrained` / `CLIPProcessor.from_pretrained`.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from tokenizers import Regex
from transformers import CLIPConfig, CLIPModel, CLIPProcessor, CLIPTokenizer
from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

BOS, EOS = "<|startoftext|>", "<|endoftext|>"
# CLIP's own pre-tokenisation (words, single digits, punctuation runs), then byte-level symbols.
_CLIP_SPLIT = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


def train_clip_tokenizer(texts: Iterable[str], vocab_size: int = 1000, model_max_length: int = 77) -> CLIPTokenizer:
    """Trains a byte-level BPE with CLIP's pre-tokenisation and `</w>` word ends; returns a `CLIPTokenizer`.

    The start and end tokens get ids 0 and 1, so a `CLIPTextConfig` using them pools at the end token
    (an `eos_token_id` of 2 would select CLIP's legacy argmax pooling).
    """
    backend = Tokenizer(models.BPE(end_of_word_suffix="</w>", continuing_subword_prefix=""))
    backend.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_CLIP_SPLIT), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[BOS, EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        end_of_word_suffix="</w>",
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer=trainer)
    vocab = backend.get_vocab()
    # CLIP's vocabulary also holds each byte symbol as a word end ("a</w>"): add those still missing.
    for symbol in pre_tokenizers.ByteLevel.alphabet():
        vocab.setdefault(symbol + "</w>", len(vocab))
    merges = _merges(backend)
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=model_max_length)


def _merges(backend: Tokenizer) -> list[tuple[str, str]]:
    import json

    merges = json.loads(backend.to_str())["model"]["merges"]
    return [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in merges]


def build_clip_model(
    tokenizer: CLIPTokenizer,
    image_size: int = 32,
    patch_size: int = 8,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    projection_dim: int = 32,
    max_position_embeddings: int = 77,
    seed: int = 0,
) -> CLIPModel:
    """A randomly initialised `CLIPModel` sized by the arguments, with token ids taken from `tokenizer`."""
    import torch

    text = {
        "vocab_size": len(tokenizer),
        "hidden_size": hidden_size,
        "intermediate_size": 4 * hidden_size,
        "num_hidden_layers": num_layers,
        "num_attention_heads": num_heads,
        "max_position_embeddings": max_position_embeddings,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    vision = {
        "image_size": image_size,
        "patch_size": patch_size,
        "hidden_size": hidden_size,
        "intermediate_size": 4 * hidden_size,
        "num_hidden_layers": num_layers,
        "num_attention_heads": num_heads,
    }
    config = CLIPConfig(text_config=text, vision_config=vision, projection_dim=projection_dim)
    torch.manual_seed(seed)
    return CLIPModel(config)


def build_processor(tokenizer: CLIPTokenizer, image_size: int = 32) -> CLIPProcessor:
    """A `CLIPProcessor` with the PIL image backend (no torchvision) resizing to `image_size`."""
    image_processor = CLIPImageProcessorPil(
        size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size}
    )
    return CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer)
