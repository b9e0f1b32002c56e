#!/usr/bin/env bash
# Build and run newsflow as a Dataflow Flex Template (streaming, Runner v2, Streaming Engine).
#
#   PROJECT=my-project REGION=europe-west1 BUCKET=my-bucket deploy/dataflow/launch.sh build
#   PROJECT=my-project REGION=europe-west1 BUCKET=my-bucket BOOTSTRAP=broker-1:9093,broker-2:9093 \
#     deploy/dataflow/launch.sh run
#
# Needs: gcloud (authenticated), docker, an Artifact Registry repository $REPO in $REGION, and network
# from both the launcher VM and the workers to the brokers (the launcher reads the partitions' offsets
# before it submits the job). See deploy/DEPLOY.md.
set -euo pipefail

: "${PROJECT:?set PROJECT}" "${REGION:?set REGION}" "${BUCKET:?set BUCKET}"
REPO=${REPO:-newsflow}
TAG=${TAG:-0.1.0}
IMAGE="${REGION}-docker.pkg.dev/${PROJECT}/${REPO}/newsflow-dataflow:${TAG}"
TEMPLATE="gs://${BUCKET}/templates/newsflow-stream-${TAG}.json"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

case "${1:-}" in
  build)
    docker build -f "$ROOT/deploy/dataflow/Dockerfile" -t "$IMAGE" "$ROOT"
    docker push "$IMAGE"
    gcloud dataflow flex-template build "$TEMPLATE" \
      --project "$PROJECT" \
      --image "$IMAGE" \
      --sdk-language PYTHON \
      --metadata-file "$ROOT/deploy/dataflow/metadata.json"
    ;;
  run)
    : "${BOOTSTRAP:?set BOOTSTRAP (Kafka bootstrap servers)}"
    # Workers: max-workers <= partitions of articles.raw (see DEPLOY.md, Sizing). sdk_container_image makes
    # the workers run the same image (newsflow, spaCy model) as the launcher.
    gcloud dataflow flex-template run "newsflow-stream-$(date -u +%Y%m%d-%H%M%S)" \
      --project "$PROJECT" \
      --region "$REGION" \
      --template-file-gcs-location "$TEMPLATE" \
      --staging-location "gs://${BUCKET}/staging" \
      --temp-location "gs://${BUCKET}/temp" \
      --enable-streaming-engine \
      --num-workers "${NUM_WORKERS:-2}" \
      --max-workers "${MAX_WORKERS:-8}" \
      --worker-machine-type "${MACHINE_TYPE:-n2-standard-4}" \
      --additional-experiments use_runner_v2 \
      --parameters "sdk_container_image=${IMAGE}" \
      --parameters "bootstrap_servers=${BOOTSTRAP}" \
      --parameters "input_topic=${INPUT_TOPIC:-articles.raw}" \
      --parameters "output_topic=${OUTPUT_TOPIC:-articles.clean}" \
      --parameters "duplicates_topic=${DUPLICATES_TOPIC:-articles.duplicates}" \
      --parameters "dlq_topic=${DLQ_TOPIC:-articles.dlq}" \
      --parameters "group_id=${GROUP_ID:-newsflow}" \
      --parameters "security_protocol=${SECURITY_PROTOCOL:-SASL_SSL}" \
      --parameters "sasl_mechanism=${SASL_MECHANISM:-SCRAM-SHA-512}" \
      --parameters "sasl_username=${SASL_USERNAME:-newsflow}" \
      --parameters "sasl_password_secret=projects/${PROJECT}/secrets/${SASL_SECRET:-newsflow-sasl}/versions/latest"
    ;;
  *)
    echo "usage: $0 build|run" >&2
    exit 2
    ;;
esac
