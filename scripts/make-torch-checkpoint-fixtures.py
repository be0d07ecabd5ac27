#!/usr/bin/env python3
"""Writes test/fixtures/torch-checkpoints/: small state dicts saved by real PyTorch (torch.save), covering
what a restricted reader of pytorch_model.bin must handle, plus the expected bytes of every tensor.

Run from the repository root with a Python that has torch (Debian: python3-torch):
    /usr/bin/python3 scripts/make-torch-checkpoint-fixtures.py
Deterministic (fixed seed, torch.save writes no timestamps) except the legacy-format files, whose storage keys
are object ids.
"""
import collections
import json
import os
import sys

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "torch-checkpoints")


def raw_bytes(t: torch.Tensor) -> str:
    """Row-major little-endian bytes of a tensor, as hex (bf16 through a same-width integer view)."""
    c = t.detach().contiguous()
    if c.dtype == torch.bfloat16:
        c = c.view(torch.int16)
    return c.numpy().tobytes().hex()


def state_dict() -> "collections.OrderedDict[str, torch.Tensor]":
    torch.manual_seed(20261129)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3))
    sd = model.state_dict()  # an OrderedDict carrying `_metadata`, as save_pretrained saves it
    base = torch.randn(5, 6)
    sd["f16"] = torch.randn(2, 3).half()
    sd["bf16"] = torch.randn(3, 2).bfloat16()
    sd["f64"] = torch.randn(4, dtype=torch.float64)
    sd["position_ids"] = torch.arange(7, dtype=torch.int64).expand(1, -1)  # stride 0 on dim 0
    sd["mask"] = torch.tensor([True, False, True])
    sd["transposed"] = base.t()  # non-contiguous view of `base`'s storage
    sd["row_slice"] = base[2:4]  # storage offset 12, shares the storage
    sd["column"] = base[:, 1]  # stride 6
    sd["scalar"] = torch.tensor(3.5)
    sd["empty"] = torch.zeros(0, 4)
    sd["tied_a"] = sd["0.weight"]  # two names, one storage (like tied embeddings)
    return sd


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    sd = state_dict()
    assert hasattr(sd, "_metadata")
    torch.save(sd, os.path.join(OUT, "dtypes.bin"))
    torch.save(sd, os.path.join(OUT, "dtypes_protocol4.bin"), pickle_protocol=4)
    torch.save(sd, os.path.join(OUT, "legacy_format.bin"), _use_new_zipfile_serialization=False)
    torch.save({"model": collections.OrderedDict(w=torch.ones(2)), "epoch": 3}, os.path.join(OUT, "nested.bin"))
    # A real Longformer checkpoint in the legacy format (as many 2019-2020 Hub checkpoints are), from the golden
    # case a_default_global: its logits must equal those of that case's model.safetensors.
    golden = os.path.join(OUT, "..", "longformer-hf", "a_default_global", "pytorch_model.bin")
    torch.save(torch.load(golden), os.path.join(OUT, "longformer_a_legacy.bin"), _use_new_zipfile_serialization=False)
    expected = {
        name: {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "hex": raw_bytes(t)}
        for name, t in sd.items()
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"torch": torch.__version__, "python": sys.version.split()[0], "tensors": expected}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
