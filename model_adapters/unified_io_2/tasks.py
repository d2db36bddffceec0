"""GRIT tasks with the port's ``TaskRunner`` recipes, on a ``UIO2Runtime``.

Prompts are each recipe's FIRST template (the port's ``single_prompt`` choice), so runs are
deterministic. Confidences are ours (the port gives none) and all lie in [0, 1]:
generated text/boxes/keypoints: exp(mean log-prob of the generated tokens, EOS included);
images (masks, normals): exp(mean log-prob of the 1,024 sampled codes); categorization: the
chosen option's share of softmax(-score) over the options.

Traces (``Prediction.trace``, the run's per-sample log; host arrays only, nothing extra is
fetched from the device): ``prompt``; generated text ``raw`` (decoded, before post-processing)
and ``tokens`` (BOS, generated ids, EOS); categorization ``option_scores`` (the port's score per
option, in ``output_options`` order, lower is better); refexp re-decoded with forcing: ``retry``;
segmentation / keypoint: the localization's fields when it ran, then one entry per box in
``instances`` (``prompt`` + the 1,024 image codes as ``tokens``) / ``people`` (``prompt``,
``raw``, ``tokens``); normals: ``prompt`` + the image codes.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from model_adapters.unified_io_2 import decoding as D
from model_adapters.unified_io_2 import preprocess as P
from model_adapters.unified_io_2 import runner as R
from model_adapters.unified_io_2.batching import OPTION_LENGTH_BUCKET, padded_rows
from model_adapters.unified_io_2.image_tasks import ImageRecipes
from model_adapters.unified_io_2.task_prompts import PROMPTS
from model_adapters.unified_io_2.tokenizer import EOS_ID

log = logging.getLogger(__name__)


@dataclass
class Settings:
    text_max_tokens: int = 32  # vqa (the runner's budget)
    box_max_tokens: int = 256  # localization
    keypoint_max_tokens: int = 128
    location_threshold: float = 0.3  # localization forcing; the runner's keypoint person step uses 0.5
    nms: float = 0.8
    max_instances: int = 8  # boxes sent on to segmentation / pose per image
    option_batch_size: int = 50
    average_option_loss: bool = True  # the port's mean token CE; False = the JAX original's sum
    seg_top_p: float = 0.95
    normal_top_p: float = 0.9
    temperature: float = 0.9
    guidance: float = 0.0  # classifier-free guidance for images (the runner uses none)
    seed: int = 0
    text_bucket: int = 64  # encoder text lengths are padded to a multiple of this
    decode_rows: int = 16  # most rows (requests, or request x box pairs) per decode call


class Tasks(ImageRecipes):
    """Each recipe takes parallel lists of requests and RGB images and returns one
    ``(output, confidence, artifacts, trace)`` per request, handling the whole list as one batch (one
    encoder pass, one decode loop or one scoring call per chunk); image generation recipes are
    in ``image_tasks.py``."""

    def __init__(self, rt, tok, settings: Settings):
        self.rt, self.tok, self.s = rt, tok, settings

    # -- encoding ---------------------------------------------------------------------------
    def _encode(self, prompts: list[str], images, modality: str = "text"):
        """Encoder pass; ``images`` is a list (one per prompt) or None.
        Text lengths are padded to multiples of ``text_bucket`` so a run compiles few programs."""
        rows = [self.tok.encode_input(p, modality) for p in prompts]
        b = self.s.text_bucket
        width = max(b, -(-max(len(r) for r in rows) // b) * b)
        tokens = np.stack([np.pad(r, (0, width - len(r))) for r in rows]).astype(np.int32)
        text = {"tokens": tokens, "mask": (tokens > 0).astype(np.int32),
                "pos_ids": np.broadcast_to(np.arange(width, dtype=np.int32), tokens.shape).copy()}
        img = None
        if images is not None:
            feats = [P.image_input(im) for im in images]
            img = {k: np.stack([f[k] for f in feats]) for k in ("input", "mask", "pos_ids")}
        return self.rt.encode(text, img)

    def _text(self, prompts, images, max_new, procs=D.Processors()):
        """Per prompt: generated ids (BOS first, through EOS) and their confidence, decoded in
        calls of at most ``decode_rows`` rows, padded to a power of two."""
        res, step = [], self.s.decode_rows
        for start in range(0, len(prompts), step):
            part = None if images is None else images[start: start + step]
            res += self._text_call(prompts[start: start + step], part, max_new, procs)
        return res

    def _text_call(self, prompts, images, max_new, procs):
        n = len(prompts)
        out = self.rt.generate(*self._encode(*padded_rows(prompts, images)), "text", max_new, procs)
        res = []
        for i in range(n):
            gen = out["tokens"][i, 1: int(out["steps"]) + 1].tolist()
            if EOS_ID in gen:
                gen = gen[: gen.index(EOS_ID) + 1]
            lp = out["logprob"][: len(gen), i]
            res.append((np.array([0] + gen), float(np.exp(lp.mean())) if len(gen) else 0.0))
        return res

    def _trace(self, prompt: str, ids: np.ndarray) -> dict:
        return {"prompt": prompt, "raw": self.tok.decode(ids), "tokens": ids}

    # -- task recipes ---------------------------------------------------------------------
    def vqa_many(self, reqs, images):
        prompts = [PROMPTS["VQA_short_prompt"].replace("{}", r.task_query or "") for r in reqs]
        out = self._text(prompts, list(images), self.s.text_max_tokens)
        traces = [self._trace(prompt, ids) for prompt, (ids, _) in zip(prompts, out)]
        return [({"words": t["raw"].strip()}, conf, {}, t) for t, (_, conf) in zip(traces, out)]

    def localize_many(self, images, classes, thresh: float):
        """Per image: (boxes, confidence, trace)."""
        prompts = [PROMPTS["Object_Detection"].replace("{}", c) for c in classes]
        out = self._text(prompts, list(images), self.s.box_max_tokens, D.Processors(location_threshold=thresh))
        return [(R.boxes_from_tokens(ids, P.image_info(im.shape), self.s.nms), conf, self._trace(prompt, ids))
                for prompt, (ids, conf), im in zip(prompts, out, images)]

    def localization_many(self, reqs, images):
        found = self.localize_many(images, [r.task_query or "" for r in reqs], self.s.location_threshold)
        return [({"bboxes": np.round(boxes, 2).tolist()}, conf, {}, trace) for boxes, conf, trace in found]

    def refexp_many(self, reqs, images):
        prompts = [PROMPTS["Refexp"].replace("{}", r.task_query or "") for r in reqs]
        out = []
        for req, prompt, image, (ids, conf) in zip(reqs, prompts, images, self._text(prompts, list(images), 6)):
            info = P.image_info(image.shape)
            box = R.refexp_box(ids, info)
            trace = self._trace(prompt, ids)
            if box is None:  # the port raises here; we force one box of location tokens instead
                log.info("refexp %s: output not a box, retried with location forcing", req.example_id)
                (ids, conf), = self._text([prompt], [image], 6, D.Processors(location_threshold=0.0, require_one_box=True))
                trace["retry"] = self._trace(prompt, ids)
                locs = R.extract_locations(ids)
                if len(locs) == 0:
                    out.append(({"bboxes": []}, 0.0, {}, trace))
                    continue
                box = R.undo_box_preprocessing(locs[0] * P.IMAGE_INPUT_SIZE[0], info)[[1, 0, 3, 2]]
            out.append(({"bboxes": [np.round(box, 2).tolist()]}, conf, {}, trace))
        return out

    def categorization_many(self, reqs, images):
        """One encoder pass for the batch; every (request, option) pair is scored in chunks of
        ``option_batch_size`` (padded to a power of two), each against its request's row."""
        prompts = []
        for req, image in zip(reqs, images):
            if not req.output_options:
                raise ValueError("categorization request without output options")
            if req.task_bbox is None:
                prompts.append(PROMPTS["image_tagging_imagenet2012"])
            else:
                info = P.image_info(image.shape)
                prompts.append(PROMPTS["Box_Classification_Scene"].replace(
                    "{box}", P.box_tokens(np.array(req.task_bbox), info)))
        enc = self._encode(*padded_rows(prompts, list(images)))
        pairs = [(i, option) for i, req in enumerate(reqs) for option in req.output_options]
        scores: list = []
        for start in range(0, len(pairs), self.s.option_batch_size):
            chunk = pairs[start: start + self.s.option_batch_size]
            rows, options = padded_rows([i for i, _ in chunk], [o for _, o in chunk])
            tokens = R.option_tokens(self.tok, options)
            tokens = np.pad(tokens, ((0, 0), (0, -tokens.shape[1] % OPTION_LENGTH_BUCKET)))
            scores += list(self.rt.score(*enc, tokens, self.s.average_option_loss, np.array(rows))[: len(chunk)])
        out, at = [], 0
        for req, prompt in zip(reqs, prompts):
            options = list(req.output_options)
            mine = np.array(scores[at: at + len(options)])
            at += len(options)
            best = int(np.argmin(mine))
            p = np.exp(-(mine - mine.min()))
            out.append(({"words": options[best]}, float(p[best] / p.sum()), {},
                        {"prompt": prompt, "option_scores": mine}))
        return out

    def _boxes_many(self, reqs, images, cls: str | None, thresh: float):
        """Per request: its task box, else up to ``max_instances`` boxes localized for ``cls``
        (its query when None), one batched localization for all requests without a box; and
        per request the localization's trace ({} for a task box)."""
        boxes = [None if r.task_bbox is None else np.array([r.task_bbox], np.float64) for r in reqs]
        traces: list[dict] = [{} for _ in reqs]
        todo = [i for i, b in enumerate(boxes) if b is None]
        if todo:
            classes = [cls if cls is not None else reqs[i].task_query or "" for i in todo]
            for i, (found, _, trace) in zip(todo, self.localize_many([images[i] for i in todo], classes, thresh)):
                boxes[i], traces[i] = found[: self.s.max_instances], trace
        return boxes, traces

    def keypoint_many(self, reqs, images):
        """Every (request, person box) pair of the batch is decoded in one batched generation."""
        jobs = []  # (request index, prompt, image, image_info)
        all_boxes, traces = self._boxes_many(reqs, images, "person", 0.5)
        traces = [{**t, "people": []} for t in traces]
        for i, (image, boxes) in enumerate(zip(images, all_boxes)):
            info = P.image_info(image.shape)
            jobs += [(i, PROMPTS["Pose_Estimation"].replace("{}", P.box_tokens(box, info)), image, info)
                     for box in boxes]
        people: list = [[] for _ in reqs]
        confs: list = [[] for _ in reqs]
        if jobs:
            procs = D.Processors(keypoint_schedule=R.keypoint_schedule(self.tok))
            decoded = self._text([j[1] for j in jobs], [j[2] for j in jobs], self.s.keypoint_max_tokens, procs)
            for (i, prompt, _, info), (ids, conf) in zip(jobs, decoded):
                traces[i]["people"].append(self._trace(prompt, ids))
                traces[i].setdefault("prompt", prompt)  # a task box: no localization ran
                pts, _ = R.extract_keypoints(traces[i]["people"][-1]["raw"], info)
                if pts is not None:
                    people[i].append([round(float(v), 2) for v in pts.reshape(-1)])
                    confs[i].append(conf)
        return [({"points": p}, float(np.mean(c)) if c else 0.0, {}, t) for p, c, t in zip(people, confs, traces)]
