"""The port's text vocabulary over a user-supplied LLaMA sentencepiece model (never downloaded).

Built as the port builds it: the first three pieces reordered to BOS 0 (= PAD), EOS 1, UNK 2;
1,200 ``▁<extra_id_k>`` pieces appended in reverse (id = 33199 - k, so location bin q is
``<extra_id_{200+q}>`` at id 32999 - q); the image/audio history and input markers; and the
seven ``[Modality] [S|R|X]`` prefixes as single pieces.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

BOS_ID, EOS_ID, PAD_ID, UNK_ID = 0, 1, 0, 2
BASE_PIECES = 32000  # the location range 32000..32999 is hard-coded in the port: LLaMA size only
EXTRA_IDS = 1200
HISTORY_FRAMES = 8
PREFIXES = ("[Text] [S]", "[Text] [R]", "[Text] [X]", "[Image] [S]", "[Image] [R]",
            "[Audio] [S]", "[Audio] [R]")
LOC_START, LOC_END = 32000, 33000  # ids of the 1,000 location bins


class TokenizerError(ValueError):
    """The file is not a sentencepiece model of the size the port's id layout needs."""


def location_value(token_id: np.ndarray | int) -> np.ndarray:
    """Value in [0, 1] of a location id (the port's ``token_to_float``)."""
    return 1.0 - (np.asarray(token_id, np.float64) - LOC_START) / (LOC_END - LOC_START - 1)


def extra_id_value(k: np.ndarray | int) -> np.ndarray:
    """Value in [0, 1] of ``<extra_id_k>`` (the port's ``extra_id_to_float``)."""
    return (np.asarray(k, np.float64) - 200) / 999.0


class UIO2Tokenizer:
    def __init__(self, spm_path: str | Path):
        import sentencepiece as spm
        from sentencepiece import sentencepiece_model_pb2 as pb

        path = Path(spm_path)
        try:
            proto = pb.ModelProto.FromString(path.read_bytes())
        except OSError as e:
            raise TokenizerError(f"{path}: cannot read the tokenizer ({e.strerror})") from None
        except Exception:  # protobuf raises its own DecodeError type
            raise TokenizerError(f"{path}: not a sentencepiece model") from None
        if len(proto.pieces) != BASE_PIECES:
            raise TokenizerError(f"{path}: sentencepiece model has {len(proto.pieces)} pieces; "
                                 f"Unified-IO 2 needs the LLaMA size {BASE_PIECES}")
        first = [proto.pieces[i] for i in range(3)]
        for p in first:
            proto.pieces.remove(p)
        for i, p in enumerate((first[1], first[2], first[0])):  # BOS, EOS, UNK
            proto.pieces.insert(i, p)
        user = pb.ModelProto.SentencePiece.USER_DEFINED
        names = [f"▁<extra_id_{i}>" for i in reversed(range(EXTRA_IDS))]
        for i in range(1, HISTORY_FRAMES + 1):
            names += [f"▁<image_history_{i}>", f"▁<audio_history_{i}>"]
        names += ["▁<image_input>", "▁<audio_input>"]
        names += ["▁" + p.replace(" ", "▁") for p in PREFIXES]
        for name in names:
            proto.pieces.add(piece=name, score=0.0, type=user)
        self.sp = spm.SentencePieceProcessor()
        self.sp.LoadFromSerializedProto(proto.SerializeToString())
        self.piece_size = self.sp.get_piece_size()
        self.vocab_size = BASE_PIECES + EXTRA_IDS  # the seqio vocab size: ids past it decode as UNK

    def encode(self, text: str) -> list[int]:
        return list(self.sp.EncodeAsIds(text))

    def decode(self, ids) -> str:
        ids = [int(i) for i in ids]
        if EOS_ID in ids:
            ids = ids[: ids.index(EOS_ID) + 1]
        ids = [i if 0 <= i < self.vocab_size else UNK_ID for i in ids]
        return self.sp.DecodeIds(ids)

    def encode_input(self, prompt: str, target_modality: str = "text", max_len: int = 512) -> np.ndarray:
        """Encoder text tokens: modality prefix + prompt, truncated to max_len-1, EOS appended."""
        prefix = {"text": "[Text] [S] ", "image": "[Image] [S] ", "audio": "[Audio] [S] "}[target_modality]
        ids = self.encode(prefix + prompt)[: max_len - 1]
        return np.array(ids + [EOS_ID], np.int32)


def train_tiny_llama_spm(out_dir: str | Path, vocab_size: int = 300) -> Path:
    """A LLaMA-layout sentencepiece model (unk 0, bos 1, eos 2) padded with user-defined pieces
    to 32000, so ``model.checkpoint=random`` runs with no files. Scores are meaningless."""
    import io

    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb

    from model_adapters.unified_io.tokenizer import DEFAULT_TINY_CORPUS

    buf = io.BytesIO()
    spm.SentencePieceTrainer.Train(
        sentence_iterator=iter(DEFAULT_TINY_CORPUS), model_writer=buf, vocab_size=vocab_size,
        model_type="bpe", byte_fallback=True, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        character_coverage=1.0, hard_vocab_limit=False, num_threads=1, minloglevel=2)
    proto = pb.ModelProto.FromString(buf.getvalue())
    for i in range(len(proto.pieces), BASE_PIECES):
        proto.pieces.add(piece=f"<tiny_pad_{i}>", score=0.0, type=pb.ModelProto.SentencePiece.USER_DEFINED)
    path = Path(out_dir) / "tiny_llama_spm.model"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(proto.SerializeToString())
    return path
