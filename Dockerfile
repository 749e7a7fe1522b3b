# One image for the Fireline API, the worker and the one-shot setup job.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY core core
COPY dsl dsl
COPY store store
COPY connectors connectors
COPY notifications notifications
COPY services services
COPY workflows workflows
COPY activities activities
COPY api api
COPY cli cli
COPY worker.py ./
COPY yaml_workflows yaml_workflows
RUN pip install --no-cache-dir .
ENV FIRELINE_WORKFLOWS_DIR=/app/yaml_workflows \
    FIRELINE_DATA_DIR=/var/lib/fireline \
    FIRELINE_API_HOST=0.0.0.0
CMD ["fireline", "api"]
