"""Stand-in values for what only a deployed stack knows: ARNs, names, URLs, the region.

A template refers to its resources (``!GetAtt HelloFunction.Arn``,
``aws_lambda_function.hello.arn``) and to the account it is deployed in (``AWS::Region``).
Offline none of these exist, so each becomes a value shaped like the real one and named after
the resource: a Lambda function's ARN ends in ``function:HelloFunction``, so a local handler
bound with ``--lambda HelloFunction=...`` answers it. Every stand-in is recorded as a
:class:`Placeholder` so the commands can say what they invented.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DEFAULT_ACCOUNT",
    "DEFAULT_REGION",
    "Placeholder",
    "cfn_value",
    "pseudo_parameter",
    "terraform_value",
]

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"


@dataclass(frozen=True, slots=True)
class Placeholder:
    """One value that was made up because the template could not say it offline."""

    #: The reference as the template wrote it (``HelloFunction.Arn``, ``AWS::Region``).
    reference: str
    #: The value used in its place.
    value: str
    #: What it stands for ("AWS::Lambda::Function", "pseudo parameter"...).
    kind: str

    def describe(self) -> str:
        """One line for stderr: ``reference -> value (kind)``."""
        return f"{self.reference} -> {self.value} ({self.kind})"


#: service kind -> the ARN pattern of one resource of it, named ``{name}``.
_ARNS: dict[str, str] = {
    "lambda": "arn:aws:lambda:{region}:{account}:function:{name}",
    "sns": "arn:aws:sns:{region}:{account}:{name}",
    "sqs": "arn:aws:sqs:{region}:{account}:{name}",
    "dynamodb": "arn:aws:dynamodb:{region}:{account}:table/{name}",
    "s3": "arn:aws:s3:::{name}",
    "states": "arn:aws:states:{region}:{account}:stateMachine:{name}",
    "activity": "arn:aws:states:{region}:{account}:activity:{name}",
    "events": "arn:aws:events:{region}:{account}:event-bus/{name}",
    "iam": "arn:aws:iam::{account}:role/{name}",
    "ecs-cluster": "arn:aws:ecs:{region}:{account}:cluster/{name}",
    "ecs-task": "arn:aws:ecs:{region}:{account}:task-definition/{name}:1",
    "batch-queue": "arn:aws:batch:{region}:{account}:job-queue/{name}",
    "batch-job": "arn:aws:batch:{region}:{account}:job-definition/{name}:1",
    "glue": "arn:aws:glue:{region}:{account}:job/{name}",
    "kinesis": "arn:aws:kinesis:{region}:{account}:stream/{name}",
    "logs": "arn:aws:logs:{region}:{account}:log-group:{name}:*",
    "secrets": "arn:aws:secretsmanager:{region}:{account}:secret:{name}",
    "ecr": "arn:aws:ecr:{region}:{account}:repository/{name}",
    "apigateway": "arn:aws:apigateway:{region}::/restapis/{name}",
}

#: CloudFormation type -> (service kind, what Ref returns, {attribute: what it returns}).
#: "name", "arn", "url" are shapes; Ref's return follows each type's documentation.
_CFN_TYPES: dict[str, tuple[str, str, dict[str, str]]] = {
    "AWS::Lambda::Function": ("lambda", "name", {"Arn": "arn"}),
    "AWS::Serverless::Function": ("lambda", "name", {"Arn": "arn"}),
    "AWS::SNS::Topic": ("sns", "arn", {"TopicArn": "arn", "TopicName": "name"}),
    "AWS::SQS::Queue": ("sqs", "url", {"Arn": "arn", "QueueName": "name", "QueueUrl": "url"}),
    "AWS::DynamoDB::Table": ("dynamodb", "name", {"Arn": "arn"}),
    "AWS::Serverless::SimpleTable": ("dynamodb", "name", {"Arn": "arn"}),
    "AWS::S3::Bucket": ("s3", "name", {"Arn": "arn"}),
    "AWS::StepFunctions::StateMachine": ("states", "arn", {"Arn": "arn", "Name": "name"}),
    "AWS::Serverless::StateMachine": ("states", "arn", {"Arn": "arn", "Name": "name"}),
    "AWS::StepFunctions::Activity": ("activity", "arn", {"Arn": "arn", "Name": "name"}),
    "AWS::Events::EventBus": ("events", "name", {"Arn": "arn", "Name": "name"}),
    "AWS::IAM::Role": ("iam", "name", {"Arn": "arn"}),
    "AWS::ECS::Cluster": ("ecs-cluster", "name", {"Arn": "arn"}),
    "AWS::ECS::TaskDefinition": ("ecs-task", "arn", {"TaskDefinitionArn": "arn"}),
    "AWS::Batch::JobQueue": ("batch-queue", "arn", {"JobQueueArn": "arn"}),
    "AWS::Batch::JobDefinition": ("batch-job", "arn", {}),
    "AWS::Glue::Job": ("glue", "name", {}),
    "AWS::Kinesis::Stream": ("kinesis", "name", {"Arn": "arn"}),
    "AWS::Logs::LogGroup": ("logs", "name", {"Arn": "arn"}),
    "AWS::SecretsManager::Secret": ("secrets", "arn", {}),
    "AWS::ECR::Repository": ("ecr", "name", {"Arn": "arn"}),
    "AWS::ApiGateway::RestApi": ("apigateway", "name", {}),
    "AWS::Serverless::Api": ("apigateway", "name", {}),
}

#: Terraform type -> (service kind, {attribute: shape}); "arn", "name" and "id" fall back
#: to the shapes below when a type does not list them.
_TF_TYPES: dict[str, tuple[str, dict[str, str]]] = {
    "aws_lambda_function": ("lambda", {"function_name": "name", "qualified_arn": "arn"}),
    "aws_sns_topic": ("sns", {"id": "arn"}),
    "aws_sqs_queue": ("sqs", {"id": "url", "url": "url"}),
    "aws_dynamodb_table": ("dynamodb", {}),
    "aws_s3_bucket": ("s3", {"bucket": "name"}),
    "aws_sfn_state_machine": ("states", {"id": "arn"}),
    "aws_sfn_activity": ("activity", {"id": "arn"}),
    "aws_cloudwatch_event_bus": ("events", {}),
    "aws_iam_role": ("iam", {}),
    "aws_ecs_cluster": ("ecs-cluster", {"id": "arn"}),
    "aws_ecs_task_definition": ("ecs-task", {}),
    "aws_batch_job_queue": ("batch-queue", {"id": "arn"}),
    "aws_batch_job_definition": ("batch-job", {"id": "arn"}),
    "aws_glue_job": ("glue", {}),
    "aws_kinesis_stream": ("kinesis", {}),
    "aws_cloudwatch_log_group": ("logs", {}),
    "aws_secretsmanager_secret": ("secrets", {"id": "arn"}),
    "aws_ecr_repository": ("ecr", {}),
}
_TF_DEFAULT_SHAPES = {"arn": "arn", "name": "name", "id": "name", "url": "url"}


def _arn(kind: str, name: str, region: str, account: str) -> str:
    pattern = _ARNS.get(kind, "arn:aws:" + kind + ":{region}:{account}:{name}")
    return pattern.format(region=region, account=account, name=name)


def _shape(kind: str, shape: str, name: str, region: str, account: str) -> str:
    if shape == "arn":
        return _arn(kind, name, region, account)
    if shape == "url":
        return f"https://sqs.{region}.amazonaws.com/{account}/{name}"
    return name


def cfn_value(
    resource_type: str, name: str, attribute: str | None, region: str, account: str
) -> str:
    """The stand-in for ``Ref name`` (``attribute`` None) or ``GetAtt name.attribute``."""
    known = _CFN_TYPES.get(resource_type)
    if known is None:
        # An unknown type still gets something recognisable: its service and the name.
        service = resource_type.split("::")[1].lower() if "::" in resource_type else "unknown"
        if attribute is None:
            return name
        if attribute.endswith("Arn"):
            return _arn(service, name, region, account)
        return f"{name}.{attribute}"
    kind, ref_shape, attributes = known
    shape = ref_shape if attribute is None else attributes.get(attribute)
    if shape is None:
        shape = "arn" if attribute and attribute.endswith("Arn") else "name"
    return _shape(kind, shape, name, region, account)


def terraform_value(
    resource_type: str, name: str, attribute: str, region: str, account: str
) -> str:
    """The stand-in for the Terraform reference ``resource_type.name.attribute``."""
    kind, attributes = _TF_TYPES.get(resource_type, (resource_type.removeprefix("aws_"), {}))
    if attribute == "invoke_arn" and kind == "lambda":
        function = _arn(kind, name, region, account)
        return (
            f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function}/invocations"
        )
    shape = attributes.get(attribute) or _TF_DEFAULT_SHAPES.get(attribute, "name")
    return _shape(kind, shape, name, region, account)


#: Pseudo parameter -> its stand-in, given the region and account in use.
_PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "local-stack",
    "AWS::StackId": "arn:aws:cloudformation:{region}:{account}:stack/local-stack/"
    "00000000-0000-0000-0000-000000000000",
    "AWS::Region": "{region}",
    "AWS::AccountId": "{account}",
}


def pseudo_parameter(name: str, region: str, account: str) -> str | None:
    """The stand-in for a pseudo parameter (``AWS::Region``...), or None if it is not one."""
    pattern = _PSEUDO.get(name)
    return None if pattern is None else pattern.format(region=region, account=account)
