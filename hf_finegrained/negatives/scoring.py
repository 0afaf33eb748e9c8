"""Plausibility scorers: optional judges that pick among a rule's candidate negatives.

A scorer is any callable taking a list of captions and returning one float per caption, higher meaning more
plausible English (`NegativeScorer`). `HardNegativeGenerator(scorer=...)` draws up to `scorer_candidates`
candidates per (caption, type) from the caption's own random stream and keeps the one the scorer rates highest
(the first drawn on a tie), so the output stays a function of (seed, type, caption) and the scorer.

`MaskedLMScorer` is the pseudo-log-likelihood of Salazar et al. (2020, "Masked Language Model Scoring"): each
token masked in turn, the log-probability the model gives back to the true token, averaged over the caption's
tokens (averaged, so that a replacement split into more word pieces is not penalised for its length). The
CE-CLIP reference used `distilroberta-base` to *propose* words (fill-mask); here a masked LM only *ranks* the
rule-made candidates, which keeps every filter of `filters/` in force. Its effect on negative quality has not
been measured: the Hub is unreachable where this was built, and the audit of docs/NEGATIVES.md is rules-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class NegativeScorer(Protocol):
    def __call__(self, texts: Sequence[str]) -> Sequence[float]: ...


class MaskedLMScorer:
    """Mean pseudo-log-likelihood of each text under a masked language model (any `AutoModelForMaskedLM`).

    Args:
        model_name_or_path: a Hub id or a local folder holding the model and its tokenizer
            (e.g. "distilroberta-base").
        device: where to run it (default: CUDA when available, else CPU).
        batch_size: masked copies per forward pass (a caption of n tokens makes n copies).
        model, tokenizer: already loaded objects, instead of `model_name_or_path`.

    Example:
        >>> scorer = MaskedLMScorer("distilroberta-base")  # doctest: +SKIP
        >>> scorer(["a dog on a sofa", "a sofa on a dog"])  # doctest: +SKIP
        [-2.1, -3.4]
    """

    def __init__(self, model_name_or_path: str | None = None, device: str | None = None, batch_size: int = 64,
                 model: Any = None, tokenizer: Any = None) -> None:
        import torch
        from transformers import AutoModelForMaskedLM, AutoTokenizer

        if model is None or tokenizer is None:
            if model_name_or_path is None:
                raise ValueError("MaskedLMScorer needs model_name_or_path, or both model and tokenizer")
            tokenizer = tokenizer or AutoTokenizer.from_pretrained(model_name_or_path)
            model = model or AutoModelForMaskedLM.from_pretrained(model_name_or_path)
        if tokenizer.mask_token_id is None:
            raise ValueError(f"{model_name_or_path or type(tokenizer).__name__} has no mask token: not a masked LM")
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.name = model_name_or_path or type(model).__name__

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("MaskedLMScorer holds a model and is not pickled: use it with num_proc=None "
                        "(one process), or build one per worker")

    def __call__(self, texts: Sequence[str]) -> list[float]:
        import torch

        rows: list[tuple[int, list[int], int]] = []  # (text index, token ids, masked position)
        counts = [0] * len(texts)
        special = set(self.tokenizer.all_special_ids)
        for index, text in enumerate(texts):
            ids = self.tokenizer(text, truncation=True)["input_ids"]
            for position, token in enumerate(ids):
                if token not in special:
                    rows.append((index, ids, position))
                    counts[index] += 1
        totals = [0.0] * len(texts)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        with torch.no_grad():
            for start in range(0, len(rows), self.batch_size):
                chunk = rows[start:start + self.batch_size]
                width = max(len(ids) for _, ids, _ in chunk)
                input_ids = torch.full((len(chunk), width), pad, dtype=torch.long)
                attention = torch.zeros((len(chunk), width), dtype=torch.long)
                for row, (_, ids, position) in enumerate(chunk):
                    input_ids[row, :len(ids)] = torch.tensor(ids)
                    attention[row, :len(ids)] = 1
                    input_ids[row, position] = self.tokenizer.mask_token_id
                logits = self.model(input_ids=input_ids.to(self.device),
                                    attention_mask=attention.to(self.device)).logits.float()
                rows_index = torch.arange(len(chunk))
                positions = torch.tensor([position for _, _, position in chunk])
                truth = torch.tensor([ids[position] for _, ids, position in chunk])
                log_probs = logits[rows_index, positions.to(logits.device)].log_softmax(-1)
                picked = log_probs[rows_index, truth.to(logits.device)].cpu()
                for (index, _, _), value in zip(chunk, picked.tolist()):
                    totals[index] += value
        return [total / count if count else float("-inf") for total, count in zip(totals, counts)]
