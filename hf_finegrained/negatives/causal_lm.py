"""`CausalLMProposer`: negatives written by a causal language model from a few-shot prompt per type.

The field's route to coverage: DeGLA prompts Llama-3.1-8B-Instruct in context for its 2M negatives, CS-CLIP
uses Phi-3-mini. Here any `transformers.AutoModelForCausalLM` continues a plain-text prompt (an instruction, a
few worked examples, then the caption) and the first line it writes is the proposal. Every proposal then passes
the generator's gate (`proposals.judge_proposal`): the type's invariants, and under the strict profile the
filters. **Its quality was not measured here** (the Hub is unreachable where this was built; it is tested on a
tiny model built from a config). Measure it with the audit of docs/NEGATIVES.md on your own model.

Differences from DeGLA: a plain completion prompt (no chat template, so base and instruction models both work),
one proposal per request by greedy decoding unless `num_proposals` > 1, and every proposal gated by the rules'
invariants before use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .seeding import caption_seed

# Per type: the instruction and the worked examples (caption, negative) of its prompt.
DEFAULT_PROMPTS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "swap_object": (
        "Exchange the places of two objects of the caption. Keep every other word.",
        (("A dog chasing a cat on the grass.", "A cat chasing a dog on the grass."),
         ("A man handing a woman a cup.", "A woman handing a man a cup."))),
    "swap_attribute": (
        "Exchange the attributes of two objects of the caption. Keep every other word.",
        (("A white cat on a black chair.", "A black cat on a white chair."),
         ("A red car parked next to a blue truck.", "A blue car parked next to a red truck."))),
    "replace_object": (
        "Replace one object of the caption by another object of the same kind. Change nothing else.",
        (("A dog sleeping on a couch.", "A cat sleeping on a couch."),
         ("Two men riding bikes down a street.", "Two men riding horses down a street."))),
    "replace_attribute": (
        "Replace one attribute of the caption (a colour, material, size, pattern...) by a different one. "
        "Change nothing else.",
        (("A red bus driving down a street.", "A blue bus driving down a street."),
         ("A wooden table with a vase on it.", "A metal table with a vase on it."))),
    "replace_relation": (
        "Replace the relation or the action between two things of the caption by a different one. "
        "Change nothing else.",
        (("A cat sitting on a table.", "A cat sitting under a table."),
         ("A man riding a horse on the beach.", "A man leading a horse on the beach."))),
}


def build_prompt(caption: str, kind: str, prompts: Mapping[str, tuple[str, Sequence[tuple[str, str]]]]) -> str:
    """The few-shot prompt of one request: the type's instruction, its examples, then the caption."""
    if kind not in prompts:
        raise ValueError(f"no prompt for negative type {kind!r}; prompts cover {sorted(prompts)}")
    instruction, examples = prompts[kind]
    shots = "".join(f"Caption: {before}\nNegative: {after}\n\n" for before, after in examples)
    return f"{instruction}\n\n{shots}Caption: {caption.strip()}\nNegative:"


class CausalLMProposer:
    """Proposes negatives with a causal language model (`NegativeProposer`).

    Args:
        model_name_or_path: a Hub id or a local folder holding the model and its tokenizer (e.g.
            "microsoft/Phi-3-mini-4k-instruct").
        device: where to run it (default: CUDA when available, else CPU); any torch device string.
        dtype: the torch dtype to load in (e.g. "bfloat16"; default: the checkpoint's).
        batch_size: prompts per `generate` call (padded on the left).
        max_new_tokens: tokens written per proposal at most (the first line is kept).
        num_proposals: proposals per request: 1 (default) decodes greedily; more sample with `temperature` and
            `top_p`, seeded from `seed` and the batch's prompts (so a proposal depends on the requests it is
            batched with: same requests, same order, same output).
        prompts: {type: (instruction, [(caption, negative), ...])} to replace `DEFAULT_PROMPTS` (some or all).
        model, tokenizer: already loaded objects, instead of `model_name_or_path`.

    Example:
        >>> proposer = CausalLMProposer("microsoft/Phi-3-mini-4k-instruct", dtype="bfloat16")  # doctest: +SKIP
        >>> HardNegativeGenerator(proposer=proposer).generate(["A man riding a horse."])  # doctest: +SKIP
    """

    def __init__(self, model_name_or_path: str | None = None, device: str | None = None,
                 dtype: str | None = None, batch_size: int = 16, max_new_tokens: int = 48,
                 num_proposals: int = 1, temperature: float = 0.7, top_p: float = 0.95, seed: int = 0,
                 prompts: Mapping[str, tuple[str, Sequence[tuple[str, str]]]] | None = None,
                 model: Any = None, tokenizer: Any = None) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if batch_size < 1 or max_new_tokens < 1 or num_proposals < 1:
            raise ValueError(f"batch_size, max_new_tokens and num_proposals must be >= 1; got {batch_size}, "
                             f"{max_new_tokens}, {num_proposals}")
        if model is None or tokenizer is None:
            if model_name_or_path is None:
                raise ValueError("CausalLMProposer needs model_name_or_path, or both model and tokenizer")
            tokenizer = tokenizer or AutoTokenizer.from_pretrained(model_name_or_path)
            options = {} if dtype is None else {"dtype": getattr(torch, dtype)}
            model = model or AutoModelForCausalLM.from_pretrained(model_name_or_path, **options)
        if tokenizer.pad_token_id is None:
            if tokenizer.eos_token_id is None:
                raise ValueError(f"{model_name_or_path or type(tokenizer).__name__}: the tokenizer has neither a "
                                 "pad nor an end-of-text token; set tokenizer.pad_token")
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "left"  # a decoder continues the last token of each row
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.num_proposals = num_proposals
        self.temperature = temperature
        self.top_p = top_p
        self.seed = int(seed)
        self.prompts = {**DEFAULT_PROMPTS, **(prompts or {})}
        self.name = model_name_or_path or type(model).__name__

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("CausalLMProposer holds a model and is not pickled: use it with num_proc=None "
                        "(one process)")

    def __call__(self, requests: Sequence[tuple[str, str]]) -> list[list[str]]:
        """One list of `num_proposals` proposals (first lines of the continuations) per (caption, type)."""
        import torch

        prompts = [build_prompt(caption, kind, self.prompts) for caption, kind in requests]
        found: list[list[str]] = []
        for start in range(0, len(prompts), self.batch_size):
            chunk = prompts[start:start + self.batch_size]
            inputs = self.tokenizer(chunk, return_tensors="pt", padding=True).to(self.device)
            options: dict[str, Any] = {"max_new_tokens": self.max_new_tokens,
                                       "pad_token_id": self.tokenizer.pad_token_id,
                                       "num_return_sequences": self.num_proposals}
            if self.num_proposals > 1:
                options.update(do_sample=True, temperature=self.temperature, top_p=self.top_p)
            else:
                options.update(do_sample=False)
            devices = [self.device] if self.device.type == "cuda" else []
            with torch.no_grad(), torch.random.fork_rng(devices=devices):
                torch.manual_seed(caption_seed(self.seed, "proposer", "\n\n".join(chunk)) % 2**63)
                output = self.model.generate(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"],
                                             **options)
            written = output[:, inputs["input_ids"].shape[1]:]
            texts = self.tokenizer.batch_decode(written, skip_special_tokens=True)
            lines = [text.strip().split("\n")[0].strip() for text in texts]
            found += [lines[i:i + self.num_proposals] for i in range(0, len(lines), self.num_proposals)]
        return found
