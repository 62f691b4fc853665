"""What the commands share: reading the values and files their common arguments name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from local_pipeline import UsageError


def parameter_overrides(text: str) -> dict[str, str]:
    overrides = {}
    for item in text.split():
        name, equals, value = item.partition("=")
        if not equals or not name:
            raise UsageError(f"--parameter-overrides: {item!r} is not Key=Value")
        overrides[name] = value
    return overrides


def read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{what} {path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{what} {path}: is a folder, not a JSON file") from None
    except OSError as error:
        raise UsageError(f"{what} {path}: cannot read it ({error.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"{what} {path}: not JSON ({error})") from None


def read_env_vars(path: Path | None) -> dict[str, dict[str, Any]]:
    if path is None:
        return {}
    env_vars = read_json(path, "--env-vars")
    shape = '{"FunctionId": {"VAR": "value"}, "Parameters": {"VAR": "value"}}'
    if not isinstance(env_vars, dict) or not all(
        isinstance(value, dict) for value in env_vars.values()
    ):
        raise UsageError(f"--env-vars {path}: expected an object like {shape}")
    return env_vars


def shown(path: Path) -> Path:
    """The path relative to the working directory when it is below it."""
    return path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
