"""The commands of test tooling: ``asl test`` (suites and coverage), ``asl test-state``
(one state as the TestState API runs it) and ``asl mock init`` (MockConfigFile test cases);
the tooling itself is in :mod:`runtime.testing`."""
