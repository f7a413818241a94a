"""What every Throughline service process stands on, written once.

Settings base, database engine and sessions, the HTTP app factory, RFC 9457 problem responses, token
verification, roles and action policies, logging with request ids, health, metrics, paging and the service
command line. No messaging (that is `throughline_messaging`, built on this) and no domain rules.
"""
