# State machines written the ways the AWS provider's documentation and the
# Serverless Land Terraform patterns write them.

variable "wait_seconds" {
  type    = number
  default = 3
}

variable "environment" {
  type = string
}

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  from_local = jsonencode({
    Comment = "A definition kept in a local value"
    StartAt = "Tag"
    States = {
      Tag = {
        Type       = "Pass"
        Result     = { environment = var.environment, region = data.aws_region.current.name }
        ResultPath = "$.tags"
        End        = true
      }
    }
  })
}

resource "aws_lambda_function" "hello" {
  function_name = "hello"
  role          = aws_iam_role.lambda.arn
  handler       = "app.handler"
  runtime       = "python3.12"
  filename      = "hello.zip"
}

resource "aws_lambda_function" "process" {
  function_name = "process"
  role          = aws_iam_role.lambda.arn
  handler       = "app.handler"
  runtime       = "python3.12"
  filename      = "process.zip"
}

resource "aws_dynamodb_table" "orders" {
  name         = "orders"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_sns_topic" "alerts" {
  name = "alerts"
}

resource "aws_iam_role" "lambda" {
  name               = "lambda"
  assume_role_policy = "{}"
}

resource "aws_iam_role" "sfn" {
  name               = "sfn"
  assume_role_policy = "{}"
}

resource "aws_sfn_state_machine" "hello_jsonencode" {
  name     = "hello-jsonencode"
  role_arn = aws_iam_role.sfn.arn

  definition = jsonencode({
    Comment = "A Hello World example of the Amazon States Language using an AWS Lambda Function"
    StartAt = "HelloWorld"
    States = {
      HelloWorld = {
        Type     = "Task"
        Resource = aws_lambda_function.hello.arn
        Retry = [{
          ErrorEquals     = ["States.TaskFailed"]
          IntervalSeconds = 1
          MaxAttempts     = 2
          BackoffRate     = 2.0
        }]
        End = true
      }
    }
  })
}

resource "aws_sfn_state_machine" "hello_heredoc" {
  name     = "hello-heredoc"
  role_arn = aws_iam_role.sfn.arn

  definition = <<EOF
{
  "Comment": "A Hello World example of the Amazon States Language using an AWS Lambda Function",
  "StartAt": "HelloWorld",
  "States": {
    "HelloWorld": {
      "Type": "Task",
      "Resource": "${aws_lambda_function.hello.arn}",
      "End": true
    }
  }
}
EOF
}

resource "aws_sfn_state_machine" "orders_templatefile" {
  name     = "orders"
  role_arn = aws_iam_role.sfn.arn
  definition = templatefile("${path.module}/statemachine/orders.asl.json", {
    process_function_arn = aws_lambda_function.process.arn
    orders_table         = aws_dynamodb_table.orders.name
    alerts_topic_arn     = aws_sns_topic.alerts.arn
  })

  logging_configuration {
    include_execution_data = true
    level                  = "ERROR"
  }
}

resource "aws_sfn_state_machine" "pass_file" {
  name       = "pass-file"
  role_arn   = aws_iam_role.sfn.arn
  definition = file("${path.module}/statemachine/pass.asl.json")
}

resource "aws_sfn_state_machine" "from_local" {
  name       = "from-local"
  role_arn   = aws_iam_role.sfn.arn
  definition = local.from_local
}

resource "aws_sfn_state_machine" "express_wait" {
  name     = "express-wait"
  role_arn = aws_iam_role.sfn.arn
  type     = "EXPRESS"

  definition = jsonencode({
    StartAt = "Pause"
    States = {
      Pause = {
        Type    = "Wait"
        Seconds = var.wait_seconds
        Next    = "Both"
      }
      Both = {
        Type = "Parallel"
        Branches = [
          {
            StartAt = "Invoke"
            States = {
              Invoke = {
                Type     = "Task"
                Resource = "arn:aws:states:::lambda:invoke"
                Parameters = {
                  FunctionName = aws_lambda_function.process.arn
                  "Payload.$"  = "$"
                }
                OutputPath = "$.Payload"
                End        = true
              }
            }
          },
          {
            StartAt = "Account"
            States = {
              Account = {
                Type   = "Pass"
                Result = "${data.aws_caller_identity.current.account_id}"
                End    = true
              }
            }
          }
        ]
        End = true
      }
    }
  })
}
