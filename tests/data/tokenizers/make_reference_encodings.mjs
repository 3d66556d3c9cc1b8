// Writes reference_encodings.json: how an independent implementation of the Hugging Face
// tokenizers (Tokenizers.js, @huggingface/tokenizers 0.2.0, a port of the Rust library that
// reads tokenizer.json) encodes the test sentences with the tiny tokenizers of this folder.
// test_tokenize.cpp checks Fovea's tokenizers against these ids and token strings.
//
// Not needed to build or test Fovea. To regenerate (Node.js 18 or later):
//   mkdir /tmp/tokref && cd /tmp/tokref && npm install @huggingface/tokenizers@0.2.0
//   node tests/data/tokenizers/make_reference_encodings.mjs /tmp/tokref/node_modules/@huggingface/tokenizers
import fs from "node:fs";
import path from "node:path";
import url from "node:url";

const here = path.dirname(url.fileURLToPath(import.meta.url));
const packageDir = process.argv[2];
if (!packageDir) {
  console.error("usage: node make_reference_encodings.mjs PATH/TO/node_modules/@huggingface/tokenizers");
  process.exit(2);
}
const { Tokenizer } = await import(path.join(path.resolve(packageDir), "dist", "tokenizers.mjs"));

const texts = [
  "Hello world",
  "Hello  world",
  "Hello world   ",
  "\n\nHello\n\n",
  "it's 12345 the abc",
  "\u{1F600} emoji \u{1F469}\u200D\u{1F4BB}",
  "Caf\u00E9 na\u00EFve \u039F\u0394\u039F\u03A3",
  "\u4F60\u597Dworld",
  "hello, world! unaffable playing",
  "don't DON'T",
  "",
  "  leading and\ttabs\r\n",
  "the [MASK] is <|endoftext|> here <mask>",
  "e\u0301 decomposed",
  "a photo's 42 caf\u00E9",
  "a" + "b".repeat(99),
  "a" + "b".repeat(100),
];
const pairs = [["hello world", "the cafe"], ["", "hello"], ["Hello world", "it's 12"]];

const folders = ["bert-tiny-json", "gpt2-tiny-json", "roberta-tiny-json", "clip-tiny-json"];
const result = {};
for (const folder of folders) {
  const json = JSON.parse(fs.readFileSync(path.join(here, folder, "tokenizer.json"), "utf8"));
  const config = JSON.parse(fs.readFileSync(path.join(here, folder, "tokenizer_config.json"), "utf8"));
  const tokenizer = new Tokenizer(json, config);
  const entries = [];
  for (const text of texts) {
    const encoded = tokenizer.encode(text);
    entries.push({ text, ids: encoded.ids, tokens: encoded.tokens });
  }
  if (folder === "bert-tiny-json" || folder === "roberta-tiny-json") {
    for (const [text, pair] of pairs) {
      const encoded = tokenizer.encode(text, { text_pair: pair, return_token_type_ids: true });
      entries.push({ text, pair, ids: encoded.ids, tokens: encoded.tokens, type_ids: encoded.token_type_ids ?? null });
    }
  }
  result[folder] = entries;
}
fs.writeFileSync(path.join(here, "reference_encodings.json"), JSON.stringify(result, null, 1) + "\n");
console.log("wrote", path.join(here, "reference_encodings.json"));
