#!/usr/bin/env python3
"""One whole training step of HF's LongformerForSequenceClassification on CPU, as HF's Trainer takes it, for
bench/trainer/longformerStep.ts to set beside tsml's Trainer in the same run:
  for each of `accumulation` micro-batches of `batch` sequences: loss / accumulation, backward;
  then clip_grad_norm_(1.0), AdamW (weight decay 0.01 except biases and LayerNorm weights, eps 1e-8), the linear
  schedule with warm-up (LambdaLR), zero_grad.
Prints one JSON line per configuration: median wall and process-CPU ms per optimizer step over `repeats` steps
after `warmup` untimed steps (default 1), and the process's peak RSS so far. Token ids as in hf_fwdbwd_bench.py.
Run with HF's sources on PYTHONPATH (source ../shared/bench/hf/env.sh) and Debian's Python with torch.
"""
import argparse, json, os, resource, statistics, sys, time


def _threads():
    for i, a in enumerate(sys.argv):
        if a == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
    return "1"


for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = _threads()
# torch at its full BLAS speed: these settings select a slower, safe OpenBLAS kernel on some machines here.
for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(v, None)
import torch  # noqa: E402
from transformers import LongformerConfig, LongformerForSequenceClassification  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--length", type=int, default=1024)
ap.add_argument("--configs", nargs="+", default=["1x1", "8x1", "1x8"], help="BATCHxACCUMULATION")
ap.add_argument("--repeats", type=int, default=3)
ap.add_argument("--warmup", type=int, default=1, help="untimed steps before the timed ones")
ap.add_argument("--hidden", type=int, default=128)
ap.add_argument("--layers", type=int, default=2)
ap.add_argument("--heads", type=int, default=4)
ap.add_argument("--intermediate", type=int, default=512)
ap.add_argument("--window", type=int, default=64)
ap.add_argument("--vocab", type=int, default=1000)
ap.add_argument("--checkpointing", action="store_true")
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(1)
cfg = LongformerConfig(vocab_size=a.vocab, hidden_size=a.hidden, num_hidden_layers=a.layers, num_attention_heads=a.heads,
                       intermediate_size=a.intermediate, attention_window=[a.window] * a.layers,
                       max_position_embeddings=max(4098, a.length + 2), pad_token_id=1, bos_token_id=0, eos_token_id=2,
                       num_labels=2, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
model = LongformerForSequenceClassification(cfg).train()
if a.checkpointing:
    model.gradient_checkpointing_enable()
no_decay = [p for n, p in model.named_parameters() if "bias" in n or "LayerNorm" in n]
decay = [p for n, p in model.named_parameters() if not ("bias" in n or "LayerNorm" in n)]
optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-4, eps=1e-8)
total_steps, warmup = 1000, 100
schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: s / warmup if s < warmup else max(0.0, (total_steps - s) / (total_steps - warmup)))
n = a.length
row = [0 if i == 0 else 2 if i == n - 1 else 4 + (i * 7919) % (a.vocab - 10) for i in range(n)]

for spec in a.configs:
    batch, accumulation = (int(x) for x in spec.split("x"))
    ids = torch.tensor([row] * batch)
    labels = torch.tensor([i % 2 for i in range(batch)])

    def step():
        for _ in range(accumulation):
            (model(input_ids=ids, labels=labels).loss / accumulation).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(a.warmup):
        step()
    ms, cpu = [], []
    for _ in range(a.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        ms.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    print(json.dumps({"config": spec, "n": n, "threads": a.threads, "ms": round(statistics.median(ms), 1),
                      "cpu_ms": round(statistics.median(cpu), 1),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}), flush=True)
