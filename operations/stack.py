"""The deployed stack as the operations tools see it: its outputs, account and region."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from stack_model.template import ROOT

SAMCONFIG_PATH = ROOT / "samconfig.toml"


class OperationsError(Exception):
    """A misuse or a refusal; the message is one line for the user."""


def default_stack_name(path: Path = SAMCONFIG_PATH) -> str:
    """The stack `sam deploy` deploys by default: samconfig.toml's [default] stack_name."""
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
        return str(config["default"]["global"]["parameters"]["stack_name"])
    except (OSError, tomllib.TOMLDecodeError, KeyError) as error:
        raise OperationsError(
            f"no default stack name in {path.name} ({error}): give --stack NAME"
        ) from None


@dataclass(frozen=True)
class Deployment:
    stack_name: str
    account: str
    partition: str  # aws, aws-cn, aws-us-gov: from the caller's ARN
    region: str
    outputs: dict[str, str]

    def output(self, name: str) -> str:
        try:
            return self.outputs[name]
        except KeyError:
            raise OperationsError(
                f"stack {self.stack_name} has no output {name}: deploy the current "
                "template.yaml first (make deploy)"
            ) from None

    def bucket_arn(self, bucket: str) -> str:
        return f"arn:{self.partition}:s3:::{bucket}"


def read_deployment(session: Any, stack_name: str) -> Deployment:
    """Who we are (STS) and what the stack exposes (CloudFormation outputs)."""
    region = session.region_name
    if not region:
        raise OperationsError("no AWS region: set AWS_REGION or give --region")
    identity = session.client("sts").get_caller_identity()
    try:
        response = session.client("cloudformation").describe_stacks(StackName=stack_name)
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", "")
        if "does not exist" in message:
            raise OperationsError(
                f"stack {stack_name} not found in account {identity['Account']}, {region}: "
                "give --stack NAME (and --region), or deploy it (make deploy)"
            ) from None
        raise
    (stack,) = response["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    partition = str(identity["Arn"]).split(":")[1]
    return Deployment(stack_name, str(identity["Account"]), partition, region, outputs)
