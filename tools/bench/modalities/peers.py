#!/usr/bin/python3
"""Peer side of chorus_bench_decoders: the same decode + preprocess cases with the Python
stack a researcher would otherwise use, on one thread, on inputs built the same way.

  image: Pillow (decode, resize) + numpy (float conversion, CLIP normalisation, CHW layout);
  audio: the `wave` module + numpy (PCM decode) + PyTorch 1.13 (torch.stft, Whisper's
         formulation: Hann 400, hop 160, |X|^2, Slaney mel, log10, max-8 floor, (x+4)/4).

Prints one JSON object per case: {"name", "per_second", "unit"} with the same names as the
C++ benchmarks. There is no peer for the resampling and MP3 cases (no resampler or MP3
decoder in Debian's python3 packages without extra installs); compare.py shows them alone.

Run with Debian's interpreter: /usr/bin/python3 tools/bench/modalities/peers.py [SECONDS]
"""
import io
import json
import math
import os
import struct
import sys
import time
import wave

import numpy as np
import torch
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, "tools", "fixtures"))
from make_mel_golden import mel_filters  # noqa: E402  (our librosa-equivalent filterbank)

torch.set_num_threads(1)
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32).reshape(3, 1, 1)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32).reshape(3, 1, 1)


def rate(fn, seconds):
    """Calls fn until `seconds` have passed (after a warm-up); returns calls per second."""
    fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


def to_chw_normalised(img):
    x = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
    return (x.transpose(2, 0, 1) - MEAN) / STD


def png_case(size):
    data = open(os.path.join(ROOT, "tests", "fixtures", "image", "grey28.png"), "rb").read()

    def run():
        img = Image.open(io.BytesIO(data))
        img.load()
        if size != img.width:
            img = img.resize((size, size), Image.BILINEAR)
        return to_chw_normalised(img)
    return run


def make_jpeg():
    """The C++ benchmark's 512x512 synthetic photo (same formula), JPEG quality 90."""
    n = 512
    y, x = np.mgrid[0:n, 0:n]
    # Same LCG noise sequence as decoders_bench.cc, in raster order.
    noise = np.empty(n * n, dtype=np.int64)
    s = 12345
    for i in range(n * n):
        s = (s * 1664525 + 1013904223) & 0xFFFFFFFF
        noise[i] = (s >> 28) - 8
    noise = noise.reshape(n, n)
    disc = (x - 300) ** 2 + (y - 200) ** 2 < 90 * 90
    r = np.where(disc, 200, x // 2)
    g = np.where(disc, 60, y // 2)
    b = (128 + 100 * np.sin(x * 0.05 + y * 0.03)).astype(np.int64)
    rgb = np.clip(np.stack([r, g, b], -1) + noise[..., None], 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=90)
    return out.getvalue()


def jpeg_case():
    data = make_jpeg()

    def run():
        img = Image.open(io.BytesIO(data)).convert("RGB")
        w, h = img.size
        scale = 224 / min(w, h)
        img = img.resize((round(w * scale), round(h * scale)), Image.BICUBIC)
        left, top = (img.width - 224) // 2, (img.height - 224) // 2
        return to_chw_normalised(img.crop((left, top, left + 224, top + 224)))
    return run


def make_wav(rate_hz, seconds):
    """The C++ benchmark's chirp + 440 Hz tone as 16-bit mono PCM WAV."""
    t = np.arange(int(rate_hz * seconds)) / rate_hz
    v = 0.3 * np.sin(2 * np.pi * (100 * t + 300 * t * t)) + 0.2 * np.sin(2 * np.pi * 440 * t)
    pcm = np.round(v * 32767).astype("<i2").tobytes()
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(pcm)
    return out.getvalue()


def wav_mel_case():
    data = make_wav(16000, 10.0)
    filters = torch.from_numpy(mel_filters(80).astype(np.float32))
    window = torch.hann_window(400)

    def run():
        with wave.open(io.BytesIO(data), "rb") as w:
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        x = torch.from_numpy(pcm.astype(np.float32) / 32768.0)
        spec = torch.stft(x, 400, 160, window=window, return_complex=True)
        power = spec[..., :-1].abs() ** 2
        mel = torch.clamp(filters @ power, min=1e-10).log10()
        mel = torch.maximum(mel, mel.max() - 8.0)
        return (mel + 4.0) / 4.0
    return run


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    cases = [
        ("BM_Image_FashionPng28", png_case(28), 1.0, "images/s"),
        ("BM_Image_FashionPng28To32Bilinear", png_case(32), 1.0, "images/s"),
        ("BM_Image_Jpeg512To224Bicubic", jpeg_case(), 1.0, "images/s"),
        ("BM_Audio_Wav16kMel", wav_mel_case(), 10.0, "audio_s/s"),
    ]
    for name, fn, per_call, unit in cases:
        print(json.dumps({"name": name, "per_second": rate(fn, seconds) * per_call, "unit": unit}),
              flush=True)


if __name__ == "__main__":
    main()
