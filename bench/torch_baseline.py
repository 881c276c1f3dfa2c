#!/usr/bin/env python3
"""The Python baselines for bench/compare-bench.sh: the demo models as a Python server would run
them, PyTorch eager and torch.compile, same weights (read from models/<name>/model.pt), same
batch sizes, same precision as the manifest's runtime for the device, then one table.

    python3 bench/torch_baseline.py measure --device cuda --batches 1,8,32 --seconds 3 --json py.json
    python3 bench/torch_baseline.py table py.json ours.json > table.md

One measured call is what one request batch costs a server: the batch's input from host memory
to the device, the forward (for diffusion: every DDIM step of a Python loop), the output back
to host memory. Images/s = batch / mean call time; p50/p99 of the call time.
"""

import argparse
import json
import math
import os
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "models"))
import export  # noqa: E402  (the model classes the demo models were trained from)


def eager_module(name):
    """The nn.Module of a demo model with the weights of its TorchScript file."""
    with open(os.path.join(ROOT, "models", name, "manifest.json")) as f:
        manifest = json.load(f)
    if name == "segmentation":
        module = export.UNet()
    elif name == "classification":
        module = export.WithSigmoid(export.Classifier())
    elif name == "diffusion":
        module = export.Guided(export.Denoiser(), len(manifest["labels"]))
    else:
        raise SystemExit(f"no eager definition for {name}")
    state = torch.jit.load(os.path.join(ROOT, "models", name, manifest.get("file", "model.pt"))).state_dict()
    module.load_state_dict(state)
    return module.eval(), manifest


def precision_of(manifest, device):
    kind = "cuda" if device.startswith("cuda") else "cpu"
    return manifest.get("runtime", {}).get(kind, {}).get("precision", "fp32")


def prepare(module, precision, device, channels_last=False):
    """The module and a context for one call at `precision`, as the bridge runs it."""
    module = module.to(device)
    if channels_last:
        module = module.to(memory_format=torch.channels_last)
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
        torch.backends.cudnn.allow_tf32 = precision == "tf32"
    cast = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    if cast is not None:
        module = module.to(cast)
    auto = {"bf16-autocast": torch.bfloat16, "fp16-autocast": torch.float16}.get(precision)
    kind = "cuda" if device.startswith("cuda") else "cpu"

    def context():
        return torch.autocast(kind, dtype=auto) if auto is not None else torch.autocast(kind, enabled=False)

    return module, cast, context


def ddim(model, x, y, w, steps, abar, context, cast):
    """DDIM eta 0 as the bridge runs it; the Python loop a Python server would run."""
    stride = len(abar) // steps
    ts = [(steps - 1 - i) * stride for i in range(steps)]
    x0 = x
    for i, t in enumerate(ts):
        a = abar[t]
        prev = abar[ts[i + 1]] if i + 1 < steps else 1.0
        tt = torch.full((x.shape[0],), t, dtype=torch.int64, device=x.device)
        with context():
            eps = model(x.to(cast) if cast else x, tt, y, w).float()
        x0 = ((x - math.sqrt(1 - a) * eps) / math.sqrt(a)).clamp(-1, 1)
        eps = (x - math.sqrt(a) * x0) / math.sqrt(1 - a)
        x = math.sqrt(prev) * x0 + math.sqrt(1 - prev) * eps
    return x0


def measure(a):
    """Every model eager first (the baseline the table needs most), then torch.compile while the
    --budget lasts. A model that fails in one runtime is reported and the rest still run; the
    JSON is rewritten after every row, so a run cut short leaves what it measured."""
    compile_ok = hasattr(torch, "compile")
    device = a.device
    runtimes = ["pytorch-eager"] + (["torch.compile"] if compile_ok and not a.no_compile else [])
    result = {"torch": torch.__version__, "device": device, "threads": torch.get_num_threads(),
              "gpu": torch.cuda.get_device_name(0) if device.startswith("cuda") else None,
              "compile": compile_ok and not a.no_compile,
              "compile_missing": None if compile_ok else f"torch {torch.__version__} has no torch.compile (2.0+)",
              "rows": [], "failed": {}, "skipped": {}}

    def save():
        # Whole or not at all: a run killed while writing keeps the previous version.
        with open(a.json + ".part", "w") as f:
            json.dump(result, f, indent=1)
        os.replace(a.json + ".part", a.json)

    begin = time.time()
    save()
    for runtime in runtimes:
        for name in a.models.split(","):
            where = f"{name} {runtime}"
            batches = [int(b) for b in (a.diffusion_batches if name == "diffusion" else a.batches).split(",")]
            try:
                module, manifest = eager_module(name)
                precision = a.precision or precision_of(manifest, device)
                model, cast, context = prepare(module, precision, device, a.channels_last)
                if runtime == "torch.compile":
                    model = torch.compile(model)
                for batch in batches:
                    if runtime != "pytorch-eager" and a.budget and time.time() - begin > a.budget:
                        result["skipped"][f"{where} batch {batch}"] = f"past the {a.budget:.0f} s budget"
                        print(f"{where} batch {batch}: skipped, past the {a.budget:.0f} s budget", flush=True)
                        continue
                    call = make_call(name, manifest, model, cast, context, batch, device, a.steps, a.channels_last)
                    row = measure_one(call, a)
                    row.update({"model": name, "batch": batch, "runtime": runtime, "precision": precision,
                                "device": device, "steps": a.steps if name == "diffusion" else None})
                    row["images_per_s"] = batch * row["calls"] / row.pop("total_s")
                    result["rows"].append(row)
                    save()
                    print(f"{name:15s} {runtime:14s} {precision:14s} batch {batch:3d}: {row['images_per_s']:9.1f} img/s  "
                          f"p50 {row['p50_ms']:8.2f} ms  p99 {row['p99_ms']:8.2f} ms  (first call {row['first_call_s']:.1f} s)",
                          flush=True)
            except Exception as e:  # noqa: BLE001  (any failure of one model/runtime: reported, the rest go on)
                lines = str(e).strip().splitlines() or [""]
                result["failed"][where] = f"{type(e).__name__}: {lines[-1][:300]}"
                print(f"{where}: failed: {result['failed'][where]}", flush=True)
                save()


def measure_one(call, a):
    """The first call (a compile, for torch.compile), --warmup seconds, then --seconds measured."""
    start = time.time()
    with torch.inference_mode():
        call()
        first = time.time() - start
        while time.time() - start < first + a.warmup:
            call()
        times = []
        begin = time.time()
        while time.time() - begin < a.seconds or len(times) < 5:
            t0 = time.perf_counter()
            call()
            times.append(time.perf_counter() - t0)
    times.sort()
    return {"p50_ms": 1000 * times[len(times) // 2],
            "p99_ms": 1000 * times[min(len(times) - 1, int(0.99 * (len(times) - 1) + 0.5))],
            "first_call_s": first, "calls": len(times), "total_s": sum(times)}


def make_call(name, manifest, model, cast, context, batch, device, steps, channels_last=False):
    shape = manifest["inputs"][0]["shape"][1:]
    g = torch.Generator().manual_seed(batch)
    host = torch.rand(batch, *shape, generator=g)
    if name == "diffusion":
        abar = export.diffusion_schedule().to(torch.float64).tolist()
        labels = len(manifest["labels"])
        y = torch.randint(0, labels, (batch,), generator=g).to(device)
        w = torch.full((batch,), manifest["postprocess"].get("guidance", 3.0), device=device)
        host = torch.randn(batch, *shape, generator=g)

        def call():
            return ddim(model, host.to(device), y, w, steps, abar, context, cast).cpu()
        return call

    def call():
        x = host.to(device)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with context():
            out = model(x.to(cast) if cast else x)
        return out.float().cpu()
    return call


def table(a):
    def read(path, what):
        # A run cut short may leave one side unwritten: the table shows the other side.
        try:
            with open(path) as f:
                return json.load(f)
        except (OSError, ValueError) as e:
            print(f"({what} results not read: {e})")
            return {"torch": "?", "bridge": "?", "threads": "?", "device": "?", "rows": []}

    py = read(a.python, "Python")
    ours = read(a.ours, "our")
    key = lambda r: (r["model"], r["batch"])  # noqa: E731
    by = {}
    for r in py["rows"]:
        by.setdefault(key(r), {})[r["runtime"]] = r
    for r in ours["rows"]:
        by.setdefault(key(r), {})[r["runtime"]] = r

    # A row loaded with fewer of the requested settings than the others (its refusal is in the header) says so.
    any_graphs = any(r.get("cuda_graphs") for r in ours["rows"])
    any_frozen = any(r.get("frozen") for r in ours["rows"])

    def cell(r):
        if r is None:
            return "—"
        less = [w for w, on, want in (("not frozen", r.get("frozen"), any_frozen), ("no graphs", r.get("cuda_graphs"), any_graphs))
                if r["runtime"].startswith("ours") and want and not on]
        return f"{r['images_per_s']:.1f} ({r['p50_ms']:.2f} / {r['p99_ms']:.2f})" + (f" ({', '.join(less)})" if less else "")

    def ratio(a_, b_):
        return "—" if a_ is None or b_ is None else f"**{a_['images_per_s'] / b_['images_per_s']:.2f}**"

    gpu = py.get("gpu") or ("CPU" if py["device"] == "cpu" else "?")
    graphs = [r for r in ours["rows"] if r.get("cuda_graphs")]
    failed = sorted({r["graph_failure"] for r in graphs if r.get("graph_failure")})
    print(f"Device {py['device']} ({gpu}); PyTorch {py['torch']}, {py['threads']} threads; ours: libtorch {ours['torch']}, "
          f"bridge {ours['bridge']}, {ours['threads']} threads"
          + (f", CUDA graphs ({max(r['graphs'] for r in graphs)} captured at most per model)" if graphs else "") + "."
          + (f" Graph captures that failed (those shapes ran eagerly): {'; '.join(failed)}." if failed else "")
          + (" Frozen for inference (ours)." if any(r.get("frozen") for r in ours["rows"]) else "")
          + "".join(f" Not loaded (ours): {k}: {v}." for k, v in (ours.get("not_loaded") or {}).items())
          + "".join(f" Failed (ours): {k}: {v}." for k, v in (ours.get("failed") or {}).items())
          + (f" torch.compile: {py['compile_missing']}." if py.get("compile_missing") else "")
          + "".join(f" Failed (Python): {k}: {v}." for k, v in (py.get("failed") or {}).items())
          + (f" Not measured (Python, time budget): {', '.join(py['skipped'])}." if py.get("skipped") else ""))
    print()
    print("Cells: images/s (p50 / p99 ms of one batch's call; for the batcher, of one request). "
          "Diffusion: one image = a whole DDIM run of "
          f"{next((r['steps'] for r in py['rows'] + ours['rows'] if r.get('steps')), '-')} steps with guidance.")
    print()
    print("| model | precision | batch | PyTorch eager | torch.compile | ours direct | ours batcher | direct / eager | batcher / eager | direct / compile |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for (model, batch) in sorted(by):
        c = by[(model, batch)]
        eager, comp = c.get("pytorch-eager"), c.get("torch.compile")
        direct, batcher = c.get("ours-direct"), c.get("ours-batcher")
        precision = (eager or direct or {}).get("precision", "")
        print(f"| {model} | {precision} | {batch} | {cell(eager)} | {cell(comp)} | {cell(direct)} | {cell(batcher)} | "
              f"{ratio(direct, eager)} | {ratio(batcher, eager)} | {ratio(direct, comp)} |")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--device", default="cpu")
    m.add_argument("--models", default="segmentation,classification,diffusion")
    m.add_argument("--batches", default="1,8,32")
    m.add_argument("--diffusion-batches", default="1,16")
    m.add_argument("--steps", type=int, default=25)
    m.add_argument("--seconds", type=float, default=3)
    m.add_argument("--warmup", type=float, default=1)
    m.add_argument("--threads", type=int, default=0)
    m.add_argument("--no-compile", action="store_true")
    m.add_argument("--budget", type=float, default=0,
                   help="seconds after which no more torch.compile rows start (0: no limit)")
    m.add_argument("--precision", help="instead of the manifest's runtime precision for the device")
    m.add_argument("--channels-last", action="store_true")
    m.add_argument("--json", required=True)
    t = sub.add_parser("table")
    t.add_argument("python")
    t.add_argument("ours")
    a = p.parse_args()
    if a.cmd == "measure":
        # As ours: --threads, else one per logical CPU (torch's own default counts physical cores).
        torch.set_num_threads(a.threads if a.threads > 0 else os.cpu_count())
        measure(a)
    else:
        table(a)


if __name__ == "__main__":
    main()
