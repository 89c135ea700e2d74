"""The ``policy`` command: one module per subcommand, assembled in :mod:`engine.cli.app`."""
