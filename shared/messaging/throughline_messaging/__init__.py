"""Infrastructure shared by Throughline services, written once.

Messaging (outbox, relay, inbox, consumer, dead letters, replay) and the runtime plumbing that
carries request and correlation ids from HTTP into events and back. No domain rules live here.
"""
