#!/bin/sh
# Sourced by create-topics.sh and grant-access.sh: the admin's client settings for the Kafka command-line tools.
# With KAFKA_ADMIN_PASSWORD set (docker-compose.yml), they log in as admin over SASL_SSL (SCRAM-SHA-512), checking
# the broker's certificate against KAFKA_CA_FILE; without it (a broker without authentication), they connect plainly.
ADMIN_CONFIG=""
if [ -n "${KAFKA_ADMIN_PASSWORD:-}" ]; then
  : "${KAFKA_CA_FILE:?set KAFKA_CA_FILE to the CA certificate (PEM) that signed the broker's certificate}"
  umask 077
  ADMIN_CONFIG="$(mktemp)"
  cat > "$ADMIN_CONFIG" <<CONFIG
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$KAFKA_ADMIN_PASSWORD";
ssl.truststore.type=PEM
ssl.truststore.location=$KAFKA_CA_FILE
CONFIG
fi

# The tools' connection arguments: the bootstrap servers, and the admin's settings when there are some.
admin_connection() {
  if [ -n "$ADMIN_CONFIG" ]; then
    echo "--bootstrap-server $BOOTSTRAP --command-config $ADMIN_CONFIG"
  else
    echo "--bootstrap-server $BOOTSTRAP"
  fi
}
