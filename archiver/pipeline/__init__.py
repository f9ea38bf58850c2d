"""The pipeline: an engine of requests that archives one thread (fetch -> capture stored ->
adapter callback -> store merge), for HTML pages and JSON answers alike.

engine.py runs the queue of requests; reading.py turns one answer into what the adapter found;
merging.py stores it and settles the thread once the queue is done; report.py says what a run did.
"""

from archiver.pipeline.engine import PageCallback, ThreadArchiver
from archiver.pipeline.report import ArchiveReport

__all__ = ["ArchiveReport", "PageCallback", "ThreadArchiver"]
