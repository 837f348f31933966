# The teleconsultation service under gunicorn. Build: docker build -t teleconsultation .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_DEBUG=false

WORKDIR /app
RUN useradd --create-home --uid 10001 app

COPY requirements/ requirements/
RUN pip install -r requirements/base.txt

COPY . .
# collectstatic needs settings to load; these placeholders exist only at build time.
RUN DJANGO_SECRET_KEY=build DJANGO_ALLOWED_HOSTS=build BANDYER_API_SECRET_KEY=build \
    BANDYER_BASE_URL=https://build.invalid python manage.py collectstatic --noinput \
    && mkdir -p var && chown -R app var

USER app
EXPOSE 8000
CMD ["gunicorn", "teleconsultation_project.wsgi:application", "--bind", "0.0.0.0:8000", \
     "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
