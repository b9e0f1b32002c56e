"""Airflow DAG: every day, backfill the previous day of the raw topic into date-partitioned Avro files.

``{{ ds }}`` is the run's logical date, the start of its one-day data interval, so each run backfills
exactly the day that just ended, and ``catchup`` fills missed days one by one. Re-running a task is safe:
the day's files are replaced, never added to, and no consumer offset is touched. Brokers, security and
topics come from ``NEWSFLOW_*`` variables in the worker's environment.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow import DAG

try:  # Airflow 3 ships the operator in the standard provider
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow.operators.bash import BashOperator

NEWSFLOW = "/opt/newsflow/.venv/bin/newsflow"
OUTPUT = "/var/lib/newsflow/backfill"

with DAG(
    dag_id="newsflow_daily_backfill",
    description="Backfill the previous day of articles.raw into Avro files partitioned by dt.",
    schedule="30 2 * * *",
    start_date=datetime(2026, 11, 1),
    catchup=True,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=15)},
    tags=["newsflow"],
) as dag:
    BashOperator(
        task_id="backfill",
        bash_command=(
            f"{NEWSFLOW} --log-format json backfill --topic articles.raw --day {{{{ ds }}}} --output {OUTPUT}"
        ),
        execution_timeout=timedelta(hours=6),
    )
