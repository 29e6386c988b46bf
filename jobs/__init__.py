"""The hub's jobs as plain functions: the CLI and the Airflow DAGs call the same ones.

Each job takes the settings, opens what it needs, does one thing and returns a small report; it raises the
hub's own errors (``core.errors``) so that a caller — a terminal or a scheduler — can say what failed and
whether a retry may help. Nothing here knows about Airflow or about a terminal.
"""
