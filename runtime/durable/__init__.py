"""Durable running: the execution store, the options an execution was launched with,
resume and redrive from the recorded history, and the ``asl serve`` loop with leases."""
