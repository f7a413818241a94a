from throughline_messaging.migrations import run_env

run_env()
