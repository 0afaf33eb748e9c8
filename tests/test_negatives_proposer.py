"""A model that proposes negatives: the gate (type invariants, profile filters), its counts, and `CausalLMProposer`
on a tiny causal LM built from a config."""

from __future__ import annotations

import pytest

from hf_finegrained.negatives import REJECTION_REASONS, CausalLMProposer, HardNegativeGenerator, MaskedLMScorer
from hf_finegrained.negatives.causal_lm import build_prompt

CAPTION = "a dog chasing a cat"
NEGATED = "a man with no hat on a bench"
# (proposal, reason under strict, reason under permissive); None: accepted
PROPOSALS = {
    "swap_object": [
        ("", "malformed", "malformed"),
        ("a cat chasing\na dog", "malformed", "malformed"),
        ("A dog chasing a cat!", "same_text", "same_text"),
        ("a cat chasing a big dog", "not_minimal", "not_minimal"),
        ("a chasing dog a cat", "wrong_kind", "wrong_kind"),
        ("a cat chasing a dog", None, None),  # the strict rules make this edit
    ],
    "replace_object": [
        ("a dog chasing a ferret", "filtered", None),  # an unlisted noun: outside the strict lists
        ("a wolf chasing a mouse", "not_minimal", "not_minimal"),  # two runs changed
        ("a dog chasing a small cat", "not_minimal", "not_minimal"),  # words only added
        ("a dog chasing the cat", "wrong_kind", "wrong_kind"),
        ("a dog watching a cat", "wrong_kind", "wrong_kind"),
    ],
    "replace_relation": [
        ("a dog biting a cat", "filtered", None),  # not a listed verb of its frame
    ],
}
TYPES = list(PROPOSALS)


class Stub:
    """Returns the fixed proposals of each type, for every caption; records the requests."""

    def __init__(self, proposals: dict[str, list[str]]) -> None:
        self.proposals = proposals
        self.requests: list[tuple[str, str]] = []

    def __call__(self, requests):
        self.requests += list(requests)
        return [list(self.proposals.get(kind, [])) for _, kind in requests]


@pytest.fixture(scope="module")
def nlp():
    return HardNegativeGenerator().nlp


@pytest.mark.parametrize("profile", ["strict", "permissive"])
def test_the_gate_and_its_counts_are_exact(nlp, profile):
    stub = Stub({name: [text for text, _, _ in rows] for name, rows in PROPOSALS.items()})
    generator = HardNegativeGenerator(types=TYPES, proposer=stub, profile=profile, nlp=nlp)
    row = generator.generate([CAPTION, CAPTION])[0]  # a repeated caption is asked once
    assert stub.requests == [(CAPTION, name) for name in TYPES]
    column = 1 if profile == "strict" else 2
    counts = generator.stats.as_dict(TYPES)["proposals"]
    for name, rows in PROPOSALS.items():
        reasons = [entry[column] for entry in rows]
        expected = {reason: reasons.count(reason) for reason in REJECTION_REASONS}
        assert counts[name] == {"proposed": len(rows), "accepted": reasons.count(None),
                                "used": int(None in reasons), "rejected": expected}, name
        first = next((text for text, *verdict in rows if verdict[column - 1] is None), None)
        if first is not None:
            assert row[name] == first, name
    # where nothing was accepted, the rules' own draw is kept
    rules = HardNegativeGenerator(types=TYPES, profile=profile, nlp=nlp).generate_one(CAPTION)
    assert all(row[name] == rules[name] for name in TYPES if counts[name]["used"] == 0)


def test_a_negated_phrase_is_protected_under_strict_only(nlp):
    stub = Stub({"replace_object": ["a man with no cap on a bench"]})
    for profile, reason in (("strict", "protected"), ("permissive", None)):
        generator = HardNegativeGenerator(types=["replace_object"], proposer=stub, profile=profile, nlp=nlp)
        row = generator.generate_one(NEGATED)
        rejected = generator.stats.proposals.rejected.get("replace_object", {})
        if reason is None:
            assert row["replace_object"] == "a man with no cap on a bench" and not sum(rejected.values())
        else:
            assert rejected[reason] == 1 and row["replace_object"] != "a man with no cap on a bench"


def test_without_fallback_an_unaccepted_type_is_none(nlp):
    generator = HardNegativeGenerator(types=["swap_object"], proposer=Stub({"swap_object": ["a dog"]}),
                                      fallback_to_rules=False, nlp=nlp)
    assert generator.generate_one(CAPTION) == {"swap_object": None}
    assert HardNegativeGenerator(types=["swap_object"], nlp=nlp).generate_one(CAPTION)["swap_object"] is not None


def test_bad_proposers_are_refused(nlp):
    with pytest.raises(ValueError, match="not both"):
        HardNegativeGenerator(proposer=Stub({}), scorer=lambda texts: [0.0] * len(texts))
    with pytest.raises(TypeError, match="callable"):
        HardNegativeGenerator(proposer="gpt2")
    generator = HardNegativeGenerator(types=["swap_object"], proposer=lambda requests: [], nlp=nlp)
    with pytest.raises(ValueError, match="one list of proposals per"):
        generator.generate_one(CAPTION)
    assert MaskedLMScorer  # the scorer stays importable beside the proposer


def test_the_world_default_has_no_proposer():
    generator = HardNegativeGenerator()
    assert generator.proposer is None and generator.profile == "strict"
    assert "proposals" not in generator.stats.as_dict(generator.types)


# -- CausalLMProposer on a tiny GPT-2 built from a config --------------------------------------------------------

PROMPTS = {"swap_object": ("swap", [("a cup on a plate", "a plate on a cup")]),
           "replace_object": ("replace", [("a cup on a plate", "a bowl on a plate")])}
TAUGHT = {("a dog chasing a cat", "swap_object"): "a cat chasing a dog",
          ("a dog chasing a cat", "replace_object"): "a dog chasing a ferret"}


@pytest.fixture(scope="module")
def tiny_lm():
    """A 1-layer GPT-2 and a word-level tokenizer, taught the two answers of TAUGHT after their prompts."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    texts = [build_prompt(caption, kind, PROMPTS) + " " + answer for (caption, kind), answer in TAUGHT.items()]
    words = sorted({word for text in texts for word in text.replace(":", " : ").split()})
    vocab = {token: index for index, token in enumerate(["<pad>", "<unk>", "</s>"] + words)}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", unk_token="<unk>",
                                   eos_token="</s>")
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(vocab), n_positions=64, n_embd=32, n_layer=1, n_head=2,
                                       eos_token_id=vocab["</s>"], bos_token_id=vocab["</s>"]))
    batch = [fast(text)["input_ids"] + [vocab["</s>"]] for text in texts]
    width = max(map(len, batch))
    ids = torch.tensor([row + [vocab["<pad>"]] * (width - len(row)) for row in batch])
    labels = ids.masked_fill(ids == vocab["<pad>"], -100)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(120):
        optimizer.zero_grad()
        model(input_ids=ids, labels=labels).loss.backward()
        optimizer.step()
    return model.eval(), fast


def test_the_prompt_holds_the_examples_then_the_caption():
    prompt = build_prompt(" a dog ", "swap_object", PROMPTS)
    assert prompt == "swap\n\nCaption: a cup on a plate\nNegative: a plate on a cup\n\nCaption: a dog\nNegative:"
    with pytest.raises(ValueError, match="no prompt for negative type"):
        build_prompt("a dog", "replace_relation", PROMPTS)


def test_a_causal_lm_proposes_and_the_gate_judges(tiny_lm, nlp):
    model, tokenizer = tiny_lm
    proposer = CausalLMProposer(model=model, tokenizer=tokenizer, prompts=PROMPTS, device="cpu", batch_size=1,
                                max_new_tokens=8)
    requests = list(TAUGHT)
    assert proposer(requests) == [[answer] for answer in TAUGHT.values()]
    requests.append(("a big dog chasing a cat", "swap_object"))  # a longer prompt: the others are padded
    batched = CausalLMProposer(model=model, tokenizer=tokenizer, prompts=PROMPTS, device="cpu", batch_size=2,
                               max_new_tokens=8)
    assert batched(requests) == proposer(requests)  # left padding: a batch gives the same proposals
    for profile, kept in (("strict", False), ("permissive", True)):
        generator = HardNegativeGenerator(types=["swap_object", "replace_object"], proposer=batched,
                                          profile=profile, nlp=nlp)
        row = generator.generate_one("a dog chasing a cat")
        counts = generator.stats.as_dict(generator.types)["proposals"]
        assert row["swap_object"] == "a cat chasing a dog" and counts["swap_object"]["used"] == 1
        assert (row["replace_object"] == "a dog chasing a ferret") is kept
        assert counts["replace_object"]["rejected"]["filtered"] == (0 if kept else 1)


def test_sampled_proposals_are_seeded(tiny_lm):
    model, tokenizer = tiny_lm
    made = [CausalLMProposer(model=model, tokenizer=tokenizer, prompts=PROMPTS, device="cpu", num_proposals=3,
                             temperature=5.0, max_new_tokens=4, seed=seed)(list(TAUGHT)) for seed in (0, 0, 1)]
    assert all(len(proposals) == 3 for proposals in made[0])
    assert made[0] == made[1] and made[0] != made[2]
    with pytest.raises(ValueError, match="needs model_name_or_path"):
        CausalLMProposer()
