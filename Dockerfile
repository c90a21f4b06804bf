# The service image: gunicorn serving auth_service, and the same image runs the
# outbox worker and migrations (see docker-compose.yml).
FROM python:3.11.10-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md gunicorn.conf.py ./
COPY auth_service ./auth_service
COPY templates ./templates
COPY migrations ./migrations
RUN pip install '.[postgres,redis]' \
 && useradd --system --uid 10001 --home /app --shell /usr/sbin/nologin auth
COPY examples ./examples

USER auth
ENV AUTH_ENV=production AUTH_INSTANCE_PATH=/tmp/auth-instance
EXPOSE 8000
# gunicorn with gunicorn.conf.py (shipped inside the package), as on any other host.
CMD ["auth-service", "serve", "--host", "0.0.0.0", "--port", "8000"]
