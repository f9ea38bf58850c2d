"""Threads rebuilt from web archives: WARC and WACZ files read as if fetched (records.py: the
index of their responses; replay.py: a fetcher answering from it; runner.py: `archiver import`)."""
