#!/usr/bin/env python3
"""Writes tokenizers that fit the tiny fixture models (tests/data/models/hf-gpt2-tiny: 64 ids,
32 positions; hf-bert-tiny: 60 ids, 24 positions), so the GUI and its tests can type text into
them. The fixture folders themselves hold no tokenizer (their weights are random).

Run from anywhere with the system interpreter (no third-party modules):
    /usr/bin/python3 tests/data/tokenizers/make_fixture_tokenizers.py

gpt2-tiny-64: byte-level BPE over a reduced byte alphabet (space, a-z, some punctuation, line
feed); any other byte maps to <|endoftext|>, the unknown token (id 63, the model's bos/eos).
bert-tiny-60: WordPiece, lower-cased, with [PAD]=0 (the model's pad_token_id).
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

from make_tiny_tokenizers import bert_tokenizer_json, write  # noqa: E402 (same folder)


# GPT-2's bytes_to_unicode maps the space to "Ġ" and the line feed to "Ċ"; printable ASCII
# keeps its own character.
GPT2_ALPHABET = ["Ġ", "Ċ"] + [chr(c) for c in range(ord("a"), ord("z") + 1)] + [".", ",", "!", "?", "'"]
GPT2_MERGES = [
    ("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("a", "t"), ("Ġ", "c"), ("Ġc", "at"), ("Ġ", "s"), ("Ġs", "at"),
    ("o", "n"), ("Ġ", "on"), ("Ġ", "m"), ("Ġm", "at"), ("Ġ", "a"), ("Ġ", "r"), ("Ġr", "at"), ("Ġ", "d"),
    ("o", "g"), ("Ġd", "og"), ("i", "n"), ("Ġ", "in"), ("e", "r"), ("a", "n"), ("an", "d"), ("Ġ", "and"),
    ("i", "s"), ("Ġ", "is"), ("Ġ", "w"), ("a", "s"), ("Ġw", "as"), ("e", "d"),
]


def write_gpt2():
    vocab = {}
    for char in GPT2_ALPHABET:
        vocab[char] = len(vocab)
    for a, b in GPT2_MERGES:
        vocab[a + b] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    assert len(vocab) == 64 and vocab["<|endoftext|>"] == 63, len(vocab)
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": 63, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None, "pre_tokenizer": byte_level,
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<|endoftext|>", "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "vocab": vocab,
                  "merges": [a + " " + b for a, b in GPT2_MERGES]},
    }
    write("gpt2-tiny-64", "tokenizer.json", tokenizer)
    write("gpt2-tiny-64", "tokenizer_config.json", {"model_max_length": 32, "tokenizer_class": "GPT2Tokenizer"})
    write("gpt2-tiny-64", "config.json", {"model_type": "gpt2", "n_positions": 32, "vocab_size": 64})


BERT_VOCAB = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
    "the", "cat", "sat", "on", "mat", "dog", "ran", "a", "is", "was", "and", "it", "he", "she", "to",
    "of", "in", ",", ".", "!", "?", "'", "s", "##s", "##ing", "##ed", "play", "walk", "big", "small",
    "red", "house", "tree", "what", "where", "who", "how", "old", "are", "you", "i", "am", "ten",
    "years", "good", "bad", "movie", "great", "not", "very", "this", "that", "like", "love", "film",
]


def write_bert():
    assert len(BERT_VOCAB) == 60 and len(set(BERT_VOCAB)) == 60, len(BERT_VOCAB)
    tokenizer = bert_tokenizer_json(BERT_VOCAB)
    write("bert-tiny-60", "tokenizer.json", tokenizer)
    write("bert-tiny-60", "tokenizer_config.json", {"model_max_length": 24, "do_lower_case": True,
                                                    "tokenizer_class": "BertTokenizer"})
    write("bert-tiny-60", "config.json", {"model_type": "bert", "max_position_embeddings": 24, "vocab_size": 60})


if __name__ == "__main__":
    write_gpt2()
    write_bert()
