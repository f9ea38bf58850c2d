"""Exporters: read the store and write snapshots (text, jsonl, html, warc, wacz)."""
