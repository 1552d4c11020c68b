# Wholehearted in a container: python:3.11-slim, a non-root user, and everything the bot
# keeps (the SQLite database and its reply key file) in the volume at /data.
#
#   docker build -t wholehearted .
#   docker run -d --name wholehearted -v wholehearted-data:/data --env-file .env wholehearted
#
# compose.yaml runs it with PostgreSQL; docs/deploy.md says how this file was checked.

# --- build: install the package, through the same pyproject.toml as the README ----------
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Only what the package is made of (see [tool.setuptools] in pyproject.toml).
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY db ./db
COPY content ./content
RUN python -m venv /opt/wholehearted \
    && /opt/wholehearted/bin/pip install . \
    && /opt/wholehearted/bin/wholehearted content check \
    && /opt/wholehearted/bin/pip uninstall --yes --quiet pip

# --- run: the virtual environment and nothing of the build -------------------------------
FROM python:3.11-slim
ENV PATH=/opt/wholehearted/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATABASE_URL=sqlite:////data/wholehearted.sqlite3 \
    METRICS_PORT=9464 \
    METRICS_LISTEN=127.0.0.1
RUN groupadd --system --gid 10001 wholehearted \
    && useradd --system --uid 10001 --gid wholehearted --home-dir /data \
       --shell /usr/sbin/nologin wholehearted \
    && mkdir /data \
    && chown wholehearted:wholehearted /data \
    && chmod 0700 /data
COPY --from=build /opt/wholehearted /opt/wholehearted
COPY deploy/healthcheck.py /opt/wholehearted/healthcheck.py
# Numeric, so a runtime (Kubernetes runAsNonRoot) can tell it is not root.
USER 10001:10001
# The reply key file is made beside the SQLite database: both live in /data. A fresh
# named volume takes this folder's owner and mode (wholehearted, 0700).
WORKDIR /data
VOLUME ["/data"]
# /metrics and /healthz (METRICS_PORT; inside the container only, unless METRICS_LISTEN
# is 0.0.0.0), and Telegram's webhook when TELEGRAM_WEBHOOK_URL is set.
EXPOSE 9464 8443
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "/opt/wholehearted/healthcheck.py"]
ENTRYPOINT ["wholehearted"]
CMD ["run"]
