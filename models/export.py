#!/usr/bin/python3
"""Trains and exports the three demo TorchScript models, with manifests, reference
outputs and labelled samples, from synthetic data generated here.

Run with Debian's Python (the one that has python3-torch):

    /usr/bin/python3 models/export.py            # all three models
    /usr/bin/python3 models/export.py --only segmentation --seconds 60

Everything is seeded, so a run reproduces the same data; trained weights depend on how
many steps fit in --seconds on the machine, which is why the .pt files are committed
together with the reference outputs computed from them.
"""

import argparse
import glob
import json
import math
import os
import struct
import sys
import time
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))

# Phantom conventions shared with the C# tests (tests/Inference.Tests/Phantoms.cs):
# intensities in [0, 1]; air 0.0, body 0.2, then one intensity per organ label.
SEG_LABELS = ["background", "liver", "kidney", "spleen", "lesion"]
SEG_INTENSITY = {1: 0.40, 2: 0.60, 3: 0.80, 4: 1.00}
SEG_SIZE = 128
CLS_LABELS = ["nodule", "effusion", "cardiomegaly"]
CLS_SIZE = 224
DIFF_SIZE = 64
DIFF_T = 1000
DIFF_BETA = (1e-4, 0.02)
# On a GPU the batcher may merge up to 64 requests (a CPU keeps the manifest's batch). Precision,
# channels-last, freezing and CUDA graphs wait for a GPU table to choose them (docs/inference.md).
GPU_RUNTIME = {"cuda": {"maxBatchSize": 64}}
REUSE = False
CONTINUE = False
DEVICE = "cpu"
BATCH = 32
POOL = 12000
LR = None
SAVE_WEIGHTS = None
LOAD_WEIGHTS = {}
INIT_WEIGHTS = {}
NO_EXPORT = False


# ---------------------------------------------------------------- PNG (no PIL here)
def write_png(path, pixels):
    """pixels: uint8 array HxW (gray) or HxWx3 (RGB)."""
    pixels = np.ascontiguousarray(pixels)
    h, w = pixels.shape[:2]
    color = 0 if pixels.ndim == 2 else 2
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(h))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


# ---------------------------------------------------------------- synthetic data
def ellipse_mask(h, w, cy, cx, ry, rx, angle=0.0):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    y, x = yy + 0.5 - cy, xx + 0.5 - cx
    c, s = math.cos(angle), math.sin(angle)
    u, v = x * c + y * s, -x * s + y * c
    return (u / rx) ** 2 + (v / ry) ** 2 <= 1.0


def segmentation_phantom(rng):
    """A CT-like slice: air, a body ellipse, organs as ellipses of fixed intensity."""
    n = SEG_SIZE
    img = np.zeros((n, n), np.float32)
    lab = np.zeros((n, n), np.int64)
    body = ellipse_mask(n, n, n / 2 + rng.uniform(-6, 6), n / 2 + rng.uniform(-6, 6),
                        rng.uniform(45, 60), rng.uniform(45, 60))
    img[body] = 0.2
    for label in (1, 2, 3, 4):
        for _ in range(rng.integers(0, 3 if label == 4 else 2)):
            r = rng.uniform(3, 9) if label == 4 else rng.uniform(7, 26)
            m = ellipse_mask(n, n, rng.uniform(16, n - 16), rng.uniform(16, n - 16),
                             r * rng.uniform(0.6, 1.4), r * rng.uniform(0.6, 1.4), rng.uniform(0, math.pi))
            img[m] = SEG_INTENSITY[label]
            lab[m] = label
    img += rng.normal(0, 0.03, img.shape).astype(np.float32)
    return np.clip(img, 0, 1), lab


def xray(rng, findings):
    """A chest-X-ray-like image with optional synthetic findings."""
    n = CLS_SIZE
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) / n
    img = 0.05 + 0.05 * yy
    img[ellipse_mask(n, n, n * 0.55, n * 0.5, n * 0.42, n * 0.38)] = 0.55
    lungs = []
    for side in (-1, 1):
        m = ellipse_mask(n, n, n * 0.5, n * (0.5 + side * 0.17), n * 0.3, n * 0.12)
        img[m] = 0.25
        lungs.append(m)
    heart_r = n * (0.16 if findings[2] else 0.095)
    img[ellipse_mask(n, n, n * 0.62, n * 0.53, heart_r * 0.85, heart_r)] = 0.6
    if findings[1]:  # effusion: the bottom of one lung fills with fluid
        side = rng.integers(0, 2)
        cut = n * rng.uniform(0.6, 0.68)
        fill = lungs[side] & (np.mgrid[0:n, 0:n][0] > cut)
        img[fill] = 0.62
    if findings[0]:  # nodule: a small bright disc inside a lung
        side = rng.integers(0, 2)
        for _ in range(200):
            cy, cx = rng.uniform(n * 0.3, n * 0.6), n * (0.5 + (side * 2 - 1) * 0.17) + rng.uniform(-12, 12)
            if lungs[side][int(cy), int(cx)]:
                break
        r = rng.uniform(4, 8)
        img[ellipse_mask(n, n, cy, cx, r, r)] = 0.75
    img += rng.normal(0, 0.04, img.shape).astype(np.float32)
    return np.clip(img, 0, 1).astype(np.float32)


def random_findings(rng):
    return [bool(rng.random() < 0.5) for _ in CLS_LABELS]


# Diffusion: one shape of one colour on a dim background; the class is (colour, shape).
DIFF_COLOURS = {"red": (0.90, 0.12, 0.10), "green": (0.12, 0.72, 0.20), "blue": (0.15, 0.30, 0.92),
                "yellow": (0.95, 0.85, 0.10)}
DIFF_SHAPES = ["circle", "square", "triangle"]
DIFF_LABELS = [f"{c} {s}" for c in DIFF_COLOURS for s in DIFF_SHAPES]
DIFF_GUIDANCE = 5.0


def shape_image(rng, cls):
    """A 3x64x64 RGB image in [-1, 1] of class `cls` (DIFF_LABELS): a tinted grey gradient
    and one anti-aliased disc, square or upright triangle, a little turned, of that colour."""
    n = DIFF_SIZE
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) + 0.5
    colour = np.array(list(DIFF_COLOURS.values())[cls // len(DIFF_SHAPES)], np.float32)
    shape = cls % len(DIFF_SHAPES)
    bg = np.clip(rng.uniform(0.08, 0.4) + rng.uniform(-0.12, 0.12) * (yy / n - 0.5), 0, 1)
    img = np.stack([bg + rng.uniform(-0.04, 0.04) for _ in range(3)])
    cy, cx = rng.uniform(22, 42, 2)
    size, turn = rng.uniform(11, 18), rng.uniform(-0.35, 0.35)
    y, x = yy - cy, xx - cx
    if shape == 0:
        inside = size - np.sqrt(x * x + y * y)
    else:  # a convex polygon: the distance to its nearest edge, positive inside
        sides = 4 if shape == 1 else 3
        apothem = size * (0.85 if shape == 1 else 0.6)
        inside = np.full_like(x, np.inf)
        for i in range(sides):
            th = turn + 2 * math.pi * i / sides - (math.pi / 2 if shape == 2 else 0)
            inside = np.minimum(inside, apothem - (x * math.cos(th) - y * math.sin(th)))
    alpha = np.clip(inside + 0.5, 0, 1)
    paint = np.clip(colour + rng.uniform(-0.07, 0.07, 3), 0, 1).astype(np.float32)
    img = img * (1 - alpha) + paint[:, None, None] * alpha
    return (np.clip(img, 0, 1) * 2 - 1).astype(np.float32)


# ---------------------------------------------------------------- networks
def block(cin, cout, norm=False):
    if not norm:
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True),
                             nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(inplace=True))
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    """Small three-level UNet: 1x128x128 -> logits per label."""

    def __init__(self, cin=1, classes=5, c=12):
        super().__init__()
        self.e1, self.e2, self.e3 = block(cin, c, True), block(c, 2 * c, True), block(2 * c, 4 * c, True)
        self.u2, self.d2 = nn.ConvTranspose2d(4 * c, 2 * c, 2, stride=2), block(4 * c, 2 * c, True)
        self.u1, self.d1 = nn.ConvTranspose2d(2 * c, c, 2, stride=2), block(2 * c, c, True)
        self.head = nn.Conv2d(c, classes, 1)

    def forward(self, x):
        e1 = self.e1(x)
        e2 = self.e2(F.max_pool2d(e1, 2))
        e3 = self.e3(F.max_pool2d(e2, 2))
        d2 = self.d2(torch.cat([self.u2(e3), e2], 1))
        d1 = self.d1(torch.cat([self.u1(d2), e1], 1))
        return self.head(d1)


class Classifier(nn.Module):
    """1x224x224 -> one logit per finding; the exported model applies the sigmoid."""

    def __init__(self, classes=3):
        super().__init__()
        chans = [1, 12, 24, 32, 48, 64]
        layers = []
        for a, b in zip(chans, chans[1:]):
            layers += [nn.Conv2d(a, b, 3, stride=2, padding=1), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(64, classes)

    def forward(self, x):
        return self.head(self.features(x).amax(dim=(2, 3)))


class WithSigmoid(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return torch.sigmoid(self.net(x))


class ResBlock(nn.Module):
    """GroupNorm, SiLU, conv, plus the step/class embedding; twice; residual."""

    def __init__(self, cin, cout, emb):
        super().__init__()
        self.n1, self.c1 = nn.GroupNorm(8, cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.e = nn.Linear(emb, cout)
        self.n2, self.c2 = nn.GroupNorm(8, cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, e):
        h = self.c1(F.silu(self.n1(x))) + self.e(e)[:, :, None, None]
        return self.c2(F.silu(self.n2(h))) + self.skip(x)


class Denoiser(nn.Module):
    """eps(x_t, t, class): a small UNet run at 32x32 on pixel-unshuffled 64x64 RGB (4x cheaper
    than full resolution, and the images are smooth). Class len(DIFF_LABELS) means none."""

    def __init__(self, c=48, emb=128, classes=len(DIFF_LABELS)):
        super().__init__()
        # A buffer, not torch.arange in forward: tracing would bake arange's device (cpu)
        # into the graph, and the model would fail on CUDA. Buffers move with the module.
        self.register_buffer("freqs", torch.exp(torch.arange(32, dtype=torch.float32) * (-math.log(10000.0) / 32)))
        self.temb = nn.Sequential(nn.Linear(64, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.cemb = nn.Embedding(classes + 1, emb)
        self.inp = nn.Conv2d(12, c, 3, padding=1)
        self.e1, self.e2 = ResBlock(c, c, emb), ResBlock(c, 2 * c, emb)
        self.m1, self.m2 = ResBlock(2 * c, 2 * c, emb), ResBlock(2 * c, 2 * c, emb)
        self.d2, self.d1 = ResBlock(4 * c, 2 * c, emb), ResBlock(3 * c, c, emb)
        self.norm, self.out = nn.GroupNorm(8, c), nn.Conv2d(c, 12, 3, padding=1)

    def forward(self, x, t, y):
        args = t.to(torch.float32)[:, None] * self.freqs[None, :]
        e = F.silu(self.temb(torch.cat([torch.sin(args), torch.cos(args)], 1)) + self.cemb(y))
        h1 = self.e1(self.inp(F.pixel_unshuffle(x, 2)), e)
        h2 = self.e2(F.avg_pool2d(h1, 2), e)
        m = self.m2(self.m1(F.avg_pool2d(h2, 2), e), e)
        u2 = self.d2(torch.cat([F.interpolate(m, scale_factor=2.0, mode="nearest"), h2], 1), e)
        u1 = self.d1(torch.cat([F.interpolate(u2, scale_factor=2.0, mode="nearest"), h1], 1), e)
        return F.pixel_shuffle(self.out(F.silu(self.norm(u1))), 2)


class Guided(nn.Module):
    """The exported model: classifier-free guidance in one forward. Runs the denoiser on the
    batch twice over (with its classes, and with none) and returns
    eps_none + w (eps_class - eps_none), w per row."""

    def __init__(self, net, null_class):
        super().__init__()
        self.net, self.null_class = net, null_class

    def forward(self, x, t, y, w):
        eps = self.net(torch.cat([x, x]), torch.cat([t, t]), torch.cat([y, torch.full_like(y, self.null_class)]))
        cond, none = eps.chunk(2)
        return none + w[:, None, None, None] * (cond - none)


class ShapeJudge(nn.Module):
    """Names the class of a 3x64x64 image in [-1, 1]: the diffusion demo's test judge."""

    def __init__(self, classes=len(DIFF_LABELS)):
        super().__init__()
        chans = [3, 16, 32, 48, 64]
        layers = []
        for a, b in zip(chans, chans[1:]):
            layers += [nn.Conv2d(a, b, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(64 * 4 * 4, classes)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


# ---------------------------------------------------------------- training
def to_device(value):
    if isinstance(value, (tuple, list)):
        return type(value)(to_device(v) for v in value)
    return value.to(DEVICE)


def committed_file(name, file=None):
    """The committed TorchScript file a trained net is exported to (under models/)."""
    return file or f"{name}/model.pt"


def load_committed(net, name, file=None):
    """Loads the weights of a committed TorchScript file (model.pt wraps the net as `net.`)."""
    path = committed_file(name, file)
    old = torch.jit.load(os.path.join(HERE, path), map_location="cpu")
    state = {k[4:] if k.startswith("net.") else k: v for k, v in old.state_dict().items()}
    missing, unexpected = net.load_state_dict(state, strict=False)
    if unexpected or any(m != "freqs" for m in missing):
        raise SystemExit(f"{path} does not fit this script's network: missing {missing}, unexpected {unexpected}")


def save_weights(net, name, label):
    """--save-weights: the net's weights as <name>.npz, for another torch to export."""
    if name and SAVE_WEIGHTS:
        path = os.path.join(SAVE_WEIGHTS, f"{name}.npz")
        np.savez(path, **{k: v.detach().cpu().numpy() for k, v in net.state_dict().items()})
        print(f"  {label}: saved weights to {path}", flush=True)


def train(net, make_batch, loss_fn, seconds, lr, label, name=None, ema=None, file=None):
    """Adam for `seconds` of wall time. With `ema` (a decay such as 0.999) the learning rate
    follows a cosine to 5 % over the time and the exported weights are the exponential
    moving average of the steps, which samples far cleaner for a diffusion model."""
    if name and LOAD_WEIGHTS and name in LOAD_WEIGHTS:
        # --load-weights: weights trained elsewhere (e.g. on a GPU with a newer torch, whose
        # TorchScript files this torch cannot read), exported here.
        data = np.load(LOAD_WEIGHTS[name])
        net.load_state_dict({k: torch.from_numpy(data[k]) for k in data.files})
        net.eval()
        print(f"  {label}: loaded weights from {LOAD_WEIGHTS[name]}", flush=True)
        return 0
    if name and (REUSE or (CONTINUE and seconds <= 0)):
        # --reuse: keep the committed weights, re-export only (e.g. after an export fix);
        # --continue with no time for this net: keep it as it is.
        load_committed(net, name, file)
        net.eval()
        print(f"  {label}: kept the weights of {committed_file(name, file)}", flush=True)
        save_weights(net, name, label)
        return 0
    if name and name in INIT_WEIGHTS:
        # --init-weights: continue training from weights saved by an earlier run.
        data = np.load(INIT_WEIGHTS[name])
        net.load_state_dict({k: torch.from_numpy(data[k]) for k in data.files})
        print(f"  {label}: starting from {INIT_WEIGHTS[name]}", flush=True)
    elif name and CONTINUE:
        # --continue: train on from the committed weights (a GPU run sharpening the demo).
        load_committed(net, name, file)
        print(f"  {label}: starting from the committed {committed_file(name, file)}", flush=True)
    net.to(DEVICE)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    average = [p.detach().clone() for p in net.parameters()] if ema else None
    start, step, avg = time.time(), 0, None
    net.train()
    while time.time() - start < seconds:
        if ema:
            done = min(1.0, (time.time() - start) / seconds)
            for group in opt.param_groups:
                group["lr"] = lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * done)))
        x, y = to_device(make_batch())
        loss = loss_fn(net, x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if ema:
            with torch.no_grad():
                for a, p in zip(average, net.parameters()):
                    a.mul_(ema).add_(p.detach(), alpha=1 - ema)
        step += 1
        avg = loss.item() if avg is None else 0.95 * avg + 0.05 * loss.item()
        if step % 20 == 0:
            print(f"  {label}: step {step:5d}  {time.time() - start:5.0f}s  loss {avg:.4f}", flush=True)
    if ema:
        with torch.no_grad():
            for a, p in zip(average, net.parameters()):
                p.copy_(a)
    net.eval()
    net.to("cpu")
    print(f"  {label}: {step} steps, final loss {avg:.4f}", flush=True)
    save_weights(net, name, label)
    return step


def save_bin(path, array):
    np.ascontiguousarray(array).tofile(path)


def export(name, module, example_inputs, manifest, rng_samples=None):
    if NO_EXPORT:
        return
    out = os.path.join(HERE, name)
    os.makedirs(os.path.join(out, "reference"), exist_ok=True)
    with torch.no_grad():
        traced = torch.jit.trace(module, example_inputs)
        path = os.path.join(out, "model.pt")
        traced.save(path)
        loaded = torch.jit.load(path)
        outputs = loaded(*example_inputs)
    if isinstance(outputs, torch.Tensor):
        outputs = [outputs]
    ref = {"inputs": [], "outputs": [], "tolerance": 1e-4}
    for i, t in enumerate(example_inputs):
        file = f"reference/input{i}.bin"
        save_bin(os.path.join(out, file), t.numpy())
        ref["inputs"].append({"file": file, "dtype": dtype_name(t), "shape": list(t.shape)})
    for i, t in enumerate(outputs):
        file = f"reference/output{i}.bin"
        save_bin(os.path.join(out, file), t.numpy())
        ref["outputs"].append({"file": file, "dtype": dtype_name(t), "shape": list(t.shape)})
    manifest["reference"] = ref
    manifest["file"] = "model.pt"
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    size = os.path.getsize(path)
    print(f"  {name}: wrote model.pt ({size / 1e6:.2f} MB), manifest.json, reference/", flush=True)
    assert size <= 5_000_000, "demo models must stay under 5 MB"


def dtype_name(t):
    return {torch.float32: "float32", torch.int64: "int64"}[t.dtype]


def export_segmentation(seconds):
    print("segmentation: training a UNet on phantoms", flush=True)
    rng = np.random.default_rng(1)
    torch.manual_seed(1)
    net = UNet()

    def batch():
        # The UNet is fully convolutional: train on 64x64 crops (4x cheaper steps) that
        # still hold whole organs' edges; inference runs on the full 128x128.
        xs, ys = [], []
        for _ in range(16):
            img, lab = segmentation_phantom(rng)
            y0, x0 = rng.integers(0, SEG_SIZE - 64, 2)
            xs.append(img[y0:y0 + 64, x0:x0 + 64])
            ys.append(lab[y0:y0 + 64, x0:x0 + 64])
        return torch.from_numpy(np.stack(xs))[:, None], torch.from_numpy(np.stack(ys))

    weights = torch.tensor([0.5, 1.0, 1.0, 1.0, 1.5])
    train(net, batch, lambda n, x, y: F.cross_entropy(n(x), y, weight=weights), seconds, 3e-3, "segmentation", "segmentation")
    x, _ = segmentation_phantom(np.random.default_rng(100))
    example = (torch.from_numpy(x)[None, None],)
    manifest = {
        "name": "segmentation", "version": "1.0.0", "task": "segmentation",
        "description": "Small UNet that labels organs in 128x128 CT-style phantoms (demo).",
        "inputs": [{"name": "image", "dtype": "float32", "shape": [-1, 1, SEG_SIZE, SEG_SIZE]}],
        "outputs": [{"name": "logits", "dtype": "float32", "shape": [-1, len(SEG_LABELS), SEG_SIZE, SEG_SIZE]}],
        "labels": SEG_LABELS,
        "preprocess": {"channels": 1, "height": SEG_SIZE, "width": SEG_SIZE, "mean": [0.0], "std": [1.0]},
        "postprocess": {"kind": "argmax", "minPixels": 8},
        "batch": {"maxBatchSize": 8, "maxQueueDelayMs": 5},
        "runtime": GPU_RUNTIME,
    }
    export("segmentation", net, example, manifest)


def export_classification(seconds):
    print("classification: training a CNN on synthetic X-rays", flush=True)
    rng = np.random.default_rng(2)
    torch.manual_seed(2)
    net = Classifier()

    def batch():
        fs = [random_findings(rng) for _ in range(16)]
        x = torch.from_numpy(np.stack([xray(rng, f) for f in fs]))[:, None]
        y = torch.tensor(fs, dtype=torch.float32)
        return x, y

    train(net, batch, lambda n, x, y: F.binary_cross_entropy_with_logits(n(x), y), seconds, 2e-3, "classification", "classification")
    model = WithSigmoid(net).eval()
    # Labelled samples for the tests: each finding present / absent, independent draws.
    out = os.path.join(HERE, "classification", "samples")
    os.makedirs(out, exist_ok=True)
    srng = np.random.default_rng(200)
    samples, correct, total = [], 0, 0
    for i in range(24):
        f = random_findings(srng)
        img = xray(srng, f)
        name = f"xray_{i:02d}.png"
        write_png(os.path.join(out, name), (img * 255 + 0.5).astype(np.uint8))
        with torch.no_grad():
            p = model(torch.from_numpy(img)[None, None])[0].tolist()
        correct += sum((pi > 0.5) == fi for pi, fi in zip(p, f))
        total += len(f)
        samples.append({"file": name, "findings": dict(zip(CLS_LABELS, f))})
    with open(os.path.join(out, "samples.json"), "w") as fh:
        json.dump(samples, fh, indent=2)
        fh.write("\n")
    print(f"  classification: sample accuracy {correct}/{total}", flush=True)
    example = (torch.from_numpy(xray(np.random.default_rng(101), [True, False, True]))[None, None],)
    manifest = {
        "name": "classification", "version": "1.0.0", "task": "classification",
        "description": "Small CNN: probability of each synthetic finding on a 224x224 X-ray (demo).",
        "inputs": [{"name": "image", "dtype": "float32", "shape": [-1, 1, CLS_SIZE, CLS_SIZE]}],
        "outputs": [{"name": "probabilities", "dtype": "float32", "shape": [-1, len(CLS_LABELS)]}],
        "labels": CLS_LABELS,
        "preprocess": {"channels": 1, "height": CLS_SIZE, "width": CLS_SIZE, "mean": [0.0], "std": [1.0]},
        "postprocess": {"kind": "sigmoid", "threshold": 0.5},
        "batch": {"maxBatchSize": 16, "maxQueueDelayMs": 5},
        "runtime": GPU_RUNTIME,
    }
    export("classification", model, example, manifest)


def diffusion_schedule():
    betas = torch.linspace(DIFF_BETA[0], DIFF_BETA[1], DIFF_T, dtype=torch.float64)
    return torch.cumprod(1 - betas, 0).to(torch.float32)


def ddim_sample(model, classes, guidance, steps, seed):
    """DDIM (eta 0) as the bridge runs it (tb_ddim_sample): x0 clipped to [-1, 1] and eps
    re-derived from it at every step. For the training report only; serving runs the bridge."""
    abar = diffusion_schedule().to(torch.float64)
    stride = DIFF_T // steps
    ts = [(steps - 1 - i) * stride for i in range(steps)]
    g = torch.Generator().manual_seed(seed)
    y = torch.tensor(classes, dtype=torch.int64)
    w = torch.full((len(classes),), guidance)
    x = torch.randn(len(classes), 3, DIFF_SIZE, DIFF_SIZE, generator=g)
    x0 = x
    with torch.no_grad():
        for i, t in enumerate(ts):
            a, prev = abar[t].item(), (abar[ts[i + 1]].item() if i + 1 < steps else 1.0)
            eps = model(x, torch.full((len(classes),), t, dtype=torch.int64), y, w)
            x0 = ((x - math.sqrt(1 - a) * eps) / math.sqrt(a)).clamp(-1, 1)
            eps = (x - math.sqrt(a) * x0) / math.sqrt(1 - a)
            x = math.sqrt(prev) * x0 + math.sqrt(1 - prev) * eps
    return x0


def export_diffusion(seconds):
    print("diffusion: training a class-conditional noise predictor on synthetic shapes", flush=True)
    rng = np.random.default_rng(3)
    torch.manual_seed(3)
    null = len(DIFF_LABELS)
    abar = diffusion_schedule()
    # A pool of images drawn once, flipped left-right at random: drawing them is slower than a GPU step.
    size = len(DIFF_LABELS) if {"diffusion", "judge"} <= LOAD_WEIGHTS.keys() else POOL
    labels = torch.arange(size) % len(DIFF_LABELS)
    pool = torch.from_numpy(np.stack([shape_image(rng, int(c)) for c in labels]))

    def draw(count):
        i = torch.randint(0, pool.shape[0], (count,))
        x0 = pool[i]
        return torch.where(torch.rand(count, 1, 1, 1) < 0.5, x0.flip(3), x0), labels[i]

    # The judge: a classifier of clean images (a little noise added so that a sample's grain
    # does not decide), trained first; it scores the samples below and in the C# tests.
    judge = ShapeJudge()

    def judge_batch():
        x, y = draw(64)
        return x + torch.randn_like(x) * torch.rand(64, 1, 1, 1) * 0.1, y

    # With --continue the committed judge is kept: it is the yardstick the tests hold samples to.
    train(judge, judge_batch, lambda n, x, y: F.cross_entropy(n(x), y), 0 if CONTINUE else min(seconds, 60), 2e-3,
          "judge", "judge",
          file="diffusion/judge.pt")
    held = np.random.default_rng(300)
    held_y = [i % len(DIFF_LABELS) for i in range(240)]
    with torch.no_grad():
        held_x = torch.from_numpy(np.stack([shape_image(held, c) for c in held_y]))
        judged = judge(held_x).argmax(1)
    print(f"  judge: {(judged == torch.tensor(held_y)).sum().item()}/240 held-out images named right", flush=True)

    net = Denoiser()

    def batch():
        x0, y = draw(BATCH)
        y = torch.where(torch.rand(BATCH) < 0.1, torch.full_like(y, null), y)  # learn "no class" too
        t = torch.randint(0, DIFF_T, (BATCH,))
        eps = torch.randn_like(x0)
        a = abar[t][:, None, None, None]
        return (a.sqrt() * x0 + (1 - a).sqrt() * eps, t, y), eps

    snr = abar / (1 - abar)

    def loss(n, x, eps):
        # Min-SNR-5 weighting (Hang et al. 2023): the nearly clean steps, which an eps loss
        # over-weights, count less; it converges several times faster on shapes like these.
        weight = (snr[x[1]].clamp(max=5.0) / snr[x[1]]).to(eps.device)
        return (weight[:, None, None, None] * (n(*x) - eps) ** 2).mean()

    train(net, batch, loss, seconds, LR or 2e-3, "diffusion", "diffusion", ema=0.999)
    model = Guided(net, null).eval()

    # The report: 4 samples per class at the default steps and guidance, named by the judge.
    classes = [c for c in range(len(DIFF_LABELS)) for _ in range(4)]
    samples = ddim_sample(model, classes, DIFF_GUIDANCE, 25, seed=7)
    with torch.no_grad():
        named = judge(samples).argmax(1)
    right = (named == torch.tensor(classes)).sum().item()
    print(f"  diffusion: the judge named {right}/{len(classes)} samples as their class (25 steps, guidance {DIFF_GUIDANCE})",
          flush=True)
    if NO_EXPORT:
        return
    grid = samples.reshape(len(DIFF_LABELS), 4, 3, DIFF_SIZE, DIFF_SIZE).permute(1, 3, 0, 4, 2)
    grid = grid.reshape(4 * DIFF_SIZE, len(DIFF_LABELS) * DIFF_SIZE, 3)
    write_png(os.path.join(HERE, "diffusion", "samples.png"), ((grid + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy())
    with torch.no_grad():
        torch.jit.trace(judge, (held_x[:1],)).save(os.path.join(HERE, "diffusion", "judge.pt"))

    g = torch.Generator().manual_seed(102)
    example = (torch.randn(1, 3, DIFF_SIZE, DIFF_SIZE, generator=g), torch.tensor([500], dtype=torch.int64),
               torch.tensor([4], dtype=torch.int64), torch.tensor([DIFF_GUIDANCE], dtype=torch.float32))
    manifest = {
        "name": "diffusion", "version": "2.0.0", "task": "diffusion",
        "description": "Class-conditional noise predictor with classifier-free guidance, sampled by DDIM on the "
                       "model's device: 64x64 RGB shapes, 'red circle' to 'yellow triangle' (demo).",
        "inputs": [{"name": "x", "dtype": "float32", "shape": [-1, 3, DIFF_SIZE, DIFF_SIZE]},
                   {"name": "t", "dtype": "int64", "shape": [-1]},
                   {"name": "class", "dtype": "int64", "shape": [-1]},
                   {"name": "guidance", "dtype": "float32", "shape": [-1]}],
        "outputs": [{"name": "eps", "dtype": "float32", "shape": [-1, 3, DIFF_SIZE, DIFF_SIZE]}],
        "labels": DIFF_LABELS,
        "preprocess": {"channels": 3, "height": DIFF_SIZE, "width": DIFF_SIZE, "mean": [0.0], "std": [1.0]},
        "postprocess": {"kind": "ddim", "timesteps": DIFF_T, "betaStart": DIFF_BETA[0], "betaEnd": DIFF_BETA[1],
                        "defaultSteps": 25, "maxSteps": 200, "guidance": DIFF_GUIDANCE, "maxGuidance": 10.0},
        "batch": {"maxBatchSize": 16, "maxQueueDelayMs": 2},
        "runtime": GPU_RUNTIME,
    }
    export("diffusion", model, example, manifest)


class Identity(torch.nn.Module):
    def forward(self, x):
        return x + 0.0  # a real op, so the output is a new tensor as with any model


def export_identity(seconds):
    """A tensor-in, tensor-out model that does no work: the cluster's overhead benchmark."""
    example = torch.arange(16, dtype=torch.float32).reshape(1, 1, 1, 16) / 16
    export("identity", Identity().eval(), (example,), {
        "name": "identity", "version": "1.0.0", "task": "tensor",
        "description": "Returns its input (1x1x16 float32): measures the cluster, not the model.",
        "inputs": [{"name": "x", "dtype": "float32", "shape": [-1, 1, 1, 16]}],
        "outputs": [{"name": "y", "dtype": "float32", "shape": [-1, 1, 1, 16]}],
        "labels": [],
        "preprocess": {"channels": 1, "height": 1, "width": 16, "mean": [0.0], "std": [1.0]},
        "postprocess": {"kind": "none"},
        "batch": {"maxBatchSize": 64, "maxQueueDelayMs": 1},
    })


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", choices=["segmentation", "classification", "diffusion", "identity"])
    p.add_argument("--seconds", type=float, default=90, help="training time per model")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--reuse", action="store_true", help="re-export the committed weights without training")
    p.add_argument("--device", default="cpu", help="train on this device (cuda on a GPU machine)")
    p.add_argument("--batch", type=int, default=32, help="diffusion training batch")
    p.add_argument("--pool", type=int, default=12000, help="diffusion training images drawn up front")
    p.add_argument("--lr", type=float, default=None, help="diffusion learning rate")
    p.add_argument("--save-weights", metavar="DIR", help="also write <model>.npz of the trained weights")
    p.add_argument("--load-weights", metavar="NPZ", nargs="*", default=[],
                   help="NAME=FILE.npz: skip training NAME, use these weights (trained elsewhere)")
    p.add_argument("--init-weights", metavar="NPZ", nargs="*", default=[],
                   help="NAME=FILE.npz: train NAME on from these weights (an earlier --save-weights)")
    p.add_argument("--continue", dest="cont", action="store_true",
                   help="train on from the committed weights (model.pt, judge.pt) instead of from scratch")
    p.add_argument("--no-export", action="store_true", help="train (and --save-weights) only")
    a = p.parse_args()
    global REUSE, CONTINUE, DEVICE, BATCH, POOL, LR, SAVE_WEIGHTS, LOAD_WEIGHTS, INIT_WEIGHTS, NO_EXPORT
    REUSE, CONTINUE, DEVICE, BATCH, POOL, LR = a.reuse, a.cont, a.device, a.batch, a.pool, a.lr
    SAVE_WEIGHTS, NO_EXPORT = a.save_weights, a.no_export
    LOAD_WEIGHTS = dict(w.split("=", 1) for w in a.load_weights)
    INIT_WEIGHTS = dict(w.split("=", 1) for w in a.init_weights)
    torch.set_num_threads(a.threads)
    if CONTINUE:
        # Fail before minutes of drawing and training if the committed files cannot be read here.
        for name in [a.only] if a.only else ["segmentation", "classification", "diffusion"]:
            for f in sorted(glob.glob(os.path.join(HERE, name, "*.pt"))):
                torch.jit.load(f, map_location="cpu")
                print(f"--continue: {os.path.relpath(f, HERE)} reads", flush=True)
    jobs = {"segmentation": export_segmentation, "classification": export_classification,
            "diffusion": export_diffusion, "identity": export_identity}
    for name, fn in jobs.items():
        if a.only in (None, name):
            fn(a.seconds)


if __name__ == "__main__":
    sys.exit(main())
