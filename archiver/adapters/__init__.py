"""Platform adapters: each knows one platform's HTML and turns it into plain dataclasses."""
