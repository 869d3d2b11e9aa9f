"""memgui: an AI assistant's memory store (``memgui.store``) and the desktop window that looks after it."""

__version__ = "0.1.0"
