"""Answers that come from outside an execution: task tokens waiting for
SendTaskSuccess/Failure/Heartbeat, and the activity worker that runs a command per task."""
