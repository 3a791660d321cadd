# Frontdesk, installed from this repository into a slim Python image, run as a non-root user.
#   docker build -t frontdesk .
#   docker run -p 8000:8000 -v frontdesk-data:/data frontdesk
# Two stages: the build stage's pip, wheels and caches stay out of the final image.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY src ./src
# constraints.txt pins every dependency to the versions CI proved.
RUN python -m venv /opt/frontdesk \
 && /opt/frontdesk/bin/pip install --no-cache-dir --disable-pip-version-check \
        -c constraints.txt . \
 && find /opt/frontdesk -name '__pycache__' -prune -exec rm -rf {} +

FROM python:3.11-slim
# A fixed uid, so a volume's ownership means the same on every host.
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin frontdesk \
 && install -d -o frontdesk -g frontdesk -m 0700 /data
COPY --from=build /opt/frontdesk /opt/frontdesk
ENV PATH=/opt/frontdesk/bin:$PATH \
    FRONTDESK_DATA_DIR=/data \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER frontdesk
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["frontdesk", "serve", "--host", "0.0.0.0", "--port", "8000"]
