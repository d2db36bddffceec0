"""One checker per kind of parity case; each returns the comparisons it made.

A comparison is (label, ours, expected, atol or None for exact). Everything is recomputed from
the kit's own files: the model folder, the images, and the case inputs in cases.json.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image

from model_adapters.unified_io_2 import decoding as D
from model_adapters.unified_io_2 import preprocess as P
from model_adapters.unified_io_2.runner import KEYPOINT_PARTS, keypoint_schedule

Comparison = tuple[str, np.ndarray, np.ndarray, "float | None"]


def tolerance(case: dict, default: float = 1e-4) -> float:
    """The first ``atol X`` in the case's suggested tolerance (a string or a dict of strings)."""
    tol = case.get("suggested_tolerance")
    text = " ".join(tol.values()) if isinstance(tol, dict) else str(tol or "")
    m = re.search(r"atol\s*([0-9.eE+-]+)", text)
    return float(m.group(1)) if m else default


def load_image(kit: Path, rel: str) -> np.ndarray:
    return np.asarray(Image.open(kit / rel).convert("RGB"))


def text_batch(tokens: np.ndarray) -> dict:
    tokens = np.asarray(tokens, np.int32).reshape(1, -1) if tokens.ndim == 1 else np.asarray(tokens, np.int32)
    pos = np.broadcast_to(np.arange(tokens.shape[1], dtype=np.int32), tokens.shape)
    return {"tokens": tokens, "mask": (tokens > 0).astype(np.int32), "pos_ids": np.array(pos)}


def image_batch(images: list[np.ndarray]) -> dict:
    feats = [P.image_input(im) for im in images]
    return {k: np.stack([f[k] for f in feats]) for k in ("input", "mask", "pos_ids")}


def check_preprocess(kit, case, z, rt, tok) -> list[Comparison]:
    inp, atol = case["inputs"], 1e-4
    img = load_image(kit, inp["image_file"])
    ii, tt = P.image_input(img), P.image_target(img)
    out = [("image_uint8", img, z["image_uint8"], None),
           ("resized_image_01", ii["resized"], z["resized_image_01"], 1e-5),
           ("pixel_mask", ii["pixel_mask"], z["pixel_mask"], None),
           ("image_info", ii["image_info"], z["image_info"], None),
           ("normalized_image", ii["normalized"], z["normalized_image"], atol),
           ("inputs/image/input", ii["input"], z["inputs__image__input"], atol),
           ("inputs/image/mask", ii["mask"], z["inputs__image__mask"], None),
           ("inputs/image/pos_ids", ii["pos_ids"], z["inputs__image__pos_ids"], None),
           ("meta/image_info", ii["image_info"], z["meta__image_info"], None),
           ("inputs/text/tokens", tok.encode_input(inp["text_inputs"]), z["inputs__text__tokens"], None),
           ("target_resized_256", tt["resized"], z["target_resized_image_01_256"], 1e-5),
           ("target_pixel_mask_256", tt["pixel_mask"], z["target_pixel_mask_256"], None),
           ("target_image_info_256", tt["image_info"], z["target_image_info_256"], None)]
    box = np.asarray(inp["box_xyxy"], np.float32)
    out.append(("box_yxyx_384px", P.box_to_input_space(box, ii["image_info"])[None], z["box_yxyx_resized_384px"], atol))
    prompt = inp["box_prompt"].replace("{box}", P.box_tokens(box, ii["image_info"]))
    out.append(("box_text_tokens", tok.encode_input(prompt), z["box_text_tokens_ids"], None))
    return out


def _encode_case(kit, case, z, rt):
    text = {"tokens": z["inputs__text__tokens"], "mask": z["inputs__text__mask"],
            "pos_ids": z["inputs__text__pos_ids"]} if "inputs__text__mask" in z else text_batch(z["inputs__text__tokens"])
    image = None
    if "inputs__image__input" in z:
        image = {"input": z["inputs__image__input"], "mask": z["inputs__image__mask"],
                 "pos_ids": z["inputs__image__pos_ids"]}
    elif isinstance(case["inputs"], dict) and case["inputs"].get("image"):
        image = image_batch([load_image(kit, case["inputs"]["image"])])
    return rt.encode(text, image)


def check_forward(kit, case, z, rt, tok) -> list[Comparison]:
    atol = tolerance(case)
    enc, mask, rope = _encode_case(kit, case, z, rt)
    out = []
    if "input_seq_mask" in z:
        out.append(("input_seq_mask", np.asarray(mask), z["input_seq_mask"], None))
    if "encoder_hidden" in z:
        valid = np.asarray(mask) > 0
        out.append(("encoder_hidden[valid]", np.asarray(enc)[valid], z["encoder_hidden"][valid], atol))
    if "text_logits" in z:
        seg = z["targets__text__segment_ids"] if "targets__text__segment_ids" in z else None
        lg = rt.forward_logits(enc, mask, rope, "text", z["targets__text__inputs"], z["targets__text__mask"],
                               z["targets__text__pos_ids"], seg)
        out.append(("text_logits", lg, z["text_logits"], atol))
    if "image_logits" in z:
        codes = rt.image_codes(z["targets__image__image"])
        out.append(("vqgan_codes", codes, z["vqgan_codes"], None))
        tgt = codes + 2
        inputs = np.concatenate([np.zeros((tgt.shape[0], 1), np.int32), tgt[:, :-1]], 1)
        pos = np.broadcast_to(np.arange(tgt.shape[1], dtype=np.int32), tgt.shape)
        lg = rt.forward_logits(enc, mask, rope, "image", inputs, z["targets__image__mask"], np.array(pos))
        out += [("image_target_tokens", tgt, z["image_target_tokens"], None), ("image_logits", lg, z["image_logits"], atol)]
    return out


def processors_for(desc: str | None, tok, n_prompt_rows: int = 1) -> D.Processors:
    desc = desc or ""
    if "ForceKeypointPrediction" in desc:
        return D.Processors(keypoint_schedule=keypoint_schedule(tok))
    m = re.search(r"PredictBoxesPreprocessor\(thresh=([0-9.]+)", desc)
    if m:
        return D.Processors(location_threshold=float(m.group(1)), require_one_box="require_one_box=True" in desc)
    return D.Processors()


def check_generate_text(kit, case, z, rt, tok) -> list[Comparison]:
    inp = case["inputs"]
    enc, mask, rope = _encode_case(kit, case, z, rt)
    out = rt.generate(enc, mask, rope, "text", int(inp["max_new_tokens"]),
                      processors_for(inp.get("logits_processor"), tok))
    n = int(out["steps"])
    exp = z["output_tokens"]
    got = out["tokens"][0, : n + 1]
    res = [("output_tokens", got, exp, None)]
    if got.shape == exp.shape:
        res.append(("step_top5_scores", out["top_scores"][:n, 0], z["step_top5_scores"], 1e-4))
    return res


def check_vqgan(kit, case, z, rt, tok) -> list[Comparison]:
    atol = tolerance(case)
    return [("decoded_raw", rt.decode_raw(z["codes"]), z["decoded_raw"], atol),
            ("image_01_hwc", rt.decode_image(z["codes"]), z["image_01_hwc"], atol)]


def check_generate_image(kit, case, z, rt, tok) -> list[Comparison]:
    inp = case["inputs"]
    rows = [tok.encode_input(inp["text_inputs"], "image")]
    guidance = None
    if inp.get("negative_prompt"):
        rows.append(tok.encode_input(inp["negative_prompt"], "image"))
        guidance = float(inp["guidance_scale"])
    width = max(len(r) for r in rows)
    tokens = np.stack([np.pad(r, (0, width - len(r))) for r in rows])
    res = []
    if "inputs__text__tokens" in z:
        res.append(("inputs/text/tokens", rows[0], np.asarray(z["inputs__text__tokens"]).reshape(-1), None))
    enc, mask, rope = rt.encode(text_batch(tokens), None)
    n_codes = case_image_codes(rt)
    desc = str(inp.get("logits_processor"))
    # the kit's own processor (not the port's) keeps a random model from ending an image early
    suppress = (0, 1) if ("-1e4" in desc or "SuppressStartAndMask" in desc) else ()
    procs = D.Processors(suppress_ids=suppress, guidance=guidance)
    out = rt.generate(enc, mask, rope, "image", n_codes, procs, top_k=3)
    seq = out["tokens"][:1]
    res.append(("sequences", seq, z["sequences"], None))
    img = rt.decode_image(np.asarray(seq[:, 1:]) - 2)
    res.append(("image_01_hwc", img, z["image_01_hwc"], 1e-4))
    if "step_top3_scores" in z:
        res.append(("step_top3_scores", out["top_scores"][:, 0], z["step_top3_scores"], 1e-4))
    return res


def case_image_codes(rt) -> int:
    g = rt.cfg.target_grid
    return g[0] * g[1]


def check_score(kit, case, z, rt, tok) -> list[Comparison]:
    enc, mask, rope = _encode_case(kit, case, z, rt)
    from model_adapters.unified_io_2.runner import option_tokens
    opts = option_tokens(tok, case["inputs"]["options"])
    scores = rt.score(enc, mask, rope, opts)
    return [("option_tokens", opts, z["option_tokens"], None),
            ("scores", scores, z["scores"], tolerance(case, 1e-5)),
            ("argmin", np.array(np.argmin(scores)), z["argmin"], None)]


CHECKERS = {
    "preprocess_": check_preprocess,
    "forward_": check_forward,
    "generate_text_": check_generate_text,
    "vqgan_decode": check_vqgan,
    "generate_image_": check_generate_image,
    "score_options_": check_score,
}
