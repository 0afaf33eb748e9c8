"""Small dual encoders (CLIP, SigLIP, SigLIP 2) built from a config, with a BPE tokenizer trained on given texts.

Used by the embedded default run (nothing downloaded) and by the tests. The results load with plain
`AutoModel.from_pretrained` / `AutoProcessor.from_pretrained` (`CLIPModel`, `SiglipModel`, `Siglip2Model`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from tokenizers import normalizers, pre_tokenizers
from tokenizers import Regex
from transformers import CLIPConfig, CLIPModel, CLIPProcessor, CLIPTokenizer
from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

if TYPE_CHECKING:
    import torch
    from transformers import ProcessorMixin

BOS, EOS = "<|startoftext|>", "<|endoftext|>"
# CLIP's own pre-tokenisation (words, single digits, punctuation runs), then byte-level symbols.
_CLIP_SPLIT = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


def train_clip_tokenizer(texts: Iterable[str], vocab_size: int = 1000, model_max_length: int = 77) -> CLIPTokenizer:
    """Trains a byte-level BPE with CLIP's pre-tokenisation and `</w>` word ends; returns a `CLIPTokenizer`.

    Deterministic: the same texts give the same vocabulary ids and merges in every process (the
    `tokenizers` BPE trainer does not: its alphabet order, hence its ids and tie-breaks, vary from run to
    run, and so would every model built on it). Merges take the most frequent adjacent pair, ties going to
    the smallest pair, until `vocab_size` entries (special tokens, the 256 byte symbols, the word-end
    symbols seen in `texts`, merges) or until every word is one token. The start and end tokens get ids 0
    and 1, so a `CLIPTextConfig` using them pools at the end token (an `eos_token_id` of 2 would select
    CLIP's legacy argmax pooling). Every byte symbol also exists as a word end ("a</w>"), as in CLIP.
    """
    normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_CLIP_SPLIT), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    words: Counter[tuple[str, ...]] = Counter()
    for text in texts:
        for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text)):
            if word not in (BOS, EOS):
                words[tuple(word[:-1]) + (word[-1] + "</w>",)] += 1
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    seen_ends = {word[-1] for word in words}
    merges = _learn_merges(words, vocab_size - 2 - len(alphabet) - len(seen_ends))
    vocab: dict[str, int] = {}
    for token in [BOS, EOS, *alphabet, *(symbol + "</w>" for symbol in alphabet), *(a + b for a, b in merges)]:
        vocab.setdefault(token, len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=model_max_length)


def _learn_merges(words: Counter[tuple[str, ...]], budget: int) -> list[tuple[str, str]]:
    """Up to `budget` BPE merges over `words` (symbol tuple -> count): most frequent pair, then smallest."""
    merges: list[tuple[str, str]] = []
    while len(merges) < budget:
        pairs: Counter[tuple[str, str]] = Counter()
        for word, count in words.items():
            for pair in zip(word, word[1:]):
                pairs[pair] += count
        if not pairs:
            break
        best = min(pairs, key=lambda pair: (-pairs[pair], pair))
        merges.append(best)
        words = Counter({_apply_merge(word, best): count for word, count in words.items()})
    return merges


def _apply_merge(word: tuple[str, ...], pair: tuple[str, str]) -> tuple[str, ...]:
    out: list[str] = []
    i = 0
    while i < len(word):
        if i + 1 < len(word) and (word[i], word[i + 1]) == pair:
            out.append(word[i] + word[i + 1])
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


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
    sincos_positions: float = 0.0,
    logit_scale: float | None = None,
) -> CLIPModel:
    """A randomly initialised `CLIPModel` sized by the arguments, with token ids taken from `tokenizer`.

    `logit_scale`: the initial temperature scale (exponentiated; None: CLIP's 1 / 0.07). `sincos_positions`: the
    image position embeddings start as this multiple of a 2-D sine-cosine table (0: CLIP's random ones)."""
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
    scale = {} if logit_scale is None else {"logit_scale_init_value": math.log(logit_scale)}
    config = CLIPConfig(text_config=text, vision_config=vision, projection_dim=projection_dim, **scale)
    torch.manual_seed(seed)
    model = CLIPModel(config)
    if sincos_positions:
        embeddings = model.vision_model.embeddings
        grid = image_size // patch_size
        with torch.no_grad():
            table = sincos_position_table(grid, hidden_size)
            embeddings.position_embedding.weight[1:] = table * sincos_positions
            embeddings.position_embedding.weight[0] = 0.0
    return model


def sincos_position_table(grid: int, dim: int) -> "torch.Tensor":
    """(grid * grid, dim) 2-D sine-cosine position codes (half the channels for rows, half for columns), as
    in MAE's ViT; row-major over the patch grid, the order of CLIP's patch tokens."""
    import torch

    quarter = dim // 4
    frequencies = 1.0 / (10000 ** (torch.arange(quarter, dtype=torch.float64) / quarter))
    ys, xs = torch.meshgrid(torch.arange(grid, dtype=torch.float64), torch.arange(grid, dtype=torch.float64),
                            indexing="ij")
    parts = []
    for coordinate in (ys.reshape(-1), xs.reshape(-1)):
        angles = coordinate[:, None] * frequencies[None, :]
        parts += [angles.sin(), angles.cos()]
    table = torch.cat(parts, dim=1)
    return torch.nn.functional.pad(table, (0, dim - table.shape[1])).float()


def build_processor(tokenizer: CLIPTokenizer, image_size: int = 32) -> CLIPProcessor:
    """A `CLIPProcessor` with the PIL image backend (no torchvision) resizing to `image_size`."""
    image_processor = CLIPImageProcessorPil(
        size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size}
    )
    return CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer)


def build_siglip_model(
    tokenizer: CLIPTokenizer,
    image_size: int = 32,
    patch_size: int = 8,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    max_position_embeddings: int = 64,
    seed: int = 0,
    sincos_positions: float = 0.0,
    version: int = 1,
) -> "torch.nn.Module":
    """A randomly initialised `SiglipModel` (version 1) or `Siglip2Model` (2) of the same sizes as
    `build_clip_model` (SigLIP has no projection: the embeddings have `hidden_size` dimensions), with token
    ids from `tokenizer` and SigLIP's initial scale and bias (log 10 and -10). SigLIP 2's vision tower reads
    up to (image_size / patch_size)^2 patches of its NaFlex image processor."""
    import torch
    from transformers import Siglip2Config, Siglip2Model, SiglipConfig, SiglipModel

    text = {
        "vocab_size": len(tokenizer), "hidden_size": hidden_size, "intermediate_size": 4 * hidden_size,
        "num_hidden_layers": num_layers, "num_attention_heads": num_heads,
        "max_position_embeddings": max_position_embeddings, "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id, "pad_token_id": tokenizer.pad_token_id,
    }
    vision = {"patch_size": patch_size, "hidden_size": hidden_size, "intermediate_size": 4 * hidden_size,
              "num_hidden_layers": num_layers, "num_attention_heads": num_heads}
    grid = image_size // patch_size
    if version == 1:
        config = SiglipConfig(text_config=text, vision_config={**vision, "image_size": image_size})
        model_class = SiglipModel
    elif version == 2:
        config = Siglip2Config(text_config=text, vision_config={**vision, "num_patches": grid * grid})
        model_class = Siglip2Model
    else:
        raise ValueError(f"version must be 1 (SigLIP) or 2 (SigLIP 2), got {version}")
    torch.manual_seed(seed)
    model = model_class(config)
    with torch.no_grad():
        model.logit_scale.fill_(math.log(10.0))  # SigLIP's initialisation (t' = log 10, b = -10)
        model.logit_bias.fill_(-10.0)
        if sincos_positions:
            model.vision_model.embeddings.position_embedding.weight[:] = (
                sincos_position_table(grid, hidden_size) * sincos_positions)
    return model


def build_siglip_processor(tokenizer: CLIPTokenizer, image_size: int = 32, version: int = 1,
                           patch_size: int = 8, max_length: int = 64) -> "ProcessorMixin":
    """A `SiglipProcessor` (PIL backend, square resize to `image_size`) or `Siglip2Processor` (NaFlex, up to
    (image_size / patch_size)^2 patches) around `tokenizer`, whose `model_max_length` becomes `max_length`."""
    from transformers import Siglip2Processor, SiglipProcessor
    from transformers.models.siglip.image_processing_pil_siglip import SiglipImageProcessorPil
    from transformers.models.siglip2.image_processing_pil_siglip2 import Siglip2ImageProcessorPil

    tokenizer.model_max_length = max_length
    if version == 1:
        return SiglipProcessor(image_processor=SiglipImageProcessorPil(size={"height": image_size, "width": image_size}),
                               tokenizer=tokenizer)
    image_processor = Siglip2ImageProcessorPil(patch_size=patch_size, max_num_patches=(image_size // patch_size) ** 2)
    return Siglip2Processor(image_processor=image_processor, tokenizer=tokenizer)
