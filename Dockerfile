# Weerbaar: the bot as a container image.
#   docker build -t weerbaar .
#   docker compose up        (see compose.yaml and .env.example)
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot bot
COPY handlers handlers
COPY storage storage
RUN python -m venv /opt/weerbaar \
 && /opt/weerbaar/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/weerbaar/bin/pip install --no-cache-dir . \
 && cd / && /opt/weerbaar/bin/python -m handlers.compile_catalogs

FROM python:3.11-slim
RUN useradd --system --create-home --home-dir /var/lib/weerbaar --uid 10001 weerbaar
COPY --from=build /opt/weerbaar /opt/weerbaar
ENV PATH=/opt/weerbaar/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    WEERBAAR_CONFIG=/etc/weerbaar/config.toml
USER weerbaar
WORKDIR /var/lib/weerbaar
# /metrics, /healthz and /readyz ([monitoring] in config.toml; host 0.0.0.0 inside a container).
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4).status == 200 else 1)"
ENTRYPOINT ["weerbaar"]
CMD ["run"]
