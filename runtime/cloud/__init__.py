"""Beyond this machine: AWS Step Functions itself, driven with the local tools.

* :mod:`runtime.cloud.deploy`: create or update a state machine on AWS (or a stand-in such
  as moto, LocalStack or ``asl serve --api``) after validating it locally and remotely,
  with the definition's diff, versions and aliases;
* :mod:`runtime.cloud.remote`: start an execution there and follow its
  ``GetExecutionHistory``, handing each event to the same observers as a local run (the
  live trace, the store), so ``--history`` and ``--report`` work alike;
* :mod:`runtime.cloud.diff`: compare two runs (local and cloud, or two local) state by
  state.

Every call here is one the user asked for: nothing in this package runs unless a command
was given ``--on aws`` or is ``asl deploy``.
"""
