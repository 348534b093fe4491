resource "aws_sns_topic" "alerts" {
  name = "alerts"
}

resource "aws_sfn_state_machine" "triage" {
  name     = "triage"
  role_arn = "arn:aws:iam::123456789012:role/sfn"
  definition = templatefile("${path.module}/statemachine/triage.asl.yaml", {
    topic_arn = aws_sns_topic.alerts.arn
    threshold = 5
  })
}
