"""``python3 -m model_adapters.unified_io_2.parity KIT_DIR --json REPORT.json``

Runs every case of ``KIT_DIR/cases.json`` with this implementation, using only the kit's files
(its ``model/`` folder, images and inputs), compares with the kit's expected arrays (tokens and
masks exact, floats at the case's suggested atol, encoder states on valid positions only),
prints one line per case and writes ``{"cases": {name: {"ok", "max_abs_diff", "n_compared"}}}``.
Exit status 0 only if every case passes; a case that cannot be run is reported as failed.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import traceback
from pathlib import Path

import numpy as np

PROG = "python3 -m model_adapters.unified_io_2.parity"


def compare(comparisons) -> tuple[bool, float, int, str]:
    ok, worst, n, why = True, 0.0, 0, ""
    for label, ours, exp, atol in comparisons:
        ours, exp = np.asarray(ours), np.asarray(exp)
        if ours.shape != exp.shape:
            return False, float("inf"), n, f"{label}: shape {ours.shape} != {exp.shape}"
        n += int(exp.size)
        if atol is None or exp.dtype.kind in "iubUS" and ours.dtype.kind in "iubUS":
            bad = int(np.sum(ours != exp))
            if exp.dtype.kind in "iub" and bad:
                worst = max(worst, float(np.max(np.abs(ours.astype(np.float64) - exp.astype(np.float64)))))
            if bad:
                ok, why = False, why or f"{label}: {bad} of {exp.size} differ"
        else:
            diff = float(np.max(np.abs(ours.astype(np.float64) - exp.astype(np.float64)))) if exp.size else 0.0
            worst = max(worst, diff)
            if not diff <= atol:
                ok, why = False, why or f"{label}: max diff {diff:.3g} > atol {atol:g}"
    return ok, worst, n, why


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    ap.add_argument("kit", type=Path)
    ap.add_argument("--json", type=Path, default=None, help="write the report here")
    ap.add_argument("--only", default=None, help="run only cases whose name contains this")
    args = ap.parse_args(argv)
    from model_adapters.unified_io_2.checkpoint import CheckpointError, load_checkpoint
    from model_adapters.unified_io_2.tokenizer import TokenizerError, UIO2Tokenizer
    kit = args.kit
    try:
        cases = json.loads((kit / "cases.json").read_text())["cases"]
        ck = load_checkpoint(kit / "model")
        tok = UIO2Tokenizer(next(iter(sorted((kit / "model").glob("*.model")))))
    except (OSError, KeyError, ValueError, StopIteration, CheckpointError, TokenizerError) as e:
        msg = str(e) if isinstance(e, (CheckpointError, TokenizerError)) else f"{kit}: not a parity kit ({e!r})"
        print(f"{PROG}: error: {msg}", file=sys.stderr)
        return 2
    from model_adapters.unified_io_2.parity_cases import CHECKERS
    from model_adapters.unified_io_2.parity_runner import check_postprocessing, check_runner
    from model_adapters.unified_io_2.runtime import UIO2Runtime
    rt = UIO2Runtime.from_checkpoint(ck)
    report: dict = {"cases": {}}
    for case in cases:
        name = case["name"]
        if args.only and args.only not in name:
            continue
        try:
            if name == "postprocessing":
                comps = check_postprocessing(kit, case, rt, tok)
            elif name == "runner_end_to_end":
                comps = check_runner(kit, case, rt, tok)
            else:
                fn = next((f for prefix, f in CHECKERS.items() if name.startswith(prefix)), None)
                if fn is None:
                    raise NotImplementedError(f"no checker for case {name!r}")
                with np.load(kit / case["file"]) as z:
                    comps = fn(kit, case, {k: z[k] for k in z.files}, rt, tok)
            ok, worst, n, why = compare(comps)
        except Exception as e:  # a case we cannot run fails, it is never skipped
            ok, worst, n, why = False, float("inf"), 0, f"could not run: {type(e).__name__}: {e}"
            if os.environ.get("UIO2_PARITY_DEBUG"):
                traceback.print_exc()
        report["cases"][name] = {"ok": bool(ok), "max_abs_diff": worst, "n_compared": n}
        print(f"{'PASS' if ok else 'FAIL'} {name}: max_abs_diff={worst:.3g} n={n}" + (f" ({why})" if why else ""))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=args.json.parent, prefix=".parity-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(report, f, indent=1, default=lambda x: None)
        os.replace(tmp, args.json)
    n_ok = sum(c["ok"] for c in report["cases"].values())
    print(f"{n_ok}/{len(report['cases'])} cases pass")
    return 0 if report["cases"] and n_ok == len(report["cases"]) else 1


if __name__ == "__main__":
    sys.exit(main())
