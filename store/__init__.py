"""The hub store: tables, migrations and the repository functions — the only room that writes SQL."""
