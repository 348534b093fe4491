"""``asl mock init``: MockConfigFiles whose every test case was run before it was written.

Modules: ``cases`` (the test cases: happy path, each Catch, Retry and Choice outcome, and
the file), ``search`` (running a case and repairing its answers until it goes where it
should), ``responses`` (answers shaped like each service's, from botocore's model),
``forcing`` (where a value must go in an earlier answer to reach a later state), ``rules``
(values that make a Choice rule match, errors that reach a Catch or Retry), ``runs``
(reading a run's history) and ``plan`` (a test case being built, and the file format).
"""

from runtime.testing.mockinit.cases import GeneratedCase, MockInit, generate

__all__ = ["GeneratedCase", "MockInit", "generate"]
