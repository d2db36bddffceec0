"""GRIT tasks with the port's ``TaskRunner`` recipes, on a ``UIO2Runtime``.

Prompts are each recipe's FIRST template (the port's ``single_prompt`` choice), so runs are
deterministic. Confidences are ours (the port gives none) and all lie in [0, 1]:
generated text/boxes/keypoints: exp(mean log-prob of the generated tokens, EOS included);
images (masks, normals): exp(mean log-prob of the 1,024 sampled codes); categorization: the
chosen option's share of softmax(-score) over the options.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from grit_eval.formats import mask_rle, normal_file_name, png_bytes
from model_adapters.unified_io_2 import decoding as D
from model_adapters.unified_io_2 import preprocess as P
from model_adapters.unified_io_2 import runner as R
from model_adapters.unified_io_2.tokenizer import EOS_ID

log = logging.getLogger(__name__)

# The first template of each prompt list the runner draws from (port ``prompt.py``).
PROMPTS = {
    "Refexp": 'Which region does the text "{}" describe?',
    "VQA_short_prompt": "{} A short answer to the question is",
    "Box_Classification_Scene": "What is the category of the object at {box}?",
    "image_tagging_imagenet2012": "What is this? Return a precise but very short answer.",
    "Object_Detection": 'Return the bounding boxes and categories of region matching "{}"',
    "Pose_Estimation": 'Find the visible human joints in the region " {} ".',
    "Object_Segmentation": "Segment the object in this bounding box: {}",
    "Surface_Normals_Estimation": "What is the surface normal of the image ?",
}


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


class Tasks:
    """Each recipe takes parallel lists of requests and RGB images and returns one
    ``(output, confidence, artifacts)`` per request; the text-generation recipes decode the whole
    list as one batch."""

    def __init__(self, rt, tok, settings: Settings):
        self.rt, self.tok, self.s = rt, tok, settings

    # -- encoding ---------------------------------------------------------------------------
    def _encode(self, prompts: list[str], images, modality: str = "text"):
        """Encoder pass; ``images`` is one image for every prompt, a list (one per prompt) or None.
        Text lengths are padded to multiples of ``text_bucket`` so a run compiles few programs."""
        rows = [self.tok.encode_input(p, modality) for p in prompts]
        b = self.s.text_bucket
        width = max(b, -(-max(len(r) for r in rows) // b) * b)
        tokens = np.stack([np.pad(r, (0, width - len(r))) for r in rows]).astype(np.int32)
        text = {"tokens": tokens, "mask": (tokens > 0).astype(np.int32),
                "pos_ids": np.broadcast_to(np.arange(width, dtype=np.int32), tokens.shape).copy()}
        img = None
        if images is not None:
            images = images if isinstance(images, list) else [images] * len(rows)
            feats = [P.image_input(im) for im in images]
            img = {k: np.stack([f[k] for f in feats]) for k in ("input", "mask", "pos_ids")}
        return self.rt.encode(text, img)

    def _text(self, prompts, images, max_new, procs=D.Processors()):
        """Per prompt: generated ids (BOS first, through EOS) and their confidence. Rows are
        padded (repeating the last) to a power of two, so batch sizes compile few programs."""
        n = len(prompts)
        rows = 1 << (n - 1).bit_length()
        images = images if isinstance(images, list) or images is None else [images] * n
        prompts = prompts + [prompts[-1]] * (rows - n)
        if images is not None:
            images = images + [images[-1]] * (rows - n)
        out = self.rt.generate(*self._encode(prompts, images), "text", max_new, procs)
        res = []
        for i in range(n):
            gen = out["tokens"][i, 1: int(out["steps"]) + 1].tolist()
            if EOS_ID in gen:
                gen = gen[: gen.index(EOS_ID) + 1]
            lp = out["logprob"][: len(gen), i]
            res.append((np.array([0] + gen), float(np.exp(lp.mean())) if len(gen) else 0.0))
        return res

    def _image(self, prompt: str, image, top_p: float):
        modality_prompts = [prompt]
        procs = D.Processors()
        if self.s.guidance:
            modality_prompts.append("An image of a random picture.")
            procs = D.Processors(guidance=self.s.guidance)
        enc = self._encode(modality_prompts, image, "image")  # the negative row sees the image too
        g = self.rt.cfg.target_grid
        out = self.rt.generate(*enc, "image", g[0] * g[1], procs, D.Sampling(top_p, self.s.temperature),
                               seed=self.s.seed)
        codes = out["tokens"][:1, 1:] - 2
        return self.rt.decode_image(codes)[0], float(np.exp(out["logprob"][:, 0].mean()))

    # -- task recipes ---------------------------------------------------------------------
    def vqa_many(self, reqs, images):
        prompts = [PROMPTS["VQA_short_prompt"].replace("{}", r.task_query or "") for r in reqs]
        return [({"words": self.tok.decode(ids).strip()}, conf, {})
                for ids, conf in self._text(prompts, list(images), self.s.text_max_tokens)]

    def localize_many(self, images, classes, thresh: float):
        prompts = [PROMPTS["Object_Detection"].replace("{}", c) for c in classes]
        out = self._text(prompts, list(images), self.s.box_max_tokens, D.Processors(location_threshold=thresh))
        return [(R.boxes_from_tokens(ids, P.image_input(im)["image_info"], self.s.nms), conf)
                for (ids, conf), im in zip(out, images)]

    def localize(self, image, cls: str, thresh: float):
        return self.localize_many([image], [cls], thresh)[0]

    def localization_many(self, reqs, images):
        found = self.localize_many(images, [r.task_query or "" for r in reqs], self.s.location_threshold)
        return [({"bboxes": np.round(boxes, 2).tolist()}, conf, {}) for boxes, conf in found]

    def refexp_many(self, reqs, images):
        prompts = [PROMPTS["Refexp"].replace("{}", r.task_query or "") for r in reqs]
        out = []
        for req, prompt, image, (ids, conf) in zip(reqs, prompts, images, self._text(prompts, list(images), 6)):
            info = P.image_input(image)["image_info"]
            box = R.refexp_box(ids, info)
            if box is None:  # the port raises here; we force one box of location tokens instead
                log.info("refexp %s: output not a box, retried with location forcing", req.example_id)
                (ids, conf), = self._text([prompt], image, 6, D.Processors(location_threshold=0.0, require_one_box=True))
                locs = R.extract_locations(ids)
                if len(locs) == 0:
                    out.append(({"bboxes": []}, 0.0, {}))
                    continue
                box = R.undo_box_preprocessing(locs[0] * P.IMAGE_INPUT_SIZE[0], info)[[1, 0, 3, 2]]
            out.append(({"bboxes": [np.round(box, 2).tolist()]}, conf, {}))
        return out

    def categorization_many(self, reqs, images):
        return [self._categorization(r, im) for r, im in zip(reqs, images)]

    def _categorization(self, req, image):
        options = list(req.output_options or ())
        if not options:
            raise ValueError("categorization request without output options")
        if req.task_bbox is not None:
            info = P.image_input(image)["image_info"]
            prompt = PROMPTS["Box_Classification_Scene"].replace("{box}", P.box_tokens(np.array(req.task_bbox), info))
        else:
            prompt = PROMPTS["image_tagging_imagenet2012"]
        enc = self._encode([prompt], image)
        scores = []
        for start in range(0, len(options), self.s.option_batch_size):
            chunk = R.option_tokens(self.tok, options[start: start + self.s.option_batch_size])
            scores.append(self.rt.score(*enc, chunk, self.s.average_option_loss))
        scores = np.concatenate(scores)
        best = int(np.argmin(scores))
        p = np.exp(-(scores - scores.min()))
        return {"words": options[best]}, float(p[best] / p.sum()), {}

    def _boxes_for(self, req, image, cls: str, thresh: float):
        if req.task_bbox is not None:
            return np.array([req.task_bbox], np.float64), 1.0
        boxes, conf = self.localize(image, cls, thresh)
        return boxes[: self.s.max_instances], conf

    def segmentation_many(self, reqs, images):
        return [self._segmentation(r, im) for r, im in zip(reqs, images)]

    def _segmentation(self, req, image):
        cls = req.task_query or ""
        boxes, conf = self._boxes_for(req, image, cls, self.s.location_threshold)
        info = P.image_input(image)["image_info"]
        masks, confs = [], []
        for box in boxes:
            prompt = PROMPTS["Object_Segmentation"].replace("{}", "{box} " + cls)
            prompt = prompt.replace("{box}", P.box_tokens(box, info))
            img, c = self._image(prompt, image, self.s.seg_top_p)
            mask = R.undo_image_preprocessing(img, info, gray_scale=True)[..., 0] > 0.5
            if mask.any():
                masks.append(mask_rle(mask))
                confs.append(c)
        return {"masks": masks}, float(np.mean(confs)) if confs else 0.0, {}

    def keypoint_many(self, reqs, images):
        return [self._keypoint(r, im) for r, im in zip(reqs, images)]

    def _keypoint(self, req, image):
        boxes, _ = self._boxes_for(req, image, "person", 0.5)
        info = P.image_input(image)["image_info"]
        people, confs = [], []
        for box in boxes:
            prompt = PROMPTS["Pose_Estimation"].replace("{}", P.box_tokens(box, info))
            (ids, c), = self._text([prompt], image, self.s.keypoint_max_tokens,
                                   D.Processors(keypoint_schedule=R.keypoint_schedule(self.tok)))
            pts, _ = R.extract_keypoints(self.tok.decode(ids), info)
            if pts is not None:
                people.append([round(float(v), 2) for v in pts.reshape(-1)])
                confs.append(c)
        return {"points": people}, float(np.mean(confs)) if confs else 0.0, {}

    def normal_many(self, reqs, images):
        return [self._normal(r, im) for r, im in zip(reqs, images)]

    def _normal(self, req, image):
        img, conf = self._image(PROMPTS["Surface_Normals_Estimation"], image, self.s.normal_top_p)
        info = P.image_input(image)["image_info"]
        rgb = np.clip(R.undo_image_preprocessing(img, info) * 255.5, 0, 255).astype(np.uint8)
        name = normal_file_name(req.example_id)
        return {"normal": name}, conf, {name: png_bytes(rgb)}
