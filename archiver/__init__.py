"""archiver: archive discussion threads (a post and every comment on it) and export them."""

__version__ = "0.1.0"
