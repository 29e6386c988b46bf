"""The ground floor: settings, errors and logging, which every room uses and which use no room of the hub.

Why a room of its own: these were in ``autohub/`` (the CLI, the roof), so every room imported the roof, and the
settings object imported every connector's and room's configuration to hold them — a DAG file or a connector
test pulled in the lot. Here nothing imports a hub room; each room reads its own block of the settings
(``Settings.section``) with the configuration model it owns.
"""
