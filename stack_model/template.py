"""Read template.yaml the way CloudFormation and Lambda would, offline.

Everything the local runner and the operations tools know about the stack (buckets,
functions, handlers, layers, environment, S3 event filters, retry settings) comes from here,
out of the template itself; nothing is copied into code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_PATH = ROOT / "template.yaml"

LOCAL_ACCOUNT = "123456789012"
LOCAL_REGION = "us-east-1"
LOCAL_STACK = "local"


class TemplateError(ValueError):
    """The template uses something this reader does not resolve."""


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation short tags (!Ref, !Sub, ...) into long form."""


def _construct_tag(loader: _CfnLoader, tag_suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)


@dataclass(frozen=True)
class BucketSpec:
    logical_id: str
    name: str
    versioned: bool


@dataclass(frozen=True)
class S3EventSpec:
    name: str
    bucket_logical_id: str
    events: tuple[str, ...]
    prefix: str
    suffix: str

    def matches(self, key: str) -> bool:
        return key.startswith(self.prefix) and key.endswith(self.suffix)


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    handler: str
    code_dir: Path
    layer_dirs: tuple[Path, ...]
    environment: dict[str, str]
    memory_mb: int
    timeout_s: int
    max_retry_attempts: int
    max_event_age_s: int
    on_failure_queue: str | None
    events: tuple[S3EventSpec, ...] = field(default=())

    @property
    def import_roots(self) -> tuple[Path, ...]:
        """sys.path as Lambda builds it: the code (/var/task), then the layers (/opt/python)."""
        return (self.code_dir, *self.layer_dirs)


@dataclass
class Stack:
    """The template with its intrinsic functions resolved for one local deployment."""

    template: dict[str, Any]
    stack_name: str = LOCAL_STACK
    account: str = LOCAL_ACCOUNT
    region: str = LOCAL_REGION
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    root: Path = ROOT

    def __post_init__(self) -> None:
        check_parameter_overrides(self.template, self.parameter_overrides)

    # ------------------------------------------------------------------ resolution
    def parameters(self) -> dict[str, str]:
        values = {
            name: str(spec.get("Default", ""))
            for name, spec in self.template.get("Parameters", {}).items()
        }
        values.update(self.parameter_overrides)
        return values

    def _pseudo(self) -> dict[str, str]:
        return {
            "AWS::StackName": self.stack_name,
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def _condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def physical_name(self, logical_id: str) -> str:
        """What !Ref gives for a resource: its declared name, else a stack-derived one."""
        resource = self.template["Resources"][logical_id]
        props = resource.get("Properties", {})
        for name_prop in ("BucketName", "FunctionName", "QueueName", "TopicName", "LogGroupName"):
            if name_prop in props:
                return str(self.resolve(props[name_prop]))
        return f"{self.stack_name}-{logical_id}"

    def resolve(self, value: Any) -> Any:
        """Resolve Ref, Sub, GetAtt, If, Equals, Not, Join and Select; leave plain data."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self.resolve(v) for k, v in value.items()}
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return self._ref(arg)
        if fn == "Fn::Sub":
            return self._sub(arg)
        if fn == "Fn::GetAtt":
            logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return self._get_att(logical_id, attribute)
        if fn == "Fn::If":
            cond, yes, no = arg
            return self.resolve(yes if self._condition(cond) else no)
        if fn == "Fn::Equals":
            a, b = (self.resolve(v) for v in arg)
            return str(a) == str(b)
        if fn == "Fn::Not":
            return not self.resolve(arg[0])
        if fn == "Fn::Join":
            sep, items = arg
            return str(sep).join(str(self.resolve(i)) for i in items)
        if fn == "Fn::Select":
            index, items = arg
            return self.resolve(items)[int(self.resolve(index))]
        if fn.startswith("Fn::"):
            raise TemplateError(f"{fn} is not resolved locally")
        return {k: self.resolve(v) for k, v in value.items()}

    def _ref(self, name: str) -> Any:
        if name in self._pseudo():
            return self._pseudo()[name]
        if name == "AWS::NoValue":
            return None
        if name in self.parameters():
            return self.parameters()[name]
        if name in self.template["Resources"]:
            return self.physical_name(name)
        raise TemplateError(f"!Ref {name} names nothing in the template")

    def _get_att(self, logical_id: str, attribute: str) -> str:
        resource = self.template["Resources"][logical_id]
        name = self.physical_name(logical_id)
        if attribute == "Arn":
            service = resource["Type"].split("::")[1].lower()
            if service == "s3":
                return f"arn:aws:s3:::{name}"
            return f"arn:aws:{service}:{self.region}:{self.account}:{name}"
        if attribute == "QueueName":
            return name
        raise TemplateError(f"!GetAtt {logical_id}.{attribute} is not resolved locally")

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        resolved_vars = {k: str(self.resolve(v)) for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            token = match.group(1)
            if token.startswith("!"):
                return "${" + token[1:] + "}"
            if token in resolved_vars:
                return resolved_vars[token]
            if "." in token:
                logical_id, attribute = token.split(".", 1)
                return self._get_att(logical_id, attribute)
            return str(self._ref(token))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    # ------------------------------------------------------------------ views
    def _resources(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {
            lid: res
            for lid, res in self.template["Resources"].items()
            if res.get("Type") == cfn_type
        }

    def buckets(self) -> list[BucketSpec]:
        specs = []
        for logical_id, res in self._resources("AWS::S3::Bucket").items():
            props = res.get("Properties", {})
            status = (props.get("VersioningConfiguration") or {}).get("Status")
            specs.append(
                BucketSpec(logical_id, self.physical_name(logical_id), status == "Enabled")
            )
        return specs

    def layer_dir(self, logical_id: str) -> Path:
        """Source folder of a layer; a python-built layer's code is importable from it."""
        props = self.template["Resources"][logical_id]["Properties"]
        return self.root / str(props["ContentUri"])

    def function_properties(self, logical_id: str) -> dict[str, Any]:
        """A function's properties with the template's Globals merged in, as SAM merges them."""
        globals_fn = self.template.get("Globals", {}).get("Function", {})
        local = self.template["Resources"][logical_id].get("Properties", {})
        return dict(merge_globals(globals_fn, local))

    def functions(self) -> list[FunctionSpec]:
        specs = []
        for logical_id in self._resources("AWS::Serverless::Function"):
            props = self.function_properties(logical_id)
            env = props.get("Environment", {}).get("Variables", {})
            invoke = props.get("EventInvokeConfig", {})
            on_failure = invoke.get("DestinationConfig", {}).get("OnFailure", {})
            queue = None
            if on_failure.get("Type") == "SQS":
                destination = on_failure["Destination"]
                queue = destination["Fn::GetAtt"][0] if "Fn::GetAtt" in destination else None
            layers = []
            for layer in props.get("Layers", []):
                if isinstance(layer, dict) and "Ref" in layer:
                    layers.append(self.layer_dir(layer["Ref"]))
            specs.append(
                FunctionSpec(
                    logical_id=logical_id,
                    name=str(self.resolve(props.get("FunctionName", logical_id))),
                    handler=str(props["Handler"]),
                    code_dir=self.root / str(props["CodeUri"]),
                    layer_dirs=tuple(layers),
                    environment={k: str(self.resolve(v)) for k, v in env.items()},
                    memory_mb=int(self.resolve(props.get("MemorySize", 128))),
                    timeout_s=int(self.resolve(props.get("Timeout", 3))),
                    max_retry_attempts=int(invoke.get("MaximumRetryAttempts", 2)),
                    max_event_age_s=int(invoke.get("MaximumEventAgeInSeconds", 21600)),
                    on_failure_queue=queue,
                    events=tuple(self._s3_events(props.get("Events", {}))),
                )
            )
        return specs

    def function(self, logical_id: str) -> FunctionSpec:
        for spec in self.functions():
            if spec.logical_id == logical_id:
                return spec
        raise KeyError(logical_id)

    def _s3_events(self, events: dict[str, Any]) -> list[S3EventSpec]:
        specs = []
        for name, event in events.items():
            if event.get("Type") != "S3":
                continue
            props = event["Properties"]
            rules = props.get("Filter", {}).get("S3Key", {}).get("Rules", [])
            by_name = {rule["Name"].lower(): str(rule["Value"]) for rule in rules}
            kinds = props["Events"]
            specs.append(
                S3EventSpec(
                    name=name,
                    bucket_logical_id=props["Bucket"]["Ref"],
                    events=tuple(kinds if isinstance(kinds, list) else [kinds]),
                    prefix=by_name.get("prefix", ""),
                    suffix=by_name.get("suffix", ""),
                )
            )
        return specs


# Function properties whose list a function's own replaces instead of extending.
_REPLACED_LISTS = frozenset({"Architectures"})


def merge_globals(global_value: Any, local_value: Any, path: str = "") -> Any:
    """``local_value`` with ``global_value`` merged in, by SAM's rules for Globals.

    Maps merge key by key, deeply; lists are the global items, then the function's
    (``Architectures``: the function's list alone); any other value, an intrinsic function
    included, is the function's. Values of different kinds: the function's.
    """
    kinds = (_merge_kind(global_value), _merge_kind(local_value))
    if kinds == ("map", "map"):
        merged = dict(global_value)
        for key, value in local_value.items():
            child = f"{path}.{key}".lstrip(".")
            merged[key] = merge_globals(merged[key], value, child) if key in merged else value
        return merged
    if kinds == ("list", "list") and path not in _REPLACED_LISTS:
        return [*global_value, *local_value]
    return local_value


def _merge_kind(value: Any) -> str:
    """'map', 'list' or 'value'; an intrinsic function counts as a value, as it resolves to one."""
    if isinstance(value, dict):
        name = str(next(iter(value))) if len(value) == 1 else ""
        return "value" if name in ("Ref", "Condition") or name.startswith("Fn::") else "map"
    return "list" if isinstance(value, list) else "value"


def check_parameter_overrides(template: dict[str, Any], overrides: dict[str, str]) -> None:
    """Refuse what CloudFormation would refuse: unknown names and values outside the rules."""
    declared = template.get("Parameters", {})
    for name, value in overrides.items():
        if name not in declared:
            known = ", ".join(sorted(declared))
            raise TemplateError(f"parameter {name!r} is not in template.yaml; it has {known}")
        rules = declared[name]
        if rules.get("Type", "String") == "Number":
            try:
                number = float(value)
            except ValueError:
                raise TemplateError(f"parameter {name} must be a number, got {value!r}") from None
            low, high = rules.get("MinValue"), rules.get("MaxValue")
            if (low is not None and number < float(low)) or (
                high is not None and number > float(high)
            ):
                raise TemplateError(f"parameter {name}={value} is outside its range {low}..{high}")
        allowed = rules.get("AllowedValues")
        if allowed is not None and value not in [str(v) for v in allowed]:
            choices = ", ".join(str(v) for v in allowed)
            raise TemplateError(f"parameter {name}={value!r} must be one of: {choices}")
        pattern = rules.get("AllowedPattern")
        if pattern is not None and not re.fullmatch(pattern, value):
            raise TemplateError(f"parameter {name}={value!r} does not match {pattern}")
        length = len(value)
        if length < int(rules.get("MinLength", 0)) or length > int(rules.get("MaxLength", length)):
            raise TemplateError(f"parameter {name}={value!r} has a length outside its bounds")


def load_stack(**kwargs: Any) -> Stack:
    return Stack(load_template(), **kwargs)
