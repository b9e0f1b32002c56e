#!/usr/bin/env bash
# `make demo`: local broker up, sample articles in, stream until idle, decoded output and counters out.
set -euo pipefail
cd "$(dirname "$0")/.."
NF=.venv/bin/newsflow
PORT=${NEWSFLOW_DEMO_PORT:-9092}
BOOT="127.0.0.1:${PORT}"
export NEWSFLOW_BOOTSTRAP_SERVERS="$BOOT"

echo "== 1. Kafka broker (KRaft, single node) on ${BOOT}"
$NF kafka up --port "$PORT"

echo "== 2. Produce examples/articles.jsonl to articles.raw"
$NF produce --topic articles.raw examples/articles.jsonl

echo "== 3. Stream until idle (DirectRunner); durable dedup state in .state/"
$NF stream --group-id newsflow-demo --idle-timeout 10 --state-dir .state/demo

echo "== 4. articles.clean (decoded Avro, abridged)"
$NF consume --topic articles.clean | .venv/bin/python deploy/show.py article
echo "== 5. articles.duplicates"
$NF consume --topic articles.duplicates | .venv/bin/python deploy/show.py duplicate
echo "== 6. articles.dlq"
$NF consume --topic articles.dlq | .venv/bin/python deploy/show.py dead_letter
echo "== 7. articles.clean read by a consumer newsflow did not write: Apache Avro's Java BinaryMessageDecoder"
java -cp "examples/consumers/java/target/classes:examples/consumers/java/target/lib/*" \
  newsflow.examples.ArticleConsumer --bootstrap-servers "$BOOT" --topic articles.clean \
  --group-id "newsflow-demo-java-$$" --idle-seconds 3 --fields id,title,published_at
echo
echo "Full records: $NF consume --topic articles.clean   Stop the broker: $NF kafka down"
