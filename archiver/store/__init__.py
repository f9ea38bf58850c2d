"""The store: SQLModel tables on SQLite (embedded default) or PostgreSQL."""
