"""Fake components and pytest fixtures for plugin authors (and facttune's own unit tests).

The fakes live in a tiny made-up world: each topic has true facts (in the fake knowledge source)
and false ones the fake generator sometimes states, so a run through the fakes yields real,
checkable scores, pairs and a "trained" adapter without any model.

Use them in-process with the ``fake_registry`` fixture (``pytest_plugins =
["facttune_core.testing"]`` in your conftest), or in a ``facttune`` subprocess with
``FACTTUNE_PLUGINS=facttune_core.testing``; they are registered under the plugin name ``fake``.

The testing kit for plugin authors (docs/writing-a-plugin.md):

- ``make_component(name, args)``: build an installed component by name, args validated as in a recipe;
- ``run_recipe(recipe, run_dir)``: run a recipe (a path or TOML text) in-process, as ``facttune run``;
- ``fake_recipe_text(verify="you/yours", ...)``: a whole recipe over the fakes with yours swapped in;
- the ``fake_registry`` fixture: every installed plugin plus the fakes, and a private cache folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..contract.cache import CallCache
from ..contract.config import runtime_field
from ..contract.context import Context
from ..contract.errors import ConfigError, UnknownComponentError, did_you_mean
from ..contract.hookspecs import Register, hookimpl
from ..contract.protocols import DataBundle, GeneratorConfig, TrainData, TrainResult
from ..contract.records import (
    Claim,
    Decoding,
    Evidence,
    Passage,
    Prompt,
    Response,
    Reward,
    ScoredResponse,
    Verdict,
)
from ..contract.store import atomic_write_json
from ..scoring.metrics import factscore

PLUGIN_NAME = "fake"

TRUE_FACTS = ("{t} was born in Lisbon.", "{t} worked as a cartographer.", "{t} wrote three atlases.",
              "{t} died in 1901.")
FALSE_FACTS = ("{t} was born in Oslo.", "{t} worked as a sailor.", "{t} won an Olympic medal.",
               "{t} died in 1950.")
FAKE_PEOPLE = ("Ada Quill", "Bruno Vell", "Carla Miro", "Dmitri Sol", "Elena Fawn", "Femi Okoro",
               "Greta Lind", "Hiro Tanabe")


def _u(*parts: Any) -> float:
    h = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    return int(h[:8], 16) / 0xFFFFFFFF


def _log_call(path: str | None, kind: str, n: int) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"kind": kind, "n": n, "pid": os.getpid()}) + "\n")
            f.flush()


class FakePrompts:
    """Bio prompts about made-up people, split train/test."""

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        n_train: int = Field(4, ge=0)
        n_test: int = Field(2, ge=0)
        template: str = "Write me a paragraph biography of {topic}."

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config

    def load(self) -> DataBundle:
        people = [f"{FAKE_PEOPLE[i % len(FAKE_PEOPLE)]}{'' if i < len(FAKE_PEOPLE) else f' {i}'}"
                  for i in range(self.c.n_train + self.c.n_test)]
        prompts = [Prompt(id=f"bio-{i:03d}", text=self.c.template.format(topic=p), topic=p,
                          split="train" if i < self.c.n_train else "test") for i, p in enumerate(people)]
        return DataBundle(prompts=prompts)


class FakeGenerator:
    """States 4 facts per response, each true with probability ``p_true`` (raised by an adapter
    written by ``fake/trainer``). Every uncached call is logged to ``calls_log`` when set."""

    class Config(GeneratorConfig):
        model: str = "fake-policy"
        n: int = Field(2, ge=1)
        p_true: float = Field(0.5, ge=0.0, le=1.0)
        adapter: str | None = None
        seed: int = 0
        delay: float = runtime_field(0.0, ge=0.0)
        calls_log: str | None = runtime_field(None)

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx
        self.model_name = config.model
        self.p_true = config.p_true
        if config.adapter:
            self.p_true = float(json.loads((Path(config.adapter) / "adapter.json").read_text())["p_true"])

    def generate(self, prompts: Sequence[Prompt], n: int = 1, decoding: Decoding | None = None) -> list[list[Response]]:
        d = decoding or Decoding()
        inputs = [{"prompt": p.text, "topic": p.topic, "k": k} for p in prompts for k in range(n)]

        def run(batch: list[dict[str, Any]]) -> list[str]:
            _log_call(self.c.calls_log, "generate", len(batch))
            time.sleep(self.c.delay * len(batch))
            out = []
            for x in batch:
                t = x["topic"] or "Someone"
                facts = [(TRUE_FACTS if _u(self.c.seed, x["prompt"], x["k"], i, self.p_true) < self.p_true
                          else FALSE_FACTS)[i].format(t=t) for i in range(4)]
                out.append(" ".join(facts))
            return out

        params = {**d.to_dict(), "p_true": self.p_true, "seed": self.c.seed}
        texts = self.ctx.cache.map("fake/generate", self.model_name, inputs, params, run, batch_size=1)
        out: list[list[Response]] = []
        it = iter(texts)
        for p in prompts:
            out.append([Response(id=f"{p.id}/r{k}", prompt_id=p.id, text=next(it), topic=p.topic, sample=k,
                                 model=self.model_name) for k in range(n)])
        return out


class FakeRetriever:
    """The fake world's knowledge: each topic's true facts as one passage."""

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        k: int = Field(1, ge=1)

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config

    def retrieve(self, claims: Sequence[Claim]) -> list[Evidence]:
        return [Evidence(claim_id=c.id, query=f"{c.topic} {c.text}",
                         passages=(Passage(title=c.topic or "", text=" ".join(f.format(t=c.topic) for f in TRUE_FACTS)),))
                for c in claims]


class FakeVerifier:
    """Supported iff the claim's text appears in its evidence (or, without evidence, iff it is
    one of the fake world's true facts: a perfectly calibrated "belief")."""

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        delay: float = runtime_field(0.0, ge=0.0)
        calls_log: str | None = runtime_field(None)
        batch_size: int = runtime_field(4, ge=1)

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config
        self.ctx = ctx

    def verify(self, claims: Sequence[Claim], evidence: Sequence[Evidence | None]) -> list[Verdict]:
        inputs = [{"claim": c.text, "topic": c.topic,
                   "evidence": [p.text for p in e.passages] if e is not None else None}
                  for c, e in zip(claims, evidence, strict=True)]

        def run(batch: list[dict[str, Any]]) -> list[float]:
            _log_call(self.c.calls_log, "verify", len(batch))
            time.sleep(self.c.delay * len(batch))
            out = []
            for x in batch:
                if x["evidence"] is not None:
                    ok = any(x["claim"].lower() in e.lower() for e in x["evidence"])
                else:
                    ok = any(x["claim"] == f.format(t=x["topic"]) for f in TRUE_FACTS)
                out.append(0.9 if ok else 0.1)
            return out

        ps = self.ctx.cache.map("fake/verify", "fake-judge", inputs, None, run, batch_size=self.c.batch_size)
        return [Verdict(claim_id=c.id, supported=p >= 0.5, p_true=p, judge="fake-judge")
                for c, p in zip(claims, ps, strict=True)]


class FakeReward:
    """FActScore without the length penalty, named ``factscore`` (or ``name``)."""

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str = "factscore"

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config

    def score(self, items: Sequence[ScoredResponse]) -> list[list[Reward]]:
        out = []
        for it in items:
            s = sum(1 for v in it.verdicts if v.supported)
            out.append([Reward(response_id=it.response.id, prompt_id=it.prompt.id, name=self.c.name,
                               value=factscore(s, len(it.claims)),
                               details={"supported": s, "claims": len(it.claims)})])
        return out


class FakeTrainer:
    """"Trains" by writing an adapter that raises the fake generator's p_true by ``lift`` times
    the share of pairs whose chosen side has the higher reward."""

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        args: dict[str, Any] = Field(default_factory=dict)
        model: dict[str, Any] = Field(default_factory=dict)

    def __init__(self, config: Config, ctx: Context) -> None:
        self.c = config

    def train(self, data: TrainData, out_dir: Path) -> TrainResult:
        lift = float(self.c.args.get("lift", 0.4))
        base = float(self.c.model.get("p_true", 0.5))
        n = len(data.pairs) + len(data.sft)
        good = sum(1 for p in data.pairs if p.chosen_reward > p.rejected_reward) + len(data.sft)
        p_true = min(1.0, base + lift * (good / n if n else 0.0))
        adapter = out_dir / "adapter"
        adapter.mkdir(parents=True, exist_ok=True)
        atomic_write_json(adapter / "adapter.json", {"p_true": p_true, "base_model": data.base_model})
        log = [{"step": i + 1, "loss": 0.69 * (0.9 ** i)} for i in range(max(1, n))]
        return TrainResult(adapter_dir=adapter, metrics={"examples": n, "p_true": p_true}, log=log)


@hookimpl
def register_prompt_sources(register: Register) -> None:
    register("prompts", FakePrompts)


@hookimpl
def register_generators(register: Register) -> None:
    register("generator", FakeGenerator)


@hookimpl
def register_evidence_retrievers(register: Register) -> None:
    register("retriever", FakeRetriever)


@hookimpl
def register_claim_verifiers(register: Register) -> None:
    register("verifier", FakeVerifier)


@hookimpl
def register_reward_combiners(register: Register) -> None:
    register("reward", FakeReward)


@hookimpl
def register_trainers(register: Register) -> None:
    register("trainer", FakeTrainer)


FAKE_RECIPE = """
[run]
name = "fake"

[data]
component = "fake/prompts"
args = {{ n_train = {n_train}, n_test = {n_test} }}

[generate]
component = "fake/generator"
args = {{ n = {n}{gen_extra} }}

[extract]
component = "{extract}"
{retrieve_table}
[verify]
component = "{verify}"
args = {{ {verify_args} }}

[reward]
component = "{reward}"

[pairs]
mode = "all_pairs"
reward = "factscore"

[train]
component = "fake/trainer"

[evaluate]
split = "test"
"""


def _inline_args(args: str | Mapping[str, Any]) -> str:
    """Args as the inside of a TOML inline table: a string is taken as written."""
    if isinstance(args, str):
        return args
    from ..run.tomlout import toml_value

    return toml_value(dict(args))[1:-1].strip() if args else ""


def fake_recipe_text(n_train: int = 4, n_test: int = 2, n: int = 2, gen_extra: str = "",
                     verify_args: str | Mapping[str, Any] = "", *, verify: str = "fake/verifier",
                     retrieve: str | None = "fake/retriever", retrieve_args: str | Mapping[str, Any] = "",
                     extract: str = "core/sentences", reward: str = "fake/reward") -> str:
    """A full recipe over the fake components (data → generate → … → train → evaluate).

    Swap your component in by name: ``fake_recipe_text(verify="drugcheck/label", verify_args={...})``
    (args as a dict, or as the inside of a TOML inline table). ``retrieve=None`` drops the
    ``[retrieve]`` table. The reward stage must name its reward ``factscore`` (the pairs use it).
    """
    table = f'\n[retrieve]\ncomponent = "{retrieve}"\n' if retrieve else ""
    if retrieve and retrieve_args:
        table += f"args = {{ {_inline_args(retrieve_args)} }}\n"
    return FAKE_RECIPE.format(n_train=n_train, n_test=n_test, n=n, gen_extra=gen_extra,
                              verify_args=_inline_args(verify_args), verify=verify, retrieve_table=table,
                              extract=extract, reward=reward)


# ---------------------------------------------------------------------------- the testing kit

def make_component(name: str, args: Mapping[str, Any] | None = None, *, kind: str | None = None,
                   ctx: Context | None = None, recipe_dir: str | Path | None = None) -> Any:
    """Build an installed component by name, as a recipe would: ``make_component("drugcheck/label",
    {"units": ["mg"]})``. The kind is found from the name (pass ``kind="claim_verifier"`` when two
    kinds share it). Bad args raise the error ``facttune validate`` prints (``verify.args.unit:
    unknown key. Did you mean 'units'?``). ``recipe_dir``: where relative paths in args resolve
    (default: the current folder). ``ctx``: default a fresh Context with an in-memory call cache.
    """
    from ..contract.extras import check_available
    from ..contract.hookspecs import KINDS
    from ..contract.registry import get_registry, instantiate, validate_args
    from ..run.stages import stage_for_kind

    KIND_LABELS = {k.name: k.label for k in KINDS}

    reg = get_registry()
    if kind is not None and kind not in KIND_LABELS:
        raise ConfigError(f"unknown kind '{kind}'.{did_you_mean(kind, list(KIND_LABELS))} "
                          f"Known: {', '.join(KIND_LABELS)}")
    kinds = [kind] if kind else [k for k, t in reg.components.items() if name in t]
    if not kinds:
        known = sorted(n for t in reg.components.values() for n in t)
        raise UnknownComponentError(f"unknown component '{name}'.{did_you_mean(name, known)} "
                                    "(is its plugin installed? `facttune plugins` lists them)")
    if len(kinds) > 1:
        raise ConfigError(f"'{name}' names a component of several kinds ({', '.join(kinds)}): pass kind=")
    spec = reg.components[kinds[0]][name]
    base = Path(recipe_dir) if recipe_dir is not None else Path.cwd()
    prefix = stage_for_kind(spec.kind.protocol).args_key()
    check_available(spec, key=prefix)  # as a recipe does, before its args
    config = validate_args(spec, dict(args or {}), prefix, "", base)
    if ctx is None:
        ctx = Context(key=prefix, recipe_path=base / "recipe.toml")
    return instantiate(spec, config, ctx)


def run_recipe(recipe: str | Path, run_dir: str | Path, *, overrides: Sequence[str] = (),
               until: str | None = None, force_from: str | None = None,
               cache: CallCache | None = None) -> dict[str, Any]:
    """Validate and run a recipe in-process, as ``facttune run`` does (without the report); returns
    each stage's result by stage name (``.records``, ``.status``: ran / done / resumed, ``.counts``,
    ``.manifest``, ``.dir``).

    ``recipe``: a ``Path`` to a TOML file, or the TOML text itself (a ``str`` with a newline), which
    is written to ``<run_dir>.toml`` so relative paths in it resolve against run_dir's folder.
    ``overrides``: ``--set`` style strings (``"verify.component=drugcheck/label"``). The call cache
    is ``<run_dir>/calls.sqlite`` unless ``cache`` is given, so a test never touches the user's cache.
    """
    from ..run.pipeline import Pipeline
    from ..run.recipe import load_recipe

    run_dir = Path(run_dir)
    if isinstance(recipe, str) and "\n" in recipe:
        path = run_dir.parent / f"{run_dir.name}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(recipe, encoding="utf-8")
    else:
        path = Path(recipe)
    resolved = load_recipe(path, list(overrides))
    if cache is None:
        run_dir.mkdir(parents=True, exist_ok=True)
        cache = CallCache(run_dir / "calls.sqlite")
    return Pipeline(resolved, run_dir, cache=cache, until=until, force_from=force_from).run()


# ---------------------------------------------------------------------------- pytest fixtures
try:
    import pytest
except ImportError:  # pragma: no cover - fixtures only matter under pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture
    def fake_registry(monkeypatch: Any, tmp_path: Path) -> Iterator[Any]:
        """A registry with the bundled/installed plugins plus the fakes, and a private cache dir."""
        import sys

        from ..contract import plugins, registry

        monkeypatch.setenv("FACTTUNE_CACHE_DIR", str(tmp_path / "cache"))
        pm = plugins.make_plugin_manager(extra=[sys.modules[__name__]])
        plugins.reset_plugin_manager(pm)
        yield registry.get_registry()
        plugins.reset_plugin_manager(None)

    @pytest.fixture
    def fake_recipe(tmp_path: Path) -> Path:
        """A recipe file over the fake components."""
        path = tmp_path / "fake.toml"
        path.write_text(fake_recipe_text(), encoding="utf-8")
        return path
