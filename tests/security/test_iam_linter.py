"""parliament (an IAM policy linter) finds nothing in the roles the stack deploys."""

import json
import warnings

from tests.cfn import resources_of_type, translated_template

# Stand-ins for CloudFormation's intrinsics, so the linter sees concrete ARNs.
PSEUDO = {
    "${AWS::Partition}": "aws",
    "${AWS::StackName}": "s3-event-pipeline",
    "${AWS::AccountId}": "123456789012",
    "${AWS::Region}": "us-east-1",
}
GETATT_ARNS = {
    "AWS::SQS::Queue": "arn:aws:sqs:us-east-1:123456789012:{id}",
    "AWS::Logs::LogGroup": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/{id}:*",
    "AWS::CloudWatch::Alarm": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:{id}",
}
ROLES = ("ImageProcessorRole", "CsvSummarizerRole", "DeploymentRole", "BatchOperationsRole")


def _concrete(value, resources):
    if isinstance(value, list):
        return [_concrete(v, resources) for v in value]
    if not isinstance(value, dict):
        return value
    if "Fn::Sub" in value:
        text = value["Fn::Sub"]
        for token, concrete in PSEUDO.items():
            text = text.replace(token, concrete)
        assert "${" not in text, text
        return text
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        assert attribute == "Arn"
        return GETATT_ARNS[resources[logical_id]["Type"]].format(id=logical_id)
    return {k: _concrete(v, resources) for k, v in value.items()}


def test_parliament_finds_nothing_in_any_role():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # parliament imports pkg_resources
        from parliament import analyze_policy_string

    template = translated_template()
    roles = resources_of_type(template, "AWS::IAM::Role")
    assert set(roles) == set(ROLES)
    findings = {}
    for name, role in roles.items():
        for policy in role["Properties"]["Policies"]:
            document = _concrete(policy["PolicyDocument"], template["Resources"])
            analyzed = analyze_policy_string(json.dumps(document))
            findings[name] = [(f.issue, f.detail) for f in analyzed.findings]
    assert findings == {role: [] for role in ROLES}


def test_parliament_would_flag_a_broad_policy():
    """The check can fail: a wildcard write is reported."""
    from parliament import analyze_policy_string

    broad = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
    assert analyze_policy_string(json.dumps(broad)).findings
