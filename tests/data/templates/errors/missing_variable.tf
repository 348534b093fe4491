variable "bucket" {
  type = string
}

resource "aws_sfn_state_machine" "needs_bucket" {
  name     = "needs-bucket"
  role_arn = "arn:aws:iam::123456789012:role/sfn"
  definition = jsonencode({
    StartAt = "Done"
    States  = { Done = { Type = "Pass", Result = var.bucket, End = true } }
  })
}
