"""Distributed Map: where a Map Run's items come from and where its results go.

* :mod:`~runtime.distributed.store`: S3 buckets through boto3 or as local directories.
* :mod:`~runtime.distributed.reader`: ItemReader, items streamed from JSON, JSON Lines,
  CSV, S3 listings and inventory manifests.
* :mod:`~runtime.distributed.batcher`: ItemBatcher, items grouped into child inputs.
* :mod:`~runtime.distributed.writer`: ResultWriter, child results exported as AWS lays
  them out (``manifest.json``, ``SUCCEEDED_n.json``, ``FAILED_n.json``).
* :mod:`~runtime.distributed.maprun`: one Map Run, driving the above around the child
  executions; called by the Map state's handler (:mod:`runtime.engine.fanout`) for every
  Distributed Map.
* :mod:`~runtime.distributed.runs`: the Map Run resource (DescribeMapRun's fields and
  counters), heard by the store's recorder.
* :mod:`~runtime.distributed.workers`: children that never wait, run across worker
  processes.
"""
