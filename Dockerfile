# archiver in a container: watches the sites in /config/archiver.toml, keeps everything in /data.
#   docker build -t archiver .
#   docker run -d --name archiver -v archiver-data:/data -v "$PWD/config:/config:ro" archiver
# The install and start commands below are the ones tests/test_schedule_container.py runs in a
# fresh virtualenv (no Docker engine is needed for that test).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ARCHIVER_DATA_DIR=/data \
    ARCHIVER_CONFIG=/config/archiver.toml

RUN groupadd --system --gid 10001 archiver \
 && useradd --system --uid 10001 --gid archiver --create-home --home-dir /home/archiver archiver

# The package, installed from the source tree (what is copied is filtered by .dockerignore).
COPY . /src
RUN pip install "/src[postgres]"

# The documented example config; mount your own over /config.
COPY config/archiver.toml /config/archiver.toml
RUN mkdir -p /data && chown archiver:archiver /data

USER archiver
WORKDIR /data
VOLUME ["/data"]

# Healthy while the database answers and the scheduler's heartbeat is recent.
HEALTHCHECK --interval=60s --timeout=20s --start-period=60s --retries=3 CMD ["archiver", "health"]

# SIGTERM (docker stop): the page in hand is finished and committed, exit 0 within 10 s.
STOPSIGNAL SIGTERM
CMD ["archiver", "run"]
