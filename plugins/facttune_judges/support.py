"""``judges/support``: how much of a claim its evidence supports, word by word (BERTScore-style).

Each checkable word of the claim (``text.analyse``: the topic's own name and function words left out)
gets a support in [0, 1]:

- names and numbers: 1 if the evidence has them (``text.Evidence.has_name``), else at most
  ``missing_name`` (a changed place, year or nationality is the typical hallucination);
- dates: 1 if consistent with the evidence's years, else 0; the words they settle (``born``,
  ``lived``, ``century``) follow them;
- occupations and titles (``poet``, ``physicist``, ``emperor``): 1 if the evidence names the role,
  one that entails it (a physicist is a scientist) or its field with the same stem (``physics``),
  else ``missing_role`` (a neighbouring role is what word similarity passes and a policy trained
  against this judge learned to write: "was a poet" for a playwright);
- other words: the best cosine between the word's contextual embedding and any evidence word's
  (MiniLM, mean over word pieces, from hidden layer ``layer``; the topic's name left out of both).

The claim's score is a soft minimum of its words' supports (weights ``exp(-sharpness * s)``): one
unsupported word makes the claim unsupported, as in FActScore's atomic-fact rule. A fitted file
(``facttune judge fit``) maps the score to a calibrated P(True); supported iff P(True) >= 0.5.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from facttune_core import (
    Calibration,
    Claim,
    ComponentError,
    Context,
    Evidence,
    Verdict,
    resolve_model,
    runtime_field,
)

from . import text
from .fitting import FittedFile, load_fitted

MODEL_ALIAS = "all-minilm-l6-v2"


class Support:
    """Word-level evidence support from MiniLM embeddings, with exact checks of names, numbers, dates and roles."""

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        model: str = Field(MODEL_ALIAS, description="a BERT-like encoder: packaged alias, hub id or local folder")
        layer: int = Field(5, ge=1, description="hidden layer whose token states are compared")
        sharpness: float = Field(8.0, ge=0.0, description="soft-minimum weight exp(-sharpness * support); 0 = mean")
        missing_name: float = Field(0.3, ge=0.0, le=1.0, description="support cap of a name absent from the evidence")
        missing_role: float | None = Field(0.3, ge=0.0, le=1.0, description="support of an occupation or title "
                                           "(poet, physicist, emperor) that the evidence neither names nor entails; "
                                           "None = judge it as any other word (by similarity)")
        fitted: FittedFile | None = Field(None, description="calibration file from `facttune judge fit` (a path, or a "
                                   "packaged name such as 'wiki-vital'); without it P(True) = the raw score")
        threshold: float = Field(0.5, ge=0.0, le=1.0, description="supported iff P(True) >= threshold")
        batch_size: int = runtime_field(32, ge=1)

    component = "judges/support"
    needs = ("evidence",)

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx
        self.calibration: Calibration | None = None
        if config.fitted:
            self.calibration = Calibration.from_dict(load_fitted(config.fitted, ctx), where=config.fitted)
        self._model: Any = None
        self._tok: Any = None
        self._ev_cache: dict[tuple[str, str], Any] = {}  # claims of one topic share their evidence

    # -- model
    def _load(self) -> None:
        if self._model is not None:
            return
        import torch  # noqa: F401  (heavy: only when a claim is scored)
        from transformers import AutoModel, AutoTokenizer

        path = resolve_model(self.c.model)
        try:
            self._tok = AutoTokenizer.from_pretrained(path)
            self._model = AutoModel.from_pretrained(path).eval()
        except OSError as err:
            raise ComponentError(f"cannot load encoder '{self.c.model}': {err}".splitlines()[0],
                                 key=f"{self.ctx.key}.model" if self.ctx.key else None) from None
        n_layers = int(getattr(self._model.config, "num_hidden_layers", self.c.layer))
        if self.c.layer > n_layers:
            raise ComponentError(f"layer {self.c.layer} > the encoder's {n_layers} layers",
                                 key=f"{self.ctx.key}.layer" if self.ctx.key else None)

    def _word_vectors(self, texts: list[str], spans: list[list[tuple[int, int]]]) -> list[Any]:
        """Per text, one unit vector per span: the mean of the word pieces inside it."""
        import torch

        self._load()
        out: list[Any] = []
        for s in range(0, len(texts), self.c.batch_size):
            chunk = texts[s:s + self.c.batch_size]
            enc = self._tok(chunk, truncation=True, max_length=512, padding=True, return_tensors="pt",
                            return_offsets_mapping=True)
            offsets = enc.pop("offset_mapping").tolist()
            with torch.inference_mode():
                hidden = self._model(**enc, output_hidden_states=True).hidden_states[self.c.layer]
            for j, t_spans in enumerate(spans[s:s + self.c.batch_size]):
                vecs = []
                keep = []
                for k, (a, b) in enumerate(t_spans):
                    idx = [i for i, (x, y) in enumerate(offsets[j]) if x < y and x >= a and y <= b]
                    if idx:
                        vecs.append(hidden[j, idx].mean(0))
                        keep.append(k)
                if vecs:
                    out.append((keep, torch.nn.functional.normalize(torch.stack(vecs).float(), dim=-1)))
                else:
                    out.append((keep, None))
        return out

    # -- scoring
    def supports(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> list[list[tuple[str, str, float]]]:
        """Per claim, each checkable word's (text, kind, support in [0, 1]); empty when the claim has no
        evidence or nothing checkable besides the topic's name."""
        ev_texts = [text.evidence_text(e.passages) if e is not None else "" for e in evidence]
        uniq = list(dict.fromkeys(t for t in ev_texts if t.strip()))
        ev_info = {t: text.Evidence.of(t) for t in uniq}
        roles = self.c.missing_role is not None  # None: roles judged by similarity, as any other word
        analysed = [text.analyse(c.text, c.topic, ev_info[t], roles=roles) if t.strip() else []
                    for c, t in zip(claims, ev_texts, strict=True)]
        need = [i for i, a in enumerate(analysed) if any(w.kind == "word" for w in a)]
        # evidence vectors per (text, topic): the topic's name is left out of what a claim word may match
        ev_keys = [k for k in dict.fromkeys((ev_texts[i], claims[i].topic or "") for i in need)
                   if k not in self._ev_cache]
        ev_spans = []
        for t, topic in ev_keys:
            ts = text.topic_stems(topic)
            ev_spans.append([(m.start(), m.end()) for m in text.words(t)
                             if text.stem(m.group(0)) not in ts and m.group(0).lower() not in text.STOPWORDS])
        if len(self._ev_cache) > 4096:
            self._ev_cache.clear()
        self._ev_cache.update(zip(ev_keys, self._word_vectors([k[0] for k in ev_keys], ev_spans), strict=True))
        ev_vecs = self._ev_cache
        claim_spans = [[(w.start, w.end) for w in analysed[i] if w.kind == "word"] for i in need]
        claim_vecs = dict(zip(need, self._word_vectors([claims[i].text for i in need], claim_spans), strict=True))
        out: list[list[tuple[str, str, float]]] = []
        for i, (c, t) in enumerate(zip(claims, ev_texts, strict=True)):
            ws = analysed[i]
            if not t.strip() or not ws:
                out.append([])
                continue
            cos: dict[int, float] = {}
            if i in claim_vecs:
                keep, cv = claim_vecs[i]
                _, evv = ev_vecs[(t, c.topic or "")]
                if cv is not None and evv is not None:
                    best = (cv @ evv.T).max(dim=1).values.tolist()
                    cos = dict(zip(keep, best, strict=True))
            sups: list[tuple[str, str, float]] = []
            wi = 0
            for w in ws:
                if w.kind == "word":
                    sv = max(0.0, cos.get(wi, 0.0))
                    wi += 1
                elif w.kind == "name":
                    sv = 1.0 if w.found else self.c.missing_name
                elif w.kind == "role":
                    sv = 1.0 if w.found else (self.c.missing_role or 0.0)
                else:  # number, date
                    sv = 1.0 if w.found else 0.0
                sups.append((w.text, w.kind, sv))
            out.append(sups)
        return out

    def scores(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> list[tuple[float, str]]:
        """Raw support score (the soft minimum of the words' supports) and a short reason per claim."""
        out: list[tuple[float, str]] = []
        for e, sups in zip(evidence, self.supports(claims, evidence), strict=True):
            if not sups:
                out.append((0.0, "no evidence" if e is None or not text.evidence_text(e.passages).strip()
                            else "nothing checkable besides the topic's name"))
                continue
            out.append((soft_min([x for _, _, x in sups], self.c.sharpness), _reason([(w, x) for w, _, x in sups])))
        return out

    def verify(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> list[Verdict]:
        res = self.scores(claims, evidence)
        self.ctx.progress(len(claims), None)
        out = []
        for c, (score, reason) in zip(claims, res, strict=True):
            p = self.calibration.p_true(score) if self.calibration is not None else score
            out.append(Verdict(claim_id=c.id, supported=p >= self.c.threshold, p_true=p, judge=self.component,
                               raw=f"score={score:.3f}; {reason}"))
        return out

    def features(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> list[list[float]]:
        """The raw score per claim, for `facttune judge fit`."""
        return [[s] for s, _ in self.scores(claims, evidence)]


def soft_min(values: Sequence[float], sharpness: float) -> float:
    if not values:
        return 0.0
    ws = [math.exp(-sharpness * v) for v in values]
    return sum(w * v for w, v in zip(ws, values, strict=True)) / sum(ws)


def _reason(sups: list[tuple[str, float]], k: int = 3) -> str:
    weakest = sorted(sups, key=lambda x: x[1])[:k]
    return "weakest: " + ", ".join(f"{w}={s:.2f}" for w, s in weakest)
