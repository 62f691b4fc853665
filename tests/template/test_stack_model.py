"""The template model merges Globals into each function as SAM does, checked against
samtranslator's offline translation: of template.yaml, and of a template that exercises
every merge rule (maps deeply, lists extended, Architectures replaced, intrinsics as values).
"""

from __future__ import annotations

from typing import Any

import pytest

from stack_model.template import Stack, load_stack
from tests.cfn import resources_of_type, translate, translated_template

# Properties that SAM copies from the merged function to AWS::Lambda::Function unchanged.
COPIED = ("Handler", "Runtime", "Architectures", "Environment", "LoggingConfig", "Timeout")
LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:{}:1"


@pytest.mark.parametrize("function", ["ImageProcessorFunction", "CsvSummarizerFunction"])
def test_the_stacks_functions_merge_globals_as_sam_translates_them(function: str) -> None:
    translated = resources_of_type(translated_template(), "AWS::Lambda::Function")
    merged = load_stack().function_properties(function)
    for name in (*COPIED, "MemorySize", "RecursiveLoop"):
        assert merged.get(name) == translated[function]["Properties"].get(name), name


def _every_rule() -> dict[str, Any]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Parameters": {"Level": {"Type": "String", "Default": "INFO"}},
        "Globals": {
            "Function": {
                "Runtime": "python3.13",
                "Timeout": 10,
                "Architectures": ["arm64"],
                "Layers": [LAYER.format("shared")],
                "Environment": {"Variables": {"A": "global", "B": "global"}},
                "LoggingConfig": {"LogFormat": "JSON", "ApplicationLogLevel": {"Ref": "Level"}},
            }
        },
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Handler": "app.handler",
                    "CodeUri": "s3://code/fn.zip",
                    "Architectures": ["x86_64"],
                    "Layers": [LAYER.format("own")],
                    "Environment": {"Variables": {"B": "local", "C": {"Ref": "Level"}}},
                    "LoggingConfig": {"ApplicationLogLevel": "DEBUG", "SystemLogLevel": "WARN"},
                },
            }
        },
    }


def test_every_merge_rule_matches_the_translator() -> None:
    template = _every_rule()
    (translated,) = resources_of_type(translate(template), "AWS::Lambda::Function").values()
    merged = Stack(_every_rule()).function_properties("Fn")
    for name in (*COPIED, "Layers"):
        assert merged[name] == translated["Properties"][name], name
    # What the rules give, spelt out:
    assert merged["Environment"] == {
        "Variables": {"A": "global", "B": "local", "C": {"Ref": "Level"}}
    }
    assert merged["Layers"] == [LAYER.format("shared"), LAYER.format("own")]
    assert merged["Architectures"] == ["x86_64"]
    assert merged["LoggingConfig"] == {
        "LogFormat": "JSON",
        "ApplicationLogLevel": "DEBUG",
        "SystemLogLevel": "WARN",
    }
