#!/usr/bin/env python3
"""Writes the tiny hand-made tokenizers that tests/core/test_tokenize.cpp uses.

Run from anywhere with the system interpreter (no third-party modules):
    /usr/bin/python3 tests/data/tokenizers/make_tiny_tokenizers.py

Each family gets the same vocabulary twice: as the classic files (vocab.txt; vocab.json +
merges.txt) and as a Hugging Face tokenizer.json, so the test checks that both loaders agree.
The merges are chosen by hand so that the expected tokenisations can be derived on paper (the
derivations are in the test's comments); the byte alphabet follows GPT-2's bytes_to_unicode.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def bytes_to_unicode():
    """GPT-2's table: printable bytes keep their code point, the other 68 become 256 + n."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    order = printable[:]
    chars = printable[:]
    n = 0
    for b in range(256):
        if b not in printable:
            order.append(b)
            chars.append(256 + n)
            n += 1
    return [(b, chr(c)) for b, c in zip(order, chars)]


def write(folder, name, content):
    os.makedirs(os.path.join(HERE, folder), exist_ok=True)
    with open(os.path.join(HERE, folder, name), "w", encoding="utf-8", newline="\n") as out:
        if isinstance(content, str):
            out.write(content)
        else:
            json.dump(content, out, ensure_ascii=False, indent=1)
            out.write("\n")


# ---- WordPiece (BERT) ----
BERT_VOCAB = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
    "the", "un", "##aff", "##able", "hello", "world", ",", "!", ".", "cafe", "naive", "你", "好",
    "##s", "play", "##ing", "a", "##b", "'", "t", "οδος", "don", "x", "café", "##a",
]


def bert_tokenizer_json(vocab):
    """A WordPiece tokenizer.json (lower-casing BertNormalizer, [CLS] a [SEP] b [SEP] template) over
    `vocab`, whose first five entries are [PAD] [UNK] [CLS] [SEP] [MASK]."""
    special = [{"id": vocab.index(t), "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                "normalized": False, "special": True} for t in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]]
    cls, sep = vocab.index("[CLS]"), vocab.index("[SEP]")
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": special,
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [cls], "tokens": ["[CLS]"]},
                               "[SEP]": {"id": "[SEP]", "ids": [sep], "tokens": ["[SEP]"]}}},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": {t: i for i, t in enumerate(vocab)}},
    }


def write_bert():
    write("bert-tiny-vocab", "vocab.txt", "".join(token + "\n" for token in BERT_VOCAB))
    write("bert-tiny-vocab", "tokenizer_config.json", {"do_lower_case": True, "tokenize_chinese_chars": True,
                                                       "strip_accents": None, "tokenizer_class": "BertTokenizer"})
    write("bert-tiny-vocab", "config.json", {"model_type": "bert", "max_position_embeddings": 32})
    tokenizer = bert_tokenizer_json(BERT_VOCAB)
    write("bert-tiny-json", "tokenizer.json", tokenizer)
    write("bert-tiny-json", "tokenizer_config.json", {"model_max_length": 32, "do_lower_case": True,
                                                      "tokenizer_class": "BertTokenizer"})


# ---- byte-level BPE (GPT-2, RoBERTa) ----
# Rank order matters: "b c" comes before "a b", so "abc" becomes "a" + "bc", not "ab" + "c".
GPT2_MERGES = [
    ("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("l", "l"), ("e", "ll"), ("H", "ell"), ("Hell", "o"),
    ("Ġ", "w"), ("o", "r"), ("Ġw", "or"), ("Ġwor", "l"), ("Ġworl", "d"), ("Ġ", "Ġ"), ("ð", "Ł"),
    ("'", "s"), ("1", "2"), ("Ċ", "Ċ"), ("b", "c"), ("a", "b"),
]


def byte_level_vocab(first_specials, last_specials):
    vocab = {}
    for token in first_specials:
        vocab[token] = len(vocab)
    for _, char in bytes_to_unicode():
        vocab[char] = len(vocab)
    for a, b in GPT2_MERGES:
        vocab[a + b] = len(vocab)
    for token in last_specials:
        vocab[token] = len(vocab)
    return vocab


def bpe_model(vocab, merges, unk=None, suffix=""):
    return {"type": "BPE", "dropout": None, "unk_token": unk, "continuing_subword_prefix": "",
            "end_of_word_suffix": suffix, "fuse_unk": False, "byte_fallback": False, "vocab": vocab,
            "merges": [a + " " + b for a, b in merges]}


def added(vocab, token, special=True, lstrip=False, normalized=False):
    return {"id": vocab[token], "content": token, "single_word": False, "lstrip": lstrip, "rstrip": False,
            "normalized": normalized, "special": special}


def merges_txt(merges):
    return "#version: 0.2\n" + "".join(a + " " + b + "\n" for a, b in merges)


def write_gpt2():
    vocab = byte_level_vocab([], ["<|endoftext|>"])
    write("gpt2-tiny-vocab", "vocab.json", vocab)
    write("gpt2-tiny-vocab", "merges.txt", merges_txt(GPT2_MERGES))
    write("gpt2-tiny-vocab", "config.json", {"model_type": "gpt2", "n_positions": 64, "n_ctx": 64})
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(vocab, "<|endoftext|>")],
        "normalizer": None, "pre_tokenizer": byte_level,
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": bpe_model(vocab, GPT2_MERGES),
    }
    write("gpt2-tiny-json", "tokenizer.json", tokenizer)
    write("gpt2-tiny-json", "tokenizer_config.json", {"model_max_length": 64, "tokenizer_class": "GPT2Tokenizer"})

    vocab = byte_level_vocab(["<s>", "<pad>", "</s>", "<unk>"], ["<mask>"])
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(vocab, "<s>"), added(vocab, "<pad>"), added(vocab, "</s>"), added(vocab, "<unk>"),
                         added(vocab, "<mask>", lstrip=True)],
        "normalizer": None, "pre_tokenizer": byte_level,
        "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", vocab["</s>"]], "cls": ["<s>", vocab["<s>"]],
                           "trim_offsets": True, "add_prefix_space": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": bpe_model(vocab, GPT2_MERGES),
    }
    write("roberta-tiny-json", "tokenizer.json", tokenizer)
    write("roberta-tiny-json", "tokenizer_config.json", {"model_max_length": 64, "tokenizer_class": "RobertaTokenizer"})


# ---- CLIP BPE ----
CLIP_MERGES = [
    ("h", "e"), ("l", "l"), ("he", "ll"), ("hell", "o</w>"), ("o", "r"), ("w", "or"), ("wor", "l"),
    ("worl", "d</w>"), ("p", "h"), ("o", "t"), ("ph", "ot"), ("phot", "o</w>"), ("'", "s</w>"),
    ("c", "a"), ("ca", "f"),
]
CLIP_PATTERN = (r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|"
                r"[^\s\p{L}\p{N}]+")


def write_clip():
    vocab = {}
    chars = [c for _, c in bytes_to_unicode()]
    for c in chars:
        vocab[c] = len(vocab)
    for c in chars:
        vocab[c + "</w>"] = len(vocab)
    for a, b in CLIP_MERGES:
        vocab[a + b] = len(vocab)
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    write("clip-tiny-vocab", "vocab.json", vocab)
    write("clip-tiny-vocab", "merges.txt", merges_txt(CLIP_MERGES))
    write("clip-tiny-vocab", "config.json", {"model_type": "clip", "text_config": {"max_position_embeddings": 16}})
    # OpenAI's layout: the merges alone (first line a header), the vocabulary derived from them.
    write("clip-tiny-merges-only", "bpe_simple_vocab_16e6.txt",
          '"bpe_simple_vocab_16e6.txt#version: 0.2\n' + "".join(a + " " + b + "\n" for a, b in CLIP_MERGES))
    write("clip-tiny-merges-only", "open_clip_config.json",
          {"model_cfg": {"embed_dim": 24, "text_cfg": {"context_length": 16, "vocab_size": len(vocab)}}})
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(vocab, "<|startoftext|>", normalized=True), added(vocab, "<|endoftext|>")],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFC"}, {"type": "Replace", "pattern": {"Regex": r"\s+"}, "content": " "}, {"type": "Lowercase"}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": CLIP_PATTERN}, "behavior": "Removed", "invert": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": {"type": "RobertaProcessing", "sep": ["<|endoftext|>", vocab["<|endoftext|>"]],
                           "cls": ["<|startoftext|>", vocab["<|startoftext|>"]], "trim_offsets": False,
                           "add_prefix_space": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": bpe_model(vocab, CLIP_MERGES, unk="<|endoftext|>", suffix="</w>"),
    }
    write("clip-tiny-json", "tokenizer.json", tokenizer)
    write("clip-tiny-json", "tokenizer_config.json", {"model_max_length": 16, "tokenizer_class": "CLIPTokenizer"})


if __name__ == "__main__":
    write_bert()
    write_gpt2()
    write_clip()
