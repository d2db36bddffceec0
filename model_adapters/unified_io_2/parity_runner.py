"""Parity checks of the task-recipe layer: ``postprocessing.json`` (box, keypoint and location
read-back) and ``runner_end_to_end.json`` (TaskRunner calls on the kit's tiny model)."""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import numpy as np

from model_adapters.unified_io_2 import decoding as D
from model_adapters.unified_io_2 import preprocess as P
from model_adapters.unified_io_2 import runner as R
from model_adapters.unified_io_2.parity_cases import image_batch, load_image, text_batch
from model_adapters.unified_io_2.tokenizer import EOS_ID


def _image_file(kit: Path, short: str) -> str:
    hits = sorted(p.name for p in (kit / "images").glob(f"{short}_*"))
    if not hits:
        raise FileNotFoundError(f"{kit / 'images'}: no image for {short}")
    return f"images/{hits[0]}"


def _info(kit: Path, short: str | None):
    return None if short is None else P.image_info(load_image(kit, _image_file(kit, short)).shape)


def check_postprocessing(kit, case, rt, tok) -> list:
    data = json.loads((kit / case["file"]).read_text())
    out = []
    for i, e in enumerate(data.get("extract_labelled_boxes", [])):
        boxes, labels = R.extract_labelled_boxes(e["text"])
        out.append((f"labelled_boxes[{i}]", boxes.reshape(-1, 4), np.array(e["boxes_yxyx_01"]).reshape(-1, 4), 1e-4))
        out.append((f"labels[{i}]", np.array(labels), np.array(e["labels"]), None))
    for i, e in enumerate(data.get("extract_keypoints", [])):
        pts, invalid = R.extract_keypoints(e["text"], _info(kit, e.get("image_info_of")))
        exp = e["points_xy_vis"]
        out.append((f"keypoints[{i}]", np.array(-1.0 if pts is None else pts), np.array(-1.0 if exp is None else exp), 1e-4))
        out.append((f"keypoints_invalid[{i}]", np.array(invalid), np.array(e["invalid"]), None))
    for i, e in enumerate(data.get("extract_locations_from_token_ids", [])):
        got = R.extract_locations(e["tokens"])
        out.append((f"locations[{i}]", got.reshape(-1, 4), np.array(e["boxes_yxyx_01"]).reshape(-1, 4), 1e-4))
    if "token_to_float" in data:
        e = data["token_to_float"]
        out.append(("token_to_float", R.location_value(np.array(e["tokens"])), np.array(e["values"]), 1e-4))
    if "extra_id_to_float" in data:
        e = data["extra_id_to_float"]
        out.append(("extra_id_to_float", R.extra_id_value(np.array(e["extra_ids"])), np.array(e["values"]), 1e-4))
    for i, e in enumerate(data.get("undo_box_preprocessing", [])):
        info = np.array(e["image_info"], np.float32)
        got = R.undo_box_preprocessing(np.array(e["boxes_yxyx_384px"], np.float32), info)
        out.append((f"undo_box[{i}]", got, np.array(e["result_yxyx_original_px"]), 1e-4))
    for i, e in enumerate(data.get("refexp_token_conversion", [])):
        got = R.refexp_box(np.array(e["tokens"]), _info(kit, e["image_info_of"]))
        out.append((f"refexp_box[{i}]", np.array(-1.0 if got is None else got), np.array(e["box_xyxy_original_px"]), 1e-3))
    if "values_to_tokens" in data:
        e = data["values_to_tokens"]
        q = (np.array(e["values"], np.float32) * np.float32(P.NUM_BINS - 1)).astype(np.int32)
        got = np.vectorize(lambda v: f"<extra_id_{P.VOCAB_START + v}>")(q)
        out.append(("values_to_tokens", got, np.array(e["tokens"]), None))
    return out


def _encode_prompt(kit, rt, tok, prompt: str, short: str):
    tokens = np.array(tok.encode(prompt)[:511] + [EOS_ID], np.int32)
    return rt.encode(text_batch(tokens), image_batch([load_image(kit, _image_file(kit, short))]))


def check_runner(kit, case, rt, tok) -> list:
    out = []
    for i, e in enumerate(json.loads((kit / case["file"]).read_text())):
        call = e["call"]
        m = re.match(r"TaskRunner\.(\w+)\((img\d+)", call)
        if not m:
            raise ValueError(f"unrecognised runner call {call!r}")
        method, short = m.groups()
        info = _info(kit, short)
        enc = _encode_prompt(kit, rt, tok, e["prompt_used"], short)
        label = f"{i}:{method}"
        if method == "localization":
            thresh = float(re.search(r"thresh=([0-9.]+)", call).group(1))
            nms = float(re.search(r"nms=([0-9.]+)", call).group(1))
            g = rt.generate(*enc, "text", 256, D.Processors(location_threshold=thresh))
            got = R.boxes_from_tokens(g["tokens"][0, : int(g["steps"]) + 1], info, nms)
            out.append((label, got.reshape(-1, 4), np.array(e["result_boxes_xyxy"]).reshape(-1, 4), 1e-3))
        elif method == "keypoint_box":
            g = rt.generate(*enc, "text", 128, D.Processors(keypoint_schedule=R.keypoint_schedule(tok)))
            text = tok.decode(g["tokens"][0, : int(g["steps"]) + 1])
            pts, _ = R.extract_keypoints(text, info)
            out.append((label + " text", np.array(text), np.array(e["text"]), None))
            out.append((label, np.array(-1.0 if pts is None else pts), np.array(e["keypoints_xyv"]), 1e-3))
        elif method == "vqa":
            g = rt.generate(*enc, "text", 32)
            out.append((label, np.array(tok.decode(g["tokens"][0, : int(g["steps"]) + 1])), np.array(e["answer"]), None))
        elif method == "categorization":
            opts = ast.literal_eval(re.search(r"(\[.*\])", call).group(1))
            scores = rt.score(*enc, R.option_tokens(tok, opts))
            out.append((label, np.array(opts[int(np.argmin(scores))]), np.array(e["answer"]), None))
        elif method == "refexp":
            g = rt.generate(*enc, "text", 6)
            box = R.refexp_box(g["tokens"][0, : int(g["steps"]) + 1], info)
            if "error" in e:
                out.append((label + " raises", np.array(box is None), np.array(True), None))
            else:
                out.append((label, np.array(-1.0 if box is None else box), np.array(e["result_box_xyxy"]), 1e-3))
        else:
            raise ValueError(f"runner method {method!r} is not supported by this checker")
    return out
