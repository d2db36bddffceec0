"""Peak host memory while loading a Unified-IO 2 checkpoint in the released format.

    python benchmarks/uio2_load_memory.py [--emb 512 --layers 6] [--dtype float32|bfloat16]

Writes random weights of a mid-size config as ``pytorch_model.bin`` (torch's zip layout, our
writer), then, in a fresh process, loads it (restricted unpickler, memory-mapped storages, name
and shape checks) and moves every tensor to the jax device one by one, as the adapter does.
A sampling thread reads /proc/self/status every 5 ms: RssAnon (private memory: the real cost)
and RssFile (pages of the memory-mapped file, clean page cache the kernel can drop). Prints
both peaks minus the baseline after imports, as ratios of the file size; the target is ~1.2x.
On CPU the jax "device" is host memory, so the loaded model itself (1x) is part of RssAnon.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import sys, threading, time, json
import numpy as np, jax, jax.numpy as jnp
from model_adapters.unified_io_2.checkpoint import load_checkpoint
def rss():
    out = {}
    for line in open('/proc/self/status'):
        if line.startswith(('RssAnon', 'RssFile')):
            k, v = line.split(':'); out[k] = int(v.split()[0]) * 1024
    return out
jnp.zeros(1).block_until_ready()
base = rss(); peak = dict(base); stop = False
def sample():
    while not stop:
        for k, v in rss().items(): peak[k] = max(peak[k], v)
        time.sleep(0.005)
t = threading.Thread(target=sample); t.start()
t0 = time.perf_counter()
ck = load_checkpoint(sys.argv[1])
device = {}
for name in list(ck.params):
    device[name] = jax.device_put(np.asarray(ck.params.pop(name)))
    device[name].block_until_ready()
secs = time.perf_counter() - t0
stop = True; t.join()
print(json.dumps({"anon": peak['RssAnon'] - base['RssAnon'], "file": peak['RssFile'] - base['RssFile'], "secs": secs}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--emb", type=int, default=512)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    args = ap.parse_args()
    import ml_dtypes
    import numpy as np

    from model_adapters.unified_io_2.checkpoint_torch import write_torch_zip
    from model_adapters.unified_io_2.config import config_from_dict
    from model_adapters.unified_io_2.presets import preset, random_params

    raw = json.loads(json.dumps(preset("large").raw))
    raw["t5_config"].update(emb_dim=args.emb, num_heads=args.emb // 64, head_dim=64, mlp_dim=args.emb * 11 // 4,
                            num_encoder_layers=args.layers, num_decoder_layers=args.layers)
    cfg = config_from_dict(raw)
    params = random_params(cfg)
    if args.dtype == "bfloat16":  # like the -bfloat16 releases: 2+-dim tensors in bf16
        params = {k: (v.astype(ml_dtypes.bfloat16) if v.ndim >= 2 else v) for k, v in params.items()}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "config.json").write_text(json.dumps(raw))
        write_torch_zip(params, folder / "pytorch_model.bin")
        del params
        size = (folder / "pytorch_model.bin").stat().st_size
        out = subprocess.run([sys.executable, "-c", CHILD, str(folder)], capture_output=True, text=True, check=True)
        res = json.loads(out.stdout.strip().splitlines()[-1])
    mb = 1 / 2**20
    print(f"checkpoint {size * mb:.0f} MB ({args.dtype}, emb {args.emb}, {args.layers}+{args.layers} layers), "
          f"load + device_put {res['secs']:.1f} s")
    print(f"  peak private memory (RssAnon) +{res['anon'] * mb:.0f} MB = x{res['anon'] / size:.2f} of the file")
    print(f"  peak mapped file pages (RssFile) +{res['file'] * mb:.0f} MB = x{res['file'] / size:.2f} (page cache, droppable)")


if __name__ == "__main__":
    main()
