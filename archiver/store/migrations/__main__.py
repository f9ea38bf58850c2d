"""Alembic's own command line on archiver's revisions, without an alembic.ini:
`python -m archiver.store.migrations revision --autogenerate --rev-id 0002_name -m "what"`.

It works on ARCHIVER_DATABASE_URL when set, else on a scratch SQLite database brought to the
newest revision first (what --autogenerate compares the models with)."""

from __future__ import annotations

import os
import sys
import tempfile

from alembic.config import CommandLine
from sqlalchemy import create_engine

from archiver.store.migrations.run import alembic_config, upgrade


def main(argv: list[str] | None = None) -> int:
    cli = CommandLine(prog="python -m archiver.store.migrations")
    options = cli.parser.parse_args(argv)
    if not hasattr(options, "cmd"):
        cli.parser.error("too few arguments")
    url = os.environ.get("ARCHIVER_DATABASE_URL")
    with tempfile.TemporaryDirectory() as scratch:
        if not url:
            url = f"sqlite:///{scratch}/scratch.db"
            engine = create_engine(url)
            upgrade(engine)
            engine.dispose()
        config = alembic_config(url=url)
        config.cmd_opts = options
        cli.run_cmd(config, options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
