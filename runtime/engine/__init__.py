"""The engine: the interpreter and everything one transition touches.

Clocks, the history events and the exception hierarchy, the execution's bookkeeping,
the walk through states and one module per state family (tasks, Parallel and Map,
Retry and Catch, waiting), and replay of a recorded history. Nothing here knows how
an execution was launched, stored or shown.
"""
