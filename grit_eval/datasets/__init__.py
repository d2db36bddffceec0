"""Readers for the public per-dataset splits behind GRIT, each in its native file format.

Every reader returns ``list[grit_eval.types.Sample]`` in file order and raises
``grit_eval.errors.DataError`` naming the file, the id and the problem. ``Sample.target`` is
the dataset's own ground truth as a plain dict; each reader documents its keys.

| reader (module:function)                  | Sample.task    | datasets                    |
|-------------------------------------------|----------------|-----------------------------|
| ``refcoco:read_refcoco``                  | refexp         | RefCOCO, RefCOCO+, RefCOCOg |
| ``coco_keypoints:read_coco_keypoints``    | keypoint       | COCO person keypoints       |
| ``coco_captions:read_coco_captions``      | captioning     | COCO captions, nocaps       |
| ``coco_captions:read_karpathy_captions``  | captioning     | Karpathy splits             |
| ``vqa_format:read_vqa``                   | vqa            | VQAv2, OK-VQA               |
| ``vqa_format:read_vizwiz``                | vqa            | VizWiz-VQA                  |
| ``vqa_format:read_aokvqa``                | vqa            | A-OKVQA                     |
| ``nyuv2:read_nyuv2``                      | depth / normal | NYUv2                       |
| ``image_classification:read_image_folder``| classification | ImageNet, Places365 (tree)  |
| ``image_classification:read_image_csv``   | classification | ImageNet, Places365 (list)  |

``sampling.limit`` / ``sampling.subset`` take the first N or a seeded random N of any of them.
Modules are imported by the registry on demand; nothing is imported here.
"""
