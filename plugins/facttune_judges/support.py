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
import re
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from facttune_core import (
    Calibration,
    Claim,
    ComponentError,
    ConfigError,
    Context,
    Evidence,
    Verdict,
    did_you_mean,
    resolve_model,
    runtime_field,
)

from . import text
from .fitting import FittedFile, load_fitted

MODEL_ALIAS = "all-minilm-l6-v2"

Sups = list[tuple[str, str, float]]


def _anchors(sups: Sups) -> list[float]:
    return [x for _, kind, x in sups if kind != "word"]


def _words(sups: Sups) -> list[float]:
    return [x for _, kind, x in sups if kind == "word"]


FEATURES: dict[str, Callable[[Sups, float], float]] = {
    "score": lambda s, sharp: soft_min([x for _, _, x in s], sharp),
    "only_words": lambda s, _: float(bool(_words(s)) and not _anchors(s)),
    "anchors_found": lambda s, _: float(sum(x >= 1.0 for x in _anchors(s))),
    "anchors_missing": lambda s, _: float(sum(x < 1.0 for x in _anchors(s))),
    "min_word": lambda s, _: min(_words(s), default=1.0),
    "mean_word": lambda s, _: sum(_words(s)) / len(_words(s)) if _words(s) else 1.0,
    "n_words": lambda s, _: float(len(_words(s))),
}
"""What a calibration may weigh, per claim: the soft-minimum score; whether the claim has nothing exact
to check (no name, number, date or role: "only_words"); how many of its names, numbers, dates and
roles the evidence has / lacks; its plain words' lowest and mean support and how many there are."""
SENTENCE_FEATURES = ("cos_sent",)
"""Features of the whole claim rather than its words: ``cos_sent``, the best cosine between the claim's
sentence embedding and one of the evidence's sentences (the encoder's last layer, mean-pooled: the
packaged encoder's own sentence embedding). Word support misses a claim that borrows the evidence's
words to say something else ("wrote on ethics" beside "philosopher"); the sentence as a whole does not
match then."""
ALL_FEATURES = (*FEATURES, *SENTENCE_FEATURES)
FIT_FEATURES = ("score",)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_ABBREVIATIONS = frozenset("c ca fl b d r st mt dr mr mrs ms jr sr no vol op ft gen col lt sgt rev prof".split())


def unknown_feature(names: Sequence[str]) -> str | None:
    """The complaint about the first name that is not a feature (None when all are)."""
    for name in names:
        if name not in ALL_FEATURES:
            return (f"unknown feature '{name}'.{did_you_mean(name, list(ALL_FEATURES))} "
                    f"(known: {', '.join(ALL_FEATURES)})")
    return None


def evidence_sentences(ev_text: str) -> list[str]:
    """The evidence cut at sentence ends: a full stop, ! or ? before a capital, digit or quote, unless the
    full stop ends an initial ("W. E. B. Du Bois") or an abbreviation ("c. 1450", "St. Louis")."""
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(ev_text):
        before = ev_text[start:m.start()].rsplit(None, 1)
        last = before[-1].rstrip(".").lstrip("(\"'").lower() if before else ""
        if ev_text[m.start() - 1] == "." and (len(last) == 1 or last in _ABBREVIATIONS):
            continue
        out.append(ev_text[start:m.start()])
        start = m.end()
    out.append(ev_text[start:])
    return [x.strip() for x in out if x.strip()]


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
        fit_features: tuple[str, ...] = Field(FIT_FEATURES, min_length=1, description="the features `facttune judge "
                                              "fit` fits on: " + ", ".join(ALL_FEATURES))

        @field_validator("fit_features")
        @classmethod
        def _known(cls, v: tuple[str, ...]) -> tuple[str, ...]:
            if (problem := unknown_feature(v)) is not None:
                raise ValueError(problem)
            return v
        batch_size: int = runtime_field(32, ge=1)

    component = "judges/support"
    needs = ("evidence",)

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx
        self.calibration: Calibration | None = None
        self._use: tuple[str, ...] = ()
        if config.fitted:
            self.calibration = Calibration.from_dict(load_fitted(config.fitted, ctx), where=config.fitted)
            self._use = self._calibration_features(self.calibration, ctx)
        self._model: Any = None
        self._tok: Any = None
        self._ev_cache: dict[tuple[str, str], Any] = {}  # claims of one topic share their evidence
        self._sent_cache: dict[str, Any] = {}  # evidence sentence -> its sentence embedding

    def _calibration_features(self, cal: Calibration, ctx: Context) -> tuple[str, ...]:
        """The features the calibration file names, in its order (``f0``, ``f1``: files written before
        features had names stand for the first entries of ``fit_features``)."""
        names = []
        for i, name in enumerate(cal.features):
            legacy = name == f"f{i}" and i < len(self.c.fit_features)
            names.append(self.c.fit_features[i] if legacy else name)
        problem = unknown_feature(names)
        if problem is None and len(names) != len(cal.weights):
            problem = f"{len(names)} features for {len(cal.weights)} weights"
        if problem is not None:
            raise ConfigError(f"calibration file: {problem}", key=f"{ctx.key}.fitted" if ctx.key else None)
        return tuple(names)

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

    def _sentence_vectors(self, texts: list[str]) -> Any:
        """One unit vector per text: the last layer's token states, mean-pooled (sentence-transformers' way)."""
        import torch

        self._load()
        out = []
        for s in range(0, len(texts), self.c.batch_size):
            enc = self._tok(texts[s:s + self.c.batch_size], truncation=True, max_length=256, padding=True,
                            return_tensors="pt")
            with torch.inference_mode():
                hidden = self._model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out.append(torch.nn.functional.normalize(pooled.float(), dim=-1))
        return torch.cat(out) if out else None

    def sentence_cosines(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> list[float]:
        """Per claim, its best sentence-embedding cosine to one of its evidence's sentences (0 without evidence)."""
        import torch

        ev_texts = [text.evidence_text(e.passages) if e is not None else "" for e in evidence]
        split = {t: evidence_sentences(t) for t in dict.fromkeys(ev_texts)}  # claims of a topic share one
        ev_sents = [split[t] for t in ev_texts]
        new = [x for x in dict.fromkeys(x for ss in ev_sents for x in ss) if x not in self._sent_cache]
        if len(self._sent_cache) > 16384:
            self._sent_cache.clear()
        if new:
            self._sent_cache.update(zip(new, self._sentence_vectors(new), strict=True))
        have = [i for i, ss in enumerate(ev_sents) if ss]
        cvs = self._sentence_vectors([claims[i].text for i in have]) if have else None
        out = [0.0] * len(claims)
        for k, i in enumerate(have):
            ev = torch.stack([self._sent_cache[x] for x in ev_sents[i]])
            out[i] = max(0.0, float((ev @ cvs[k]).max()))
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
        return [(f["score"], reason) for f, reason in self._features(claims, evidence, ())]

    def _features(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None],
                  names: Sequence[str] = ALL_FEATURES) -> list[tuple[dict[str, float], str]]:
        """Per claim, the named features (all by default; the score always) and a short reason."""
        wanted = dict.fromkeys(("score", *names))
        cos = self.sentence_cosines(claims, evidence) if "cos_sent" in wanted else None
        out: list[tuple[dict[str, float], str]] = []
        for k, (e, sups) in enumerate(zip(evidence, self.supports(claims, evidence), strict=True)):
            feats = {name: FEATURES[name](sups, self.c.sharpness) for name in wanted if name in FEATURES}
            if cos is not None:
                feats["cos_sent"] = cos[k]
            if not sups:
                out.append((feats, "no evidence" if e is None or not text.evidence_text(e.passages).strip()
                            else "nothing checkable besides the topic's name"))
                continue
            out.append((feats, _reason([(w, x) for w, _, x in sups])))
        return out

    def verify(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> list[Verdict]:
        res = self._features(claims, evidence, self._use)
        self.ctx.progress(len(claims), None)
        out = []
        for c, (f, reason) in zip(claims, res, strict=True):
            p = self.calibration.p_true(*(f[n] for n in self._use)) if self.calibration is not None else f["score"]
            out.append(Verdict(claim_id=c.id, supported=p >= self.c.threshold, p_true=p, judge=self.component,
                               raw=f"score={f['score']:.3f}; "
                                   + (f"cos_sent={f['cos_sent']:.3f}; " if "cos_sent" in f else "") + reason))
        return out

    @property
    def feature_names(self) -> list[str]:
        return list(self.c.fit_features)

    def features(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> list[list[float]]:
        """Per claim, the ``fit_features`` (named by ``feature_names``), for `facttune judge fit`."""
        return [[f[n] for n in self.c.fit_features] for f, _ in self._features(claims, evidence, self.c.fit_features)]


def soft_min(values: Sequence[float], sharpness: float) -> float:
    if not values:
        return 0.0
    ws = [math.exp(-sharpness * v) for v in values]
    return sum(w * v for w, v in zip(ws, values, strict=True)) / sum(ws)


def _reason(sups: list[tuple[str, float]], k: int = 3) -> str:
    weakest = sorted(sups, key=lambda x: x[1])[:k]
    return "weakest: " + ", ".join(f"{w}={s:.2f}" for w, s in weakest)
