#!/bin/sh
# Kafka users and ACLs for docker-compose.yml's broker; the Strimzi KafkaUser resources in
# deploy/k8s/base/kafka-users.yaml declare the same. Run by kafka-init (logged in as admin) after create-topics.sh,
# on every deploy: adding an ACL twice changes nothing, and setting a password again changes it (rotation).
#
# Everything not granted here is refused (allow.everyone.if.no.acl.found=false). Literal names only: a prefix
# "crm." would also cover the ERP's dead-letter topics crm.*.erp.dlt. docs/security.md explains the model:
#   crm, erp     write their own event topics and their dead-letter topics, read the topics they consume, in their
#                own consumer group. Nothing else: no topic creation, no other service's topics.
#   gateway      reads the event topics (the live stream); no consumer group (it assigns partitions itself).
#   dlt-replay   the operators' DLT replay (python -m <service> replay-dlt): reads the dead-letter topics and
#                re-publishes to the topics they came from. It cannot forge: events keep their producer's signature.
# tests/deploy/test_bus_security.py checks these lines against the topics and groups the code uses.
#
# Environment: KAFKA_BOOTSTRAP_SERVERS, KAFKA_ADMIN_PASSWORD, KAFKA_CA_FILE (admin-client.sh), and the users'
# passwords KAFKA_CRM_PASSWORD, KAFKA_ERP_PASSWORD, KAFKA_GATEWAY_PASSWORD, KAFKA_DLT_REPLAY_PASSWORD.
set -eu

BOOTSTRAP="${KAFKA_BOOTSTRAP_SERVERS:-kafka:9093}"
KAFKA_CONFIGS="${KAFKA_CONFIGS_BIN:-/opt/kafka/bin/kafka-configs.sh}"
KAFKA_ACLS="${KAFKA_ACLS_BIN:-/opt/kafka/bin/kafka-acls.sh}"
. "$(dirname "$0")/admin-client.sh"

user() {  # user NAME PASSWORD: the SCRAM-SHA-512 credential of a Kafka user
  # shellcheck disable=SC2046
  "$KAFKA_CONFIGS" $(admin_connection) --alter --entity-type users --entity-name "$1" \
    --add-config "SCRAM-SHA-512=[iterations=8192,password=$2]"
}

allow() {  # allow USER ARGS...: one ACL for User:USER
  principal="$1"; shift
  # shellcheck disable=SC2046
  "$KAFKA_ACLS" $(admin_connection) --add --allow-principal "User:$principal" "$@"
}

write_topic() { allow "$1" --operation Write --topic "$2" --resource-pattern-type literal; }  # Write implies Describe
read_topic() { allow "$1" --operation Read --topic "$2" --resource-pattern-type literal; }    # Read implies Describe
read_group() { allow "$1" --operation Read --group "$2" --resource-pattern-type literal; }    # join, commit offsets

user crm "${KAFKA_CRM_PASSWORD:?set KAFKA_CRM_PASSWORD}"
user erp "${KAFKA_ERP_PASSWORD:?set KAFKA_ERP_PASSWORD}"
user gateway "${KAFKA_GATEWAY_PASSWORD:?set KAFKA_GATEWAY_PASSWORD}"
user dlt-replay "${KAFKA_DLT_REPLAY_PASSWORD:?set KAFKA_DLT_REPLAY_PASSWORD}"

# crm: consumer group "crm" reads erp.project.events and erp.invoice.events
write_topic crm crm.lead.events
write_topic crm crm.account.events
write_topic crm crm.deal.events
write_topic crm erp.project.events.crm.dlt
write_topic crm erp.invoice.events.crm.dlt
read_topic crm erp.project.events
read_topic crm erp.invoice.events
read_group crm crm

# erp: consumer group "erp" reads crm.deal.events and crm.account.events
write_topic erp erp.project.events
write_topic erp erp.invoice.events
write_topic erp erp.expense.events
write_topic erp erp.ledger.events
write_topic erp crm.deal.events.erp.dlt
write_topic erp crm.account.events.erp.dlt
read_topic erp crm.deal.events
read_topic erp crm.account.events
read_group erp erp

# gateway: the live stream reads every event topic
read_topic gateway crm.lead.events
read_topic gateway crm.account.events
read_topic gateway crm.deal.events
read_topic gateway erp.project.events
read_topic gateway erp.invoice.events
read_topic gateway erp.expense.events
read_topic gateway erp.ledger.events

# dlt-replay: each dead-letter topic back to the topic it parks, progress in "<group>.dlt-replay"
read_topic dlt-replay crm.deal.events.erp.dlt
read_topic dlt-replay crm.account.events.erp.dlt
read_topic dlt-replay erp.project.events.crm.dlt
read_topic dlt-replay erp.invoice.events.crm.dlt
write_topic dlt-replay crm.deal.events
write_topic dlt-replay crm.account.events
write_topic dlt-replay erp.project.events
write_topic dlt-replay erp.invoice.events
read_group dlt-replay erp.dlt-replay
read_group dlt-replay crm.dlt-replay
