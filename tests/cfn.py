"""Offline access to template.yaml and its SAM-translated CloudFormation.

samtranslator runs without AWS: the only call it would make (managed-policy lookup) is
served from an empty map, which is safe because the template uses inline policies only,
and the region comes from an explicit boto3 session rather than the environment.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

from stack_model.template import TEMPLATE_PATH, load_template

ROOT = Path(__file__).resolve().parents[1]


@functools.cache
def _sam_template() -> dict[str, Any]:
    return load_template(TEMPLATE_PATH)


def sam_template() -> dict[str, Any]:
    """template.yaml as written (SAM resources), a fresh copy per call."""
    return copy.deepcopy(_sam_template())


@functools.cache
def _translated(parameters: frozenset[tuple[str, str]] = frozenset()) -> dict[str, Any]:
    # Local code paths stand where `sam package` would put S3 URIs.
    template = sam_template()
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for uri_key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(uri_key), str):
                props[uri_key] = f"s3://packaged-code/{props[uri_key].strip('/')}.zip"
    return translate(template, dict(parameters))


def translate(template: dict[str, Any], parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """A SAM template as plain CloudFormation, translated offline by samtranslator."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    session = boto3.session.Session(region_name="us-east-1")
    translator = Translator(managed_policy_map={}, sam_parser=Parser(), boto_session=session)
    return translator.translate(
        template, parameter_values=dict(parameters or {}), get_managed_policy_map=dict
    )


def translated_template(parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """The template as plain CloudFormation, translated offline by samtranslator.

    `parameters` are the deploy's parameter overrides: SAM resolves some of them (such as
    DeploymentPreference.Type) while translating, as the transform does on deploy.
    """
    return copy.deepcopy(_translated(frozenset((parameters or {}).items())))


def resources_of_type(template: dict[str, Any], cfn_type: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == cfn_type}
