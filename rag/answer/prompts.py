"""Prompts are versioned YAML files in prompts/ (`NAME.VERSION.yaml`) rendered with Jinja2.

Loading is strict: the `name` and `version` inside the file must agree with its file name, the
file must declare its variables, and rendering with a missing or an undeclared variable raises
`PromptError`, as does any undefined name inside the template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from rag.errors import PromptError

__all__ = ["Prompt", "load_prompt"]

_PROMPT_ID = re.compile(r"[a-z]+\.[A-Za-z0-9_-]+")
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    variables: frozenset[str]
    system: jinja2.Template
    user: jinja2.Template

    @property
    def id(self) -> str:
        return f"{self.name}.{self.version}"

    def render(self, **values: Any) -> list[BaseMessage]:
        missing = self.variables - values.keys()
        unknown = values.keys() - self.variables
        if missing or unknown:
            raise PromptError(
                f"prompt {self.id}: missing variables {sorted(missing)}, unknown {sorted(unknown)}"
            )
        try:
            return [
                SystemMessage(self.system.render(**values).strip()),
                HumanMessage(self.user.render(**values).strip()),
            ]
        except jinja2.UndefinedError as exc:
            raise PromptError(f"prompt {self.id}: {exc}") from exc


def load_prompt(folder: Path, prompt_id: str) -> Prompt:
    """Load `folder/<prompt_id>.yaml`, where `prompt_id` is NAME.VERSION, e.g. 'answer.v1'."""
    if not _PROMPT_ID.fullmatch(prompt_id):
        raise PromptError(f"{prompt_id!r} is not a prompt id like 'answer.v1'")
    path = folder / f"{prompt_id}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        prompt = Prompt(
            name=str(data["name"]),
            version=str(data["version"]),
            variables=frozenset(data["variables"]),
            system=_ENV.from_string(data["system"]),
            user=_ENV.from_string(data["user"]),
        )
    except FileNotFoundError as exc:
        raise PromptError(f"prompt file {path} does not exist") from exc
    except (yaml.YAMLError, KeyError, TypeError, jinja2.TemplateSyntaxError) as exc:
        raise PromptError(f"prompt file {path} is malformed: {exc}") from exc
    if prompt.id != prompt_id:
        raise PromptError(
            f"prompt file {path} says name {prompt.name!r}, version {prompt.version!r}: "
            f"its file name must be {prompt.id}.yaml"
        )
    return prompt
