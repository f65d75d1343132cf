"""``facttune score``'s input: FActScore's JSONL (``{"topic": ..., "output": ...}``) or facttune's
(``{"prompt": ..., "topic": ..., "response": ...}``), read and checked line by line (the bundled
``core/responses`` prompt source hands it to the pipeline; docs/evaluation.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..contract.errors import DataError
from ..contract.records import Prompt, Response
from ..contract.store import iter_jsonl

FACTSCORE_PROMPT = "Tell me a bio of {topic}."  # FActScore's own question, for lines without "input"


@dataclass
class ScoreInput:
    """FILE read and checked: prompts, and the given responses (``meta["line"]`` = FILE's line)."""

    path: Path
    format: str  # "factscore" | "facttune"
    prompts: list[Prompt]
    responses: list[Response]

    def topic_lines(self) -> dict[str, int]:
        """The first line that names each topic."""
        out: dict[str, int] = {}
        for r in self.responses:
            if r.topic is not None:
                out.setdefault(r.topic, int(r.meta["line"]))
        return out


def _slug(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text.lower()).strip("-")[:48] or "p"


def read_input(path: Path) -> ScoreInput:
    """Read and check every line of FILE; a problem is a DataError ``FILE: line N: ...``."""
    path = Path(path)
    where = str(path)
    fmt: str | None = None
    prompts: dict[str, Prompt] = {}
    group_of: dict[Any, str] = {}  # (prompt text, topic) or explicit id → prompt id
    count: dict[str, int] = {}
    responses: list[Response] = []

    def bad(i: int, msg: str) -> DataError:
        return DataError(msg, where=where, key=f"line {i}")

    for i, row in iter_jsonl(path):
        if row.get("_kind") == "response":  # a run's own generations: RUN/…/01-generate-*/records.jsonl
            row = {k: v for k, v in {"id": row.get("prompt_id"), "topic": row.get("topic"),
                                     "response": row.get("text"), "model": row.get("model")}.items()
                   if v is not None}
        has_fs, has_ft = "output" in row, ("response" in row or "responses" in row)
        if fmt is None:
            if not (has_fs or has_ft):
                raise bad(i, "no 'output' (FActScore's format: {\"topic\": ..., \"output\": ...}) and no 'response' "
                             "(facttune's format: {\"prompt\": ..., \"topic\": ..., \"response\": ...})")
            fmt = "factscore" if has_fs else "facttune"
        if fmt == "factscore" and not has_fs:
            raise bad(i, "missing 'output' (this file is in FActScore's format: {\"topic\": ..., \"output\": ...})")
        if fmt == "facttune" and not has_ft:
            raise bad(i, "missing 'response' (this file is in facttune's format: prompt, topic, response)")
        topic = row.get("topic")
        if topic is not None and (not isinstance(topic, str) or not topic.strip()):
            raise bad(i, f"'topic' must be a non-empty string (got {topic!r})")
        model = row.get("model")
        if model is not None and not isinstance(model, str):
            raise bad(i, f"'model' must be a string (got {model!r})")
        pid_given: str | None = None
        if fmt == "factscore":
            if topic is None:
                raise bad(i, "missing 'topic' (FActScore's format: {\"topic\": ..., \"output\": ...})")
            if not isinstance(row["output"], str):
                raise bad(i, f"'output' must be a string (got {row['output']!r})")
            texts = [row["output"]]
            inp = row.get("input")
            if inp is not None and (not isinstance(inp, str) or not inp.strip()):
                raise bad(i, f"'input' (the prompt) must be a non-empty string (got {inp!r}); leave it out for "
                             f"FActScore's own question, {FACTSCORE_PROMPT.format(topic=topic)!r}")
            prompt_text = inp if inp is not None else FACTSCORE_PROMPT.format(topic=topic)
        else:
            prompt_text = row.get("prompt")
            if prompt_text is not None and (not isinstance(prompt_text, str) or not prompt_text.strip()):
                raise bad(i, f"'prompt' must be a non-empty string (got {prompt_text!r})")
            if prompt_text is None and topic is None:
                raise bad(i, "needs a 'prompt' or a 'topic'")
            if prompt_text is None:
                prompt_text = FACTSCORE_PROMPT.format(topic=topic)
            if "response" in row and "responses" in row:
                raise bad(i, "give 'response' or 'responses', not both")
            if "response" in row:
                if not isinstance(row["response"], str):
                    raise bad(i, f"'response' must be a string (got {row['response']!r})")
                texts = [row["response"]]
            else:
                rs = row["responses"]
                if not isinstance(rs, list) or not rs or not all(isinstance(t, str) for t in rs):
                    raise bad(i, "'responses' must be a non-empty list of strings")
                texts = list(rs)
            if row.get("id") is not None:
                if not isinstance(row["id"], str | int) or isinstance(row["id"], bool):
                    raise bad(i, f"'id' must be a string or an integer (got {row['id']!r})")
                pid_given = str(row["id"])
        gkey: Any = ("id", pid_given) if pid_given is not None else ("text", prompt_text, topic)
        pid = group_of.get(gkey)
        if pid is None:
            if pid_given is not None:
                pid = pid_given
                if pid in prompts:
                    raise bad(i, f"id '{pid}' is already the id of another prompt")
            else:
                base = _slug(topic or prompt_text)
                pid, n = base, 1
                while pid in prompts:
                    n += 1
                    pid = f"{base}-{n}"
            group_of[gkey] = pid
            prompts[pid] = Prompt(id=pid, text=prompt_text, topic=topic, split="score", meta={"line": i})
        elif pid_given is not None:
            first = prompts[pid]
            if (first.text, first.topic) != (prompt_text, topic):
                raise bad(i, f"id '{pid}' names another prompt or topic on line {first.meta['line']}")
        for j, text in enumerate(texts):
            k = count.get(pid, 0)
            count[pid] = k + 1
            meta: dict[str, Any] = {"line": i} if len(texts) == 1 else {"line": i, "index": j}
            responses.append(Response(id=f"{pid}/r{k}", prompt_id=pid, text=text, topic=topic, sample=k,
                                      model=model, meta=meta))
    if not responses:
        raise DataError("no responses (the file is empty)", where=where)
    assert fmt is not None
    return ScoreInput(path=path, format=fmt, prompts=list(prompts.values()), responses=responses)
