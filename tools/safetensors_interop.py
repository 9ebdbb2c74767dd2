#!/usr/bin/python3
"""Safetensors interop between Chorus and PyTorch, without the `safetensors` package.

Debian's PyTorch 1.13 has no safetensors module, so this script reads and writes the format by
hand (struct + json) from torch tensors. It is an independent implementation to test Chorus's
reader and writer against.

  safetensors_interop.py write OUT.safetensors
      Writes the reference tensors (REFERENCE below, plus "pair/*" tensors whose bf16/f16
      copies were rounded by torch) with metadata. Tensors are laid out in list order without
      alignment padding, so some are misaligned for their dtype, as files from other writers
      may be.

  safetensors_interop.py check IN.safetensors [--expect-metadata KEY=VALUE ...]
      Verifies that a file written by Chorus holds exactly the REFERENCE tensors (names,
      dtypes, shapes, values) and the given metadata, and that its layout is well formed.
      Exit status 0 when everything matches, 1 otherwise (with the reasons on stderr).

The values are a deterministic function of the element index (ref_values), exactly
representable in every dtype, so the C++ tests compute the same tensors independently
(tests/core/io/interop_test.cc mirrors REFERENCE and ref_values; keep them in sync).
"""

import argparse
import json
import struct
import sys

import torch

DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "BF16": torch.bfloat16,
    "F16": torch.float16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
# fp8 (F8_E4M3, F8_E5M2) is absent: torch 1.13 has no 8-bit float dtypes.

REFERENCE = [
    ("f64/odd", "F64", [3, 5, 7]),
    ("u8/image", "U8", [2, 3, 3]),
    ("f32/matrix", "F32", [17, 3]),
    ("bf16/vector", "BF16", [11]),
    ("f16/cube", "F16", [2, 3, 5]),
    ("i64/vector", "I64", [6]),
    ("bool/mask", "BOOL", [7]),
    ("i32/matrix", "I32", [4, 3]),
    ("i8/vector", "I8", [9]),
    ("f32/scalar", "F32", []),
    ("f32/empty", "F32", [0, 4]),
]

METADATA = {"format": "pt", "writer": "safetensors_interop.py", "note": "torch reference"}


def ref_values(dtype_name, n):
    """Element i of every reference tensor, as a Python list (see the module docstring)."""
    idx = range(n)
    if dtype_name == "BOOL":
        return [i % 3 == 0 for i in idx]
    if dtype_name == "U8":
        return [(i * 37 + 5) % 256 for i in idx]
    if dtype_name == "I8":
        return [(i * 37) % 201 - 100 for i in idx]
    if dtype_name == "I32":
        return [(i * 7919) % 200001 - 100000 for i in idx]
    if dtype_name == "I64":
        return [(i * 1000000007) % (1 << 50) - (1 << 49) for i in idx]
    return [((i * 7) % 23 - 11) * 0.125 for i in idx]  # floats: multiples of 1/8 in [-1.375, 1.375]


def ref_tensor(dtype_name, shape):
    n = 1
    for s in shape:
        n *= s
    values = ref_values(dtype_name, n)
    if dtype_name in ("F64", "F32", "BF16", "F16"):
        t = torch.tensor(values, dtype=torch.float64).to(DTYPES[dtype_name])
    else:
        t = torch.tensor(values, dtype=DTYPES[dtype_name])
    return t.reshape(shape)


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype in (torch.bfloat16, torch.float16):  # numpy has no bfloat16: reinterpret as int16
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def write(path):
    tensors = [(name, dt, ref_tensor(dt, shape)) for name, dt, shape in REFERENCE]
    # torch's own rounding of random floats, for Chorus to reproduce bit for bit.
    gen = torch.Generator().manual_seed(1234)
    base = torch.randn(64, generator=gen, dtype=torch.float32) * 100
    tensors += [("pair/f32", "F32", base), ("pair/bf16", "BF16", base.to(torch.bfloat16)),
                ("pair/f16", "F16", base.to(torch.float16))]
    header, chunks, offset = {}, [], 0
    for name, dt, t in tensors:
        data = tensor_bytes(t)
        header[name] = {"dtype": dt, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    header["__metadata__"] = METADATA
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate keys in " + repr(keys))
    return dict(pairs)


def check(path, expected_metadata):
    errors = []
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    if n % 8 != 0:
        errors.append(f"header length {n} is not a multiple of 8")
    header = json.loads(raw[8:8 + n].decode("utf-8"), object_pairs_hook=no_duplicates)
    data = raw[8 + n:]
    metadata = header.pop("__metadata__", {})
    if metadata != expected_metadata:
        errors.append(f"metadata {metadata} != expected {expected_metadata}")
    want = {name: (dt, shape) for name, dt, shape in REFERENCE}
    if set(header) != set(want):
        errors.append(f"tensor names {sorted(header)} != expected {sorted(want)}")
    spans = []
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        if not 0 <= begin <= end <= len(data):
            errors.append(f"{name}: data_offsets {entry['data_offsets']} outside {len(data)}")
            continue
        if begin < end:
            spans.append((begin, end, name))
        if name not in want:
            continue
        dt, shape = want[name]
        if entry["dtype"] != dt or entry["shape"] != shape:
            errors.append(f"{name}: {entry['dtype']} {entry['shape']} != expected {dt} {shape}")
            continue
        if begin == end:
            t = torch.empty(shape, dtype=DTYPES[dt])
        else:
            t = torch.frombuffer(bytearray(data[begin:end]), dtype=DTYPES[dt]).reshape(shape)
        expected = ref_tensor(dt, shape)
        if t.shape != expected.shape or not torch.equal(t, expected):
            errors.append(f"{name}: values differ:\n{t}\nexpected\n{expected}")
    spans.sort()
    for (b0, e0, n0), (b1, e1, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            errors.append(f"{n0} [{b0}, {e0}) and {n1} [{b1}, {e1}) overlap")
    for e in errors:
        print(f"{path}: {e}", file=sys.stderr)
    return 1 if errors else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write", help="write the reference tensors")
    w.add_argument("path")
    c = sub.add_parser("check", help="verify a file written by Chorus")
    c.add_argument("path")
    c.add_argument("--expect-metadata", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    if args.command == "write":
        write(args.path)
        return 0
    metadata = dict(kv.split("=", 1) for kv in args.expect_metadata)
    return check(args.path, metadata)


if __name__ == "__main__":
    sys.exit(main())
