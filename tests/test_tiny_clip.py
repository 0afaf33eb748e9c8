"""The small CLIP recipe's tokenizer: deterministic across processes, CLIP's conventions kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from hf_finegrained.synthetic.tiny_clip import train_clip_tokenizer

TEXTS = ["A red circle is to the left of a blue square.", "the large green triangle sits above a circle",
         "Two dogs, 3 cats and a bird!"] * 3
PROGRAM = (
    "import json, sys\n"
    "from hf_finegrained.synthetic.tiny_clip import train_clip_tokenizer\n"
    "tok = train_clip_tokenizer(json.loads(sys.argv[1]), vocab_size=560)\n"
    "print(json.dumps([sorted(tok.get_vocab().items()), tok('a red circle above a square')['input_ids']]))\n"
)


def test_same_texts_give_the_same_ids_in_every_process():
    # two interpreters with different string hashes (set and dict orders), started side by side
    processes = [subprocess.Popen([sys.executable, "-c", PROGRAM, json.dumps(TEXTS)], stdout=subprocess.PIPE,
                                  text=True, env={**os.environ, "PYTHONHASHSEED": hash_seed, "OMP_NUM_THREADS": "1"})
                 for hash_seed in ("1", "2")]
    outputs = [process.communicate(timeout=300)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0]
    assert outputs[0] and outputs[0] == outputs[1], "vocabulary ids or merges changed between processes"


def test_clip_conventions_and_whole_words_within_the_budget():
    tokenizer = train_clip_tokenizer(TEXTS, vocab_size=2000)
    assert tokenizer.bos_token_id == 0 and tokenizer.eos_token_id == 1
    ids = tokenizer("A red circle is to the LEFT of a blue square.")["input_ids"]
    assert tokenizer.convert_ids_to_tokens(ids)[1:-1] == [
        "a</w>", "red</w>", "circle</w>", "is</w>", "to</w>", "the</w>", "left</w>", "of</w>", "a</w>", "blue</w>",
        "square</w>", ".</w>"]
    assert all(chr(c) + "</w>" in tokenizer.get_vocab() for c in range(ord("a"), ord("z") + 1))
    small = train_clip_tokenizer(TEXTS, vocab_size=260)  # no room for merges: words split into bytes, none lost
    pieces = small.convert_ids_to_tokens(small("circle")["input_ids"])[1:-1]
    assert pieces == ["c", "i", "r", "c", "l", "e</w>"]
