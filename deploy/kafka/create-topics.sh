#!/bin/sh
# Creates Throughline's topics and dead-letter topics with their partition counts. Idempotent: run it
# before the services on every deploy (docker-compose.yml's kafka-init job does). On Kubernetes the
# Strimzi KafkaTopic resources in deploy/k8s/base/kafka-topics.yaml declare the same set.
#
# Topics: one per aggregate, key = aggregate id (throughline_events.TOPICS), 6 partitions each.
# Dead-letter topics: <topic>.<consumer group>.dlt, 1 partition (order of failures), kept 30 days.
#
# Logged in as the admin user when KAFKA_ADMIN_PASSWORD is set (admin-client.sh): no service may create topics.
set -eu

BOOTSTRAP="${KAFKA_BOOTSTRAP_SERVERS:-kafka:9093}"
REPLICATION="${TOPIC_REPLICATION_FACTOR:-1}"
MIN_ISR="${TOPIC_MIN_INSYNC_REPLICAS:-1}"
KAFKA_TOPICS="${KAFKA_TOPICS_BIN:-/opt/kafka/bin/kafka-topics.sh}"
DLT_RETENTION_MS=2592000000
. "$(dirname "$0")/admin-client.sh"

create() {
  name="$1"; partitions="$2"; shift 2
  # shellcheck disable=SC2046  # admin_connection is a list of arguments
  "$KAFKA_TOPICS" $(admin_connection) --create --if-not-exists --topic "$name" \
    --partitions "$partitions" --replication-factor "$REPLICATION" \
    --config min.insync.replicas="$MIN_ISR" "$@"
}

# Event topics
create crm.lead.events 6
create crm.account.events 6
create crm.deal.events 6
create erp.project.events 6
create erp.invoice.events 6
create erp.expense.events 6
create erp.ledger.events 6

# Dead-letter topics: consumer group "erp" reads crm.deal.events and crm.account.events
create crm.deal.events.erp.dlt 1 --config retention.ms="$DLT_RETENTION_MS"
create crm.account.events.erp.dlt 1 --config retention.ms="$DLT_RETENTION_MS"
# Dead-letter topics: consumer group "crm" reads erp.project.events and erp.invoice.events
create erp.project.events.crm.dlt 1 --config retention.ms="$DLT_RETENTION_MS"
create erp.invoice.events.crm.dlt 1 --config retention.ms="$DLT_RETENTION_MS"

# shellcheck disable=SC2046
"$KAFKA_TOPICS" $(admin_connection) --list
