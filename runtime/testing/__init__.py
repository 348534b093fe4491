"""Testing support: the pytest plugin (``asl_run`` and ``asl_clock`` fixtures)."""
