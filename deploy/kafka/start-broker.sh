#!/bin/sh
# The broker of docker-compose.yml: Apache Kafka in KRaft mode whose clients must log in (SASL/SCRAM-SHA-512 over
# TLS) and may do only what the ACLs of grant-access.sh allow. docs/security.md explains the choices.
#
# 1. Writes server.properties from the container's KAFKA_CFG_* variables: KAFKA_CFG_FOO_BAR -> foo.bar ("__" stands
#    for "_" and "___" for "-"), so that every setting is in docker-compose.yml where it can be read and checked.
# 2. Adds the one setting that holds a secret: the broker logs in to its own listener as the admin user.
# 3. On the first start only, formats the storage with the admin's SCRAM credential. KRaft keeps SCRAM credentials
#    in its metadata log; the first one must be written at format time, since nobody could log in to add it.
#    (kafka-init then adds the services' users, logged in as admin.)
# 4. Writes the admin's client settings for the healthcheck, and runs Kafka.
#
# Environment (docker-compose.yml): KAFKA_CFG_* settings; KAFKA_CLUSTER_ID (kafka-storage.sh random-uuid, fixed for
# the life of the data volume); KAFKA_ADMIN_PASSWORD (letters and digits only: it is written into a JAAS line).
set -eu

: "${KAFKA_CLUSTER_ID:?set KAFKA_CLUSTER_ID}"
: "${KAFKA_ADMIN_PASSWORD:?set KAFKA_ADMIN_PASSWORD}"
: "${KAFKA_CFG_SSL_TRUSTSTORE_LOCATION:?set KAFKA_CFG_SSL_TRUSTSTORE_LOCATION}"

umask 077  # the files below hold the admin's password: readable by the broker's user only
run_dir=/tmp/throughline-kafka
mkdir -p "$run_dir"
config="$run_dir/server.properties"

env | sed -n 's/^KAFKA_CFG_\([A-Z0-9_]*\)=\(.*\)$/\1 \2/p' | sort | while read -r name value; do
  key=$(printf '%s' "$name" | tr 'A-Z' 'a-z' | sed -e 's/___/-/g' -e 's/__/#/g' -e 's/_/./g' -e 's/#/_/g')
  printf '%s=%s\n' "$key" "$value"
done > "$config"

login="org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"$KAFKA_ADMIN_PASSWORD\";"
printf 'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=%s\n' "$login" >> "$config"

cat > "$run_dir/admin.properties" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=$login
ssl.truststore.type=PEM
ssl.truststore.location=$KAFKA_CFG_SSL_TRUSTSTORE_LOCATION
EOF

# --ignore-formatted: a restart keeps its data (and the credentials already in it); --add-scram applies only to a
# first format.
/opt/kafka/bin/kafka-storage.sh format --config "$config" --cluster-id "$KAFKA_CLUSTER_ID" --ignore-formatted \
  --add-scram "SCRAM-SHA-512=[name=admin,password=$KAFKA_ADMIN_PASSWORD]"

exec /opt/kafka/bin/kafka-server-start.sh "$config"
