"""Maintenance of a store: verify, repair, migrate (encrypt, rotate the key), and the ``memgui-store`` command
line."""
