"""AWS Data Pipeline definitions as Step Functions state machines and schedules.

``asl import-datapipeline PIPELINE.json --out DIR`` (:mod:`runtime.cli.datapipeline`) is
the front end; this package only produces definitions and never runs them, so it lives
in ``asl/`` beside :mod:`asl.templates`, the other reader of someone else's format.

* :mod:`~asl.datapipeline.pipeline`: the definition read, with ``Default``/``parent``
  inheritance;
* :mod:`~asl.datapipeline.expressions`: ``#{...}`` as JSONata;
* :mod:`~asl.datapipeline.schedule`: a ``Schedule`` as a CreateSchedule request;
* :mod:`~asl.datapipeline.preconditions`, :mod:`~asl.datapipeline.activities`: objects
  as states;
* :mod:`~asl.datapipeline.build`: the whole machine, its schedule and mocks;
* :mod:`~asl.datapipeline.report`: the migration report.
"""

from __future__ import annotations

from asl.datapipeline.build import Converted, convert_pipeline
from asl.datapipeline.pipeline import PipelineError, read_pipeline
from asl.datapipeline.report import render_report

__all__ = ["Converted", "PipelineError", "convert_pipeline", "read_pipeline", "render_report"]
