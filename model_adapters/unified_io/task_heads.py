"""Per-task inference of the Unified-IO GRIT adapter (UNIFIED_IO.md section 6).

Each function takes the loaded model, the tokenizer, a ``Batch`` of preprocessed requests and
the adapter's options, and returns one ``(output, confidence, artifacts, trace)`` per request.
The trace (``Prediction.trace``, the run's per-sample log) holds what the model saw and said,
taken from arrays already on the host: ``prompt``; for generated text ``raw`` (the decoded text
before post-processing, special tokens kept) and ``tokens`` (ids through the first EOS);
for option scoring ``option_scores`` (total NLL per option, in ``request.output_options``
order, lower is better); for images ``tokens`` (the 256 generated codes); for keypoints the
person localization's fields plus ``people`` (one ``{prompt, raw, tokens}`` per box).
Confidences [inferred] (the reference keeps none): text and boxes = probability of the decoded
sequence through EOS; categorization = softmax over the options' negative total NLL; images
(segmentation, normals) = exp(mean per-code log-prob); keypoint = the confidence of the
"person" localization that proposed the boxes.

Per-dataset tasks (issue 6): captioning (greedy text, 32 tokens, the caption prompt),
classification (answer-option scoring over the whole class list with the tagging prompt
``What is this in the image ?`` **[inferred]**: the paper names no ImageNet / Places prompt) and
depth (image generation with the depth prompt; decoding **[inferred]**, see
:func:`answer_depth`). RefCOCO, VQAv2, COCO keypoints and NYUv2 normals reuse the GRIT heads.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from grit_eval.types import Request
from grit_eval.formats import depth_file_name, depth_png_bytes, mask_rle, normal_file_name, png_bytes
from model_adapters.unified_io import confidence, postprocess, prompts, vocab

Answer = tuple[dict, float, dict[str, bytes], dict]


def _through_eos(ids: np.ndarray) -> np.ndarray:
    """A generated row's ids up to and including its first EOS (a copy, not a view)."""
    ends = np.flatnonzero(ids == vocab.EOS_ID)
    return np.array(ids[: ends[0] + 1] if ends.size else ids)


def _text_trace(prompt: str, ids: np.ndarray, tokenizer, raw: str | None = None) -> dict:
    if raw is None:
        raw = postprocess.decode_text(ids, tokenizer)
    return {"prompt": prompt, "raw": raw, "tokens": _through_eos(ids)}


@dataclass
class Batch:
    """Requests of one task with their encoder inputs.

    Attributes:
        requests: the requests, in order.
        images: float32 [B, 384, 384, 3] preprocessed; masks: int32 [B, 576].
        sizes: (width, height) of each original image.
    """

    requests: Sequence[Request]
    images: np.ndarray
    masks: np.ndarray
    sizes: list[tuple[int, int]]


def _generate(model, tokenizer, batch: Batch, texts: list[str], max_length: int,
              rows: np.ndarray | None = None):
    ids = tokenizer.encode_batch(texts)
    images, masks = batch.images, batch.masks
    if rows is not None:
        images, masks = images[rows], masks[rows]
    return model.generate_text(ids, images, masks, max_length, greedy=True, return_logprobs=True)


def _prompts(task: str, batch: Batch, prompt_set, **kw) -> list[str]:
    return [prompts.build_prompt(task, r, prompt_set=prompt_set, image_wh=wh, **kw)
            for r, wh in zip(batch.requests, batch.sizes)]


def answer_boxes(model, tokenizer, batch: Batch, prompt_set, options: dict) -> list[Answer]:
    """Localization and refexp: decoded location groups -> xyxy boxes in pixels."""
    task = batch.requests[0].task
    length = options["box_max_length"] if task == "localization" else options["text_max_length"]
    texts = _prompts(task, batch, prompt_set)
    ids, logprobs = _generate(model, tokenizer, batch, texts, length)
    conf = confidence.text_confidence(ids, logprobs)
    return [({"bboxes": postprocess.decode_boxes(ids[i], wh).round(2).tolist()}, float(conf[i]), {},
             _text_trace(texts[i], ids[i], tokenizer))
            for i, wh in enumerate(batch.sizes)]


def answer_vqa(model, tokenizer, batch: Batch, prompt_set, options: dict) -> list[Answer]:
    texts = _prompts("vqa", batch, prompt_set)
    ids, logprobs = _generate(model, tokenizer, batch, texts, options["text_max_length"])
    return _text_answers(tokenizer, texts, ids, logprobs)


def _text_answers(tokenizer, texts: list[str], ids: np.ndarray, logprobs: np.ndarray) -> list[Answer]:
    """Free-form text: the decoded answer, stripped."""
    conf = confidence.text_confidence(ids, logprobs)
    raw = [postprocess.decode_text(row, tokenizer) for row in ids]
    return [({"words": raw[i].strip()}, float(conf[i]), {}, _text_trace(texts[i], ids[i], tokenizer, raw[i]))
            for i in range(len(texts))]


def pick_options(model, tokenizer, batch: Batch, texts: list[str], what: str) -> list[Answer]:
    """Answer-option scoring: each request's lowest-total-NLL option, confidence softmax(-NLL).

    Options are tokenised once per distinct option list, and the requests sharing a list are
    scored in one ``score_options`` call (which buckets the option count and length).
    """
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, request in enumerate(batch.requests):
        if not request.output_options:
            raise ValueError(f"{what} request without output options")
        groups.setdefault(tuple(request.output_options), []).append(i)
    out: list[Answer | None] = [None] * len(batch.requests)
    for names, rows in groups.items():
        encoded = [tokenizer.encode(name) for name in names]
        grid = np.zeros((len(rows), len(names), max(len(e) for e in encoded)), np.int32)
        for k, e in enumerate(encoded):
            grid[:, k, :len(e)] = e
        ids = tokenizer.encode_batch([texts[i] for i in rows])
        nll = model.score_options(ids, batch.images[rows], batch.masks[rows], grid)
        best, conf = confidence.option_confidence(nll)
        for j, i in enumerate(rows):
            out[i] = ({"words": names[int(best[j])]}, float(conf[j]), {},
                      {"prompt": texts[i], "option_scores": np.array(nll[j])})
    return out


def answer_categorization(model, tokenizer, batch: Batch, prompt_set, options: dict) -> list[Answer]:
    """GRIT categorization: option scoring over each sample's own option list."""
    return pick_options(model, tokenizer, batch, _prompts("categorization", batch, prompt_set),
                        "categorization")


def _images(model, tokenizer, batch: Batch, texts: list[str], options: dict):
    ids = tokenizer.encode_batch(texts)
    codes, logprobs = model.generate_image(ids, batch.images, batch.masks,
                                           greedy=options["greedy_images"], return_logprobs=True,
                                           seed=options["seed"])
    raw = model.decode_image_codes(codes)
    # The reference's image = clip((x + 1) / 2, 0, 1); uint8 by truncation.
    pixels = (np.clip((raw + 1.0) / 2.0, 0.0, 1.0) * 255).astype(np.uint8)
    traces = [{"prompt": text, "tokens": np.array(row)} for text, row in zip(texts, codes)]
    return pixels, confidence.image_confidence(logprobs), traces


def answer_segmentation(model, tokenizer, batch: Batch, prompt_set, options: dict) -> list[Answer]:
    pixels, conf, traces = _images(model, tokenizer, batch, _prompts("segmentation", batch, prompt_set),
                                   options)
    out = []
    for i, (w, h) in enumerate(batch.sizes):
        masks = postprocess.masks_to_original(postprocess.segmentation_masks(pixels[i]), (h, w))
        out.append(({"masks": [mask_rle(m) for m in masks if m.any()]}, float(conf[i]), {}, traces[i]))
    return out


def answer_normal(model, tokenizer, batch: Batch, prompt_set, options: dict) -> list[Answer]:
    pixels, conf, traces = _images(model, tokenizer, batch, _prompts("normal", batch, prompt_set), options)
    out = []
    for i, ((w, h), request) in enumerate(zip(batch.sizes, batch.requests)):
        rgb = postprocess.normal_image_to_original(pixels[i], (h, w))
        name = normal_file_name(request.example_id)
        out.append(({"normal": name}, float(conf[i]), {name: png_bytes(rgb)}, traces[i]))
    return out


def answer_keypoint(model, tokenizer, batch: Batch, prompt_set, options: dict) -> list[Answer]:
    """[inferred] Localize "person", then decode 17 joints inside each proposed box."""
    person = [Request(r.example_id, "localization", r.image_path, "person") for r in batch.requests]
    loc_batch = Batch(person, batch.images, batch.masks, batch.sizes)
    person_texts = _prompts("localization", loc_batch, prompt_set)
    ids, logprobs = _generate(model, tokenizer, loc_batch, person_texts, options["box_max_length"])
    conf = confidence.text_confidence(ids, logprobs)
    traces = [{**_text_trace(person_texts[i], ids[i], tokenizer), "people": []}
              for i in range(len(batch.requests))]
    boxes = [postprocess.decode_boxes(ids[i], wh)[: options["max_people"]] for i, wh in enumerate(batch.sizes)]
    rows = np.array([i for i, b in enumerate(boxes) for _ in b], np.int64)
    texts = [prompts.build_prompt("keypoint", batch.requests[i], prompt_set=prompt_set,
                                  image_wh=batch.sizes[i], box_xyxy=box)
             for i, b in enumerate(boxes) for box in b]
    people: list[list[list[float]]] = [[] for _ in batch.requests]
    if texts:
        pose_ids, _ = _generate(model, tokenizer, batch, texts, options["keypoint_max_length"], rows=rows)
        for row, ids_row, text in zip(rows, pose_ids, texts):
            traces[row]["people"].append(_text_trace(text, ids_row, tokenizer))
            points = postprocess.decode_keypoints(ids_row, batch.sizes[row],
                                                  lambda t: tokenizer.decode(t))
            if points is not None:
                people[row].append([round(v, 2) for v in points])
    return [({"points": p}, float(conf[i]), {}, traces[i]) for i, p in enumerate(people)]


def _fixed_prompts(task: str, default_template: str, batch: Batch, prompt_set) -> list[str]:
    """Prompts of a slot-less per-dataset task; a prompt study may set ``prompts.<task>``."""
    template = prompt_set.templates.get(task, default_template)
    return [prompts.build_prompt(task, r, template, prompt_set=prompt_set) for r in batch.requests]


def answer_captioning(model, tokenizer, batch: Batch, prompt_set, options: dict) -> list[Answer]:
    """COCO / nocaps captions: ``What does the image describe ?``, greedy, 32 tokens."""
    texts = _fixed_prompts("captioning", "caption", batch, prompt_set)
    ids, logprobs = _generate(model, tokenizer, batch, texts, options["text_max_length"])
    return _text_answers(tokenizer, texts, ids, logprobs)


def answer_classification(model, tokenizer, batch: Batch, prompt_set,
                          options: dict) -> list[Answer]:
    """ImageNet / Places365: the class name with the lowest total NLL **[inferred prompt]**.

    The class list (1000 / 365 names) is tokenised once per distinct list; requests sharing
    it are scored in one call (the model chunks the options as the reference does, by 800).
    """
    texts = _fixed_prompts("classification", "tagging", batch, prompt_set)
    return pick_options(model, tokenizer, batch, texts, "classification")


def answer_depth(model, tokenizer, batch: Batch, prompt_set, options: dict) -> list[Answer]:
    """NYUv2 depth: ``What is the depth map of the image ?`` -> a generated grey image.

    Decoding **[inferred]** (UNIFIED_IO.md gives no depth decoding): the channel mean of the
    uint8 image, read as a share of ``options["depth_max_m"]`` (10 m, NYUv2's range), after
    the same crop-and-resize to the original size as normals. Written as a 16-bit PNG in mm.
    """
    pixels, conf, traces = _images(model, tokenizer, batch,
                                   _fixed_prompts("depth", "depth", batch, prompt_set), options)
    out = []
    for i, ((w, h), request) in enumerate(zip(batch.sizes, batch.requests)):
        grey = postprocess.undo_preprocessing(pixels[i], (h, w)).astype(np.float64).mean(axis=-1)
        name = depth_file_name(request.example_id)
        depth_m = grey / 255.0 * float(options["depth_max_m"])
        out.append(({"depth": name}, float(conf[i]), {name: depth_png_bytes(depth_m)}, traces[i]))
    return out


TASK_HEADS: dict[str, Any] = {
    "categorization": answer_categorization,
    "localization": answer_boxes,
    "refexp": answer_boxes,
    "vqa": answer_vqa,
    "segmentation": answer_segmentation,
    "keypoint": answer_keypoint,
    "normal": answer_normal,
    "captioning": answer_captioning,
    "classification": answer_classification,
    "depth": answer_depth,
}
