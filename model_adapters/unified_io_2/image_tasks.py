"""The image-generation recipes (segmentation masks, surface normals), batched: every
(request, box) image of a batch is generated in one decode loop per ``decode_rows`` rows.

Top-p sampling draws each image from its own key, ``PRNGKey(request_seed(model.seed,
example_id, box number))`` folded with the step (``batching.request_seed``), so a request gets
the same image alone, in any batch and at any batch position.
"""
from __future__ import annotations

import numpy as np

from grit_eval.formats import mask_rle, normal_file_name, png_bytes
from model_adapters.unified_io_2 import decoding as D
from model_adapters.unified_io_2 import preprocess as P
from model_adapters.unified_io_2 import runner as R
from model_adapters.unified_io_2.batching import padded_rows, request_seed
from model_adapters.unified_io_2.task_prompts import PROMPTS

NEGATIVE_PROMPT = "An image of a random picture."  # classifier-free guidance's negative row


class ImageRecipes:
    """Mixed into ``tasks.Tasks`` (which gives ``rt``, ``tok``, ``s``, ``_encode``, ``_boxes_many``)."""

    def _images(self, prompts, images, seeds, top_p: float):
        """Per prompt: the generated image [256, 256, 3] in [0, 1], its confidence and codes."""
        out, step = [], self.s.decode_rows
        for start in range(0, len(prompts), step):
            part = slice(start, start + step)
            out += self._image_call(prompts[part], images[part], seeds[part], top_p)
        return out

    def _image_call(self, prompts, images, seeds, top_p: float):
        n = len(prompts)
        prompts, images, seeds = padded_rows(prompts, images, seeds)
        procs = D.Processors()
        if self.s.guidance:  # negative rows after the main ones, each seeing its row's image
            prompts, images = prompts + [NEGATIVE_PROMPT] * len(prompts), images + images
            procs = D.Processors(guidance=self.s.guidance)
        g = self.rt.cfg.target_grid
        gen = self.rt.generate(*self._encode(prompts, images, "image"), "image", g[0] * g[1], procs,
                               D.Sampling(top_p, self.s.temperature), seed=np.array(seeds, np.uint32))
        codes = gen["tokens"][:, 1:] - 2
        pixels = self.rt.decode_image(codes)
        return [(pixels[i], float(np.exp(gen["logprob"][:, i].mean())), np.array(codes[i])) for i in range(n)]

    def segmentation_many(self, reqs, images):
        jobs = []  # (request index, prompt, image, seed, image info)
        all_boxes, traces = self._boxes_many(reqs, images, None, self.s.location_threshold)
        traces = [{**t, "instances": []} for t in traces]
        for i, (req, image, boxes) in enumerate(zip(reqs, images, all_boxes)):
            info = P.image_info(image.shape)
            cls = req.task_query or ""
            for k, box in enumerate(boxes):
                prompt = PROMPTS["Object_Segmentation"].replace("{}", "{box} " + cls)
                jobs.append((i, prompt.replace("{box}", P.box_tokens(box, info)), image,
                             request_seed(self.s.seed, req.example_id, k), info))
        masks: list = [[] for _ in reqs]
        confs: list = [[] for _ in reqs]
        if jobs:
            made = self._images([j[1] for j in jobs], [j[2] for j in jobs], [j[3] for j in jobs], self.s.seg_top_p)
            for (i, prompt, _, _, info), (img, conf, codes) in zip(jobs, made):
                traces[i]["instances"].append({"prompt": prompt, "tokens": codes})
                traces[i].setdefault("prompt", prompt)  # a task box: no localization ran
                mask = R.undo_image_preprocessing(img, info, gray_scale=True)[..., 0] > 0.5
                if mask.any():
                    masks[i].append(mask_rle(mask))
                    confs[i].append(conf)
        return [({"masks": m}, float(np.mean(c)) if c else 0.0, {}, t) for m, c, t in zip(masks, confs, traces)]

    def normal_many(self, reqs, images):
        seeds = [request_seed(self.s.seed, r.example_id) for r in reqs]
        made = self._images([PROMPTS["Surface_Normals_Estimation"]] * len(reqs), list(images), seeds,
                            self.s.normal_top_p)
        out = []
        for req, image, (img, conf, codes) in zip(reqs, images, made):
            info = P.image_info(image.shape)
            rgb = np.clip(R.undo_image_preprocessing(img, info) * 255.5, 0, 255).astype(np.uint8)
            name = normal_file_name(req.example_id)
            out.append(({"normal": name}, conf, {name: png_bytes(rgb)},
                        {"prompt": PROMPTS["Surface_Normals_Estimation"], "tokens": codes}))
        return out
