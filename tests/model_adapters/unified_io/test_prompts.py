"""Prompt templates (character for character), region tokens and prompt building."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grit_eval.types import Request
from model_adapters.unified_io.prompts import (
    PROMPT_TEMPLATES,
    PromptSet,
    build_prompt,
    region_tokens,
)

# Transcribed by hand from UNIFIED_IO.md section 6 (and the runner it quotes).
SPEC_STRINGS = {
    "refexp": 'Which region does the text " {} " describe ?',
    "categorization": 'What is the category of region " {} " ?',
    "segmentation": 'What is the segmentation of " {} " ?',
    "normal": "What is the surface normal of the image ?",
    "keypoint": 'Find the human joints in the region " {} " .',
}


def test_templates_equal_the_spec_strings():
    for name, text in SPEC_STRINGS.items():
        assert PROMPT_TEMPLATES[name] == text
    assert PROMPT_TEMPLATES["localization"] == PROMPT_TEMPLATES["refexp"]
    assert PROMPT_TEMPLATES["vqa"] == "{}"


def test_every_template_appears_verbatim_in_the_spec(golden_dir):
    spec = (golden_dir.parent / "docs" / "UNIFIED_IO.md").read_text()
    quoted = set(re.findall(r"`([^`]+)`", spec))
    for name, text in PROMPT_TEMPLATES.items():
        if name != "vqa":
            assert text in quoted, f"template {name!r} not found verbatim in the spec: {text!r}"


def test_region_tokens_hand_computed():
    # S = 640: y1 = int(999 * 20/640) = 31, x1 = 15, y2 = 312, x2 = 468; text id = bin + 100.
    assert region_tokens([10, 20, 300, 200], (640, 480)) == \
        "<extra_id_131> <extra_id_115> <extra_id_412> <extra_id_568>"
    # Portrait image: S is the height.
    assert region_tokens([0, 0, 480, 640], (480, 640)) == \
        "<extra_id_100> <extra_id_100> <extra_id_1099> <extra_id_849>"


def test_region_tokens_clip_and_reference_rounding():
    # Outside the image: clipped to bins 0 / 999.
    assert region_tokens([-5, -1, 700, 900], (640, 480)) == \
        "<extra_id_100> <extra_id_100> <extra_id_1099> <extra_id_1099>"
    # The reference divides by S before multiplying by 999: 999 * (35/555) = 62.99999999999999
    # -> bin 62, where 999 * 35 / 555 would give exactly 63.
    assert region_tokens([35, 35, 35, 35], (555, 10)).split()[0] == "<extra_id_162>"


@settings(max_examples=50, deadline=None)
@given(w=st.integers(1, 4000), h=st.integers(1, 4000), data=st.data())
def test_region_tokens_format_property(w, h, data):
    coords = [data.draw(st.floats(0, max(w, h))) for _ in range(4)]
    text = region_tokens(coords, (w, h))
    parts = text.split(" ")
    assert len(parts) == 4
    bins = [int(re.fullmatch(r"<extra_id_(\d+)>", p).group(1)) - 100 for p in parts]
    assert all(0 <= b <= 999 for b in bins)
    # y1 comes first: its bin is the truncation of 999 * y1 / S (within float noise).
    assert abs(bins[0] - 999 * coords[1] / max(w, h)) < 1 + 1e-9


@pytest.mark.parametrize("bad", [[1, 2, 3], [0, 0, float("nan"), 1], "abcd"])
def test_region_tokens_bad_box(bad):
    with pytest.raises(ValueError, match="box"):
        region_tokens(bad, (10, 10))


def test_region_tokens_bad_size():
    with pytest.raises(ValueError, match="image_wh"):
        region_tokens([0, 0, 1, 1], (0, 10))


def req(task, query=None, bbox=None):
    return Request(example_id="e1", task=task, image_path="x.jpg", task_query=query,
                   task_bbox=bbox)


def test_build_prompt_per_task():
    assert build_prompt("refexp", req("refexp", "the Dog on the left")) == \
        'Which region does the text " the Dog on the left " describe ?'
    assert build_prompt("localization", req("localization", "dog")) == \
        'Which region does the text " dog " describe ?'
    assert build_prompt("vqa", req("vqa", "What Color is the Cat?")) == "what color is the cat?"
    assert build_prompt("segmentation", req("segmentation", "grass (Stuff)")) == \
        'What is the segmentation of " grass " ?'
    assert build_prompt("normal", req("normal")) == "What is the surface normal of the image ?"
    assert build_prompt("categorization", req("categorization", bbox=(10, 20, 300, 200)),
                        image_wh=(640, 480)) == ('What is the category of region " <extra_id_131> '
                                                 '<extra_id_115> <extra_id_412> <extra_id_568> " ?')
    assert build_prompt("keypoint", req("keypoint", "person"), image_wh=(640, 480),
                        box_xyxy=(10, 20, 300, 200)).startswith(
        'Find the human joints in the region " <extra_id_131> ')


def test_build_prompt_overrides():
    r = req("refexp", "red car")
    assert build_prompt("refexp", r, 'Where is the "{}"?') == 'Where is the "red car"?'
    assert build_prompt("refexp", r, "segmentation") == 'What is the segmentation of " red car " ?'
    pset = PromptSet().with_templates("locate", {"refexp": 'Locate the " {} " .'})
    assert build_prompt("refexp", r, prompt_set=pset) == 'Locate the " red car " .'
    assert pset.name == "locate"
    # Other tasks keep the paper's template; braces in a query are harmless.
    assert build_prompt("localization", req("localization", "a {b}"), prompt_set=pset) == \
        'Which region does the text " a {b} " describe ?'


def test_build_prompt_errors():
    with pytest.raises(ValueError, match="task_bbox"):
        build_prompt("categorization", req("categorization"), image_wh=(10, 10))
    with pytest.raises(ValueError, match="image_wh"):
        build_prompt("categorization", req("categorization", bbox=(0, 0, 1, 1)))
    with pytest.raises(ValueError, match="person box"):
        build_prompt("keypoint", req("keypoint", "person"), image_wh=(10, 10))
    with pytest.raises(ValueError, match="task_query"):
        build_prompt("vqa", req("vqa", "  "))
    with pytest.raises(ValueError, match="no template for task 'captioning'"):
        build_prompt("captioning", req("captioning"))
    with pytest.raises(ValueError, match="slot"):
        build_prompt("refexp", req("refexp", "x"), "Where is it ?")
    with pytest.raises(ValueError, match="slot"):
        PromptSet(templates={"vqa": "no slot here"})
