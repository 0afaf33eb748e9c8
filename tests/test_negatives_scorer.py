"""The optional plausibility scorer: a masked LM (tiny, built from a config here) ranks a rule's candidates."""

from __future__ import annotations

import pytest

from hf_finegrained.negatives import CANDIDATES, HardNegativeGenerator, MaskedLMScorer, load_lexicon

CAPTIONS = ["A dog chasing a cat near a red car.", "A man riding a horse on a beach.",
            "A white cat sitting on a black chair near a table."]


@pytest.fixture(scope="module")
def tiny_mlm_dir(tmp_path_factory):
    """A 1-layer BERT masked LM and a word-level tokenizer whose vocabulary covers the captions and the lists."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import BertConfig, BertForMaskedLM, PreTrainedTokenizerFast

    lexicon = load_lexicon()
    words = {form for words in (lexicon.nouns, lexicon.adjectives, lexicon.relations, lexicon.verbs)
             for phrase in words.lookup for form in phrase.split()}
    words |= {word.strip(".,").lower() for caption in CAPTIONS for word in caption.split()}
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = {token: index for index, token in enumerate(special + sorted(words | {"."}))}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    from tokenizers import normalizers

    tokenizer.normalizer = normalizers.Lowercase()
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="[PAD]", unk_token="[UNK]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64)
    model = BertForMaskedLM(config)
    folder = tmp_path_factory.mktemp("tiny_mlm")
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return str(folder), vocab


def _prefer(folder: str, vocab: dict[str, int], word: str) -> MaskedLMScorer:
    """The tiny model loaded from its folder, its output bias raised for `word`: texts holding it score higher."""
    import torch

    scorer = MaskedLMScorer(folder, device="cpu")
    with torch.no_grad():
        scorer.model.get_output_embeddings().bias[vocab[word]] += 20.0
    return scorer


def test_the_scorer_is_a_mean_pseudo_log_likelihood(tiny_mlm_dir):
    folder, vocab = tiny_mlm_dir
    scorer = MaskedLMScorer(folder, device="cpu")
    scores = scorer(["a dog chasing a cat", "a dog chasing a cat", "a cat"])
    assert scores[0] == scores[1] and all(score < 0 for score in scores)
    preferring = _prefer(folder, vocab, "horse")
    assert preferring(["a dog chasing a horse"])[0] > preferring(["a dog chasing a goat"])[0]


def test_chosen_candidates_follow_the_scorer_and_the_seed(tiny_mlm_dir):
    folder, vocab = tiny_mlm_dir
    for word in ("camel", "elephant"):  # two preferences, two choices: the scorer decides
        generator = HardNegativeGenerator(seed=0, scorer=_prefer(folder, vocab, word), scorer_candidates=100)
        rows = generator.generate(CAPTIONS)
        article = "an" if word[0] in "aeiou" else "a"
        assert rows[1]["replace_object"] == f"A man riding {article} {word} on a beach.", rows[1]
        again = HardNegativeGenerator(seed=0, scorer=_prefer(folder, vocab, word), scorer_candidates=100,
                                      batch_size=1).generate(CAPTIONS)
        assert again == rows  # same seed, same scorer: same output, whatever the batching
    # only candidates of the rule are ever chosen
    generator = HardNegativeGenerator(seed=3, scorer=MaskedLMScorer(folder, device="cpu"), scorer_candidates=4)
    nlp = generator.nlp
    for caption, row in zip(CAPTIONS, generator.generate(CAPTIONS)):
        from hf_finegrained.negatives import parse_caption
        from hf_finegrained.negatives.rules import candidate_text

        parsed = parse_caption(nlp(caption), generator.lexicon, caption)
        for name, negative in row.items():
            allowed = {candidate_text(parsed, c) for c in CANDIDATES[name](parsed, generator.lexicon)}
            assert negative is None and not allowed - {None} or negative in allowed, (name, negative)


def test_without_a_scorer_nothing_changes(tiny_mlm_dir):
    plain = HardNegativeGenerator(seed=0).generate(CAPTIONS)
    assert HardNegativeGenerator(seed=0, scorer=None).generate(CAPTIONS) == plain
    with pytest.raises(ValueError, match="scorer_candidates"):
        HardNegativeGenerator(scorer_candidates=0)
    with pytest.raises(ValueError, match="masked LM|model_name_or_path"):
        MaskedLMScorer()


def test_the_build_command_takes_a_scorer(tiny_mlm_dir, tmp_path):
    import datasets
    from PIL import Image

    from hf_finegrained.builders.cli import main

    folder, vocab = tiny_mlm_dir
    images = [Image.new("RGB", (8, 8), (index * 40, 0, 0)) for index in range(len(CAPTIONS))]
    datasets.Dataset.from_dict({"image": images, "caption": CAPTIONS}).to_parquet(str(tmp_path / "in.parquet"))
    main(["negatives", "--dataset_path", str(tmp_path / "in.parquet"), "--output_dir", str(tmp_path / "out"),
          "--negatives_scorer", folder, "--scorer-candidates", "5"])
    built = datasets.load_dataset(str(tmp_path / "out"), cache_dir=str(tmp_path / "cache"))["train"]
    expected = HardNegativeGenerator(seed=0, scorer=MaskedLMScorer(folder, device="cpu"),
                                     scorer_candidates=5).generate(CAPTIONS)
    assert [dict(row) for row in built["hard_negatives"]] == expected
