"""`archiver serve`: the archive read, searched and added to in a browser (app.py: the routes,
queries.py: what the pages read, jobs.py: the archive form's work, security.py: the guards)."""
