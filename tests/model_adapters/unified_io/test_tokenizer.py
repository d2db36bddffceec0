"""T5-rule tokenizer on a tiny sentencepiece model (spec section 2)."""
from __future__ import annotations

import io
import time

import numpy as np
import pytest
import sentencepiece as spm

from model_adapters.unified_io import vocab
from model_adapters.unified_io.tokenizer import UnifiedIOTokenizer, train_tiny_sentencepiece


@pytest.fixture(scope="module")
def tok(tmp_path_factory) -> UnifiedIOTokenizer:
    return UnifiedIOTokenizer(train_tiny_sentencepiece(tmp_path_factory.mktemp("spm")))


def sp_ids(tok: UnifiedIOTokenizer, text: str) -> list[int]:
    """Plain sentencepiece encoding of one chunk (the independent reference)."""
    return list(tok.sp.EncodeAsIds(text))


def test_tiny_model_is_deterministic_fast_and_t5_shaped(tmp_path):
    t0 = time.perf_counter()
    a = train_tiny_sentencepiece(tmp_path / "a")
    elapsed = time.perf_counter() - t0
    b = train_tiny_sentencepiece(tmp_path / "b")
    assert a.read_bytes() == b.read_bytes()
    assert elapsed < 2.0
    sp = spm.SentencePieceProcessor(model_file=str(a))
    assert (sp.pad_id(), sp.eos_id(), sp.unk_id(), sp.bos_id()) == (0, 1, 2, -1)


def test_special_tokens_map_to_fixed_layout(tok):
    assert tok.encode("<extra_id_100>") == [32999, 1]  # bin 0
    assert tok.encode("<extra_id_1099>") == [32000, 1]  # bin 999
    assert tok.encode("<extra_id_0>") == [33099, 1]  # first ordinary sentinel
    assert tok.encode("<extra_id_99>") == [33000, 1]


def test_chunks_next_to_specials_are_encoded_separately(tok):
    expected = sp_ids(tok, "a") + [33094] + sp_ids(tok, "b") + [1]
    assert tok.encode("a<extra_id_5>b") == expected
    # Whitespace next to a special token is stripped, so these are the same ids.
    assert tok.encode("a   <extra_id_5>  b") == expected
    assert tok.encode(" a <extra_id_5> b ") == expected


def test_prompt_with_region_tokens(tok):
    text = ('What is the category of region " <extra_id_150> <extra_id_200> <extra_id_900> '
            '<extra_id_700> " ?')
    ids = tok.encode(text)
    expected = (sp_ids(tok, 'What is the category of region "') + [32949, 32899, 32199, 32399]
                + sp_ids(tok, '" ?') + [1])
    assert ids == expected
    # Each chunk gets its own leading word-boundary piece: '"' after the bins starts a word.
    assert tok.sp.IdToPiece(ids[-3]).startswith("\u2581")


def test_repeated_spaces_collapse_like_t5(tok):
    assert tok.encode("the  dog   runs") == tok.encode("the dog runs")


def test_not_special_strings_stay_text(tok):
    # Out of range or with a leading zero: not an HF special token, encoded as text.
    for text in ("<extra_id_1100>", "<extra_id_05>"):
        ids = tok.encode(text)
        assert ids == sp_ids(tok, text) + [1]
        assert not any(vocab.LOCATION_ID_MIN <= t <= vocab.SENTINEL_ID_MAX for t in ids)


def test_truncation_keeps_eos(tok):
    text = "the man is holding a ball " * 10
    full = tok.encode(text, max_length=1000)
    short = tok.encode(text, max_length=10)
    assert len(short) == 10 and short[-1] == 1
    assert short[:9] == full[:9]
    assert len(tok.encode(text)) == 64  # the runner's default
    assert tok.encode("dog", max_length=1) == [1]


def test_encode_batch_pads_with_zeros(tok):
    out = tok.encode_batch(["dog", "a<extra_id_100>"], length=6)
    assert out.dtype == np.int32 and out.shape == (2, 6)
    first = tok.encode("dog")
    assert out[0, : len(first)].tolist() == first and not out[0, len(first):].any()
    assert 32999 in out[1].tolist()


def test_decode_round_trip_and_stop_at_eos(tok):
    ids = tok.encode("the dog runs")
    assert tok.decode(ids) == "the dog runs"
    assert tok.decode(ids[:-1] + [1] + sp_ids(tok, "cat")) == "the dog runs"
    # Image ids and the image start token are never text.
    assert tok.decode([33151, 33152 + 5] + ids) == "the dog runs"


def test_decode_specials_and_cleanup(tok):
    ids = sp_ids(tok, "yes") + [32999] + sp_ids(tok, "no") + [1]
    assert tok.decode(ids) == "yes no"
    # HF's slow T5 decode glues specials to the text when they are kept.
    assert tok.decode(ids, skip_special=False) == "yes<extra_id_100>no"
    # clean_up_tokenization_spaces: " ?" -> "?".
    assert tok.decode(sp_ids(tok, "is it red ?")) == "is it red?"
    assert tok.decode(sp_ids(tok, "is it red ?"), clean_up_spaces=False) == "is it red ?"


def test_bad_tokenizer_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        UnifiedIOTokenizer(tmp_path / "missing.model")
    junk = tmp_path / "junk.model"
    junk.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a sentencepiece model"):
        UnifiedIOTokenizer(junk)
    buf = io.BytesIO()  # a model with a BOS and default ids is not T5-shaped
    spm.SentencePieceTrainer.Train(sentence_iterator=iter(["a b c d e f g"] * 5),
                                   model_writer=buf, vocab_size=12, hard_vocab_limit=False,
                                   minloglevel=2)
    odd = tmp_path / "odd.model"
    odd.write_bytes(buf.getvalue())
    with pytest.raises(ValueError, match="pad=0, eos=1, unk=2"):
        UnifiedIOTokenizer(odd)


def test_bad_text_input(tok):
    with pytest.raises(TypeError, match="str"):
        tok.encode(None)  # type: ignore[arg-type]


def test_vocab_helpers_follow_the_spec_table():
    assert vocab.location_id(0) == 32999 and vocab.location_id(999) == 32000
    np.testing.assert_array_equal(vocab.bin_of_id(vocab.location_id(np.arange(1000))),
                                  np.arange(1000))
    assert vocab.location_token_text(250) == "<extra_id_350>"
    assert vocab.extra_id_to_id(350) == vocab.location_id(250)
    assert vocab.id_to_extra_id(33099) == 0
    assert vocab.image_code_to_id(0) == 33152 and vocab.id_to_image_code(49535) == 16383
    assert vocab.IMAGE_START_ID == 33151 and vocab.TOTAL_VOCAB_SIZE == 49536
    assert vocab.is_location_id([31999, 32000, 32999, 33000]).tolist() == [False, True, True, False]
    assert vocab.is_image_id([33151, 33152]).tolist() == [False, True]
    with pytest.raises(ValueError, match="location bin must be in 0..999, got 1000"):
        vocab.location_id(1000)
    with pytest.raises(ValueError, match="location token id"):
        vocab.bin_of_id(33000)
    with pytest.raises(TypeError, match="integers"):
        vocab.location_id(1.5)
