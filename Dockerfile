# One image for every service of docker-compose.yml: Airflow (api-server, scheduler, dag-processor,
# Celery worker, triggerer), the one-shot init, and the source simulator. The project's own pins only:
# requirements.txt with constraints.txt, the same set the tests run on.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/dvc/dags \
    PYTHONPATH=/opt/dvc \
    GX_ANALYTICS_ENABLED=false

# Airflow's images run as uid 50000, group 0; logs and AIRFLOW_HOME belong to it. The directories
# that docker-compose.yml mounts as named volumes exist here, so the volumes start owned by 50000.
RUN useradd --uid 50000 --gid 0 --home-dir /opt/airflow --create-home airflow \
 && mkdir -p /opt/airflow/logs /opt/dvc/var/data_docs /opt/dvc/var/reports && chown -R 50000:0 /opt/airflow /opt/dvc/var

WORKDIR /opt/dvc
COPY requirements.txt constraints.txt ./
RUN pip install -r requirements.txt

COPY etl/ etl/
COPY sql/ sql/
COPY expectations/ expectations/
COPY mocks/ mocks/
COPY dags/ dags/
COPY airflow/ airflow/

USER 50000
EXPOSE 8080 8765 8793
CMD ["airflow", "version"]
