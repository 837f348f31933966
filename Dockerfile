# The teleconsultation service under gunicorn (settings in gunicorn.conf.py).
# Build: docker build -t teleconsultation .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_DEBUG=false

WORKDIR /app
RUN useradd --create-home --uid 10001 app

# The runtime lock only (no test tool in the image), every file checked against its hash.
COPY requirements/ requirements/
RUN pip install --require-hashes -r requirements/base.txt

COPY . .
# collectstatic needs settings to load; these placeholders exist only at build time.
RUN DJANGO_SECRET_KEY=build DJANGO_ALLOWED_HOSTS=build BANDYER_API_SECRET_KEY=build \
    BANDYER_BASE_URL=https://build.invalid python manage.py collectstatic --noinput -v 0 \
    && mkdir -p var && chown -R app var

# A numeric user, so Kubernetes' runAsNonRoot can tell it is not root.
USER 10001
EXPOSE 8000
# Liveness only: whether to send traffic (database, migrations) is /-/ready's answer, which
# compose and Kubernetes ask for themselves.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/-/healthz', timeout=4)"]
CMD ["gunicorn", "--config", "gunicorn.conf.py"]
