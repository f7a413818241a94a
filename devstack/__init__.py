"""Development stack: embedded PostgreSQL and Kafka-compatible broker, and the `make run` supervisor.

Used by `make run` and the test session only; never shipped in a service image.
"""
