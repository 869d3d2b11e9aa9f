"""The admin window: ``MainWindow`` (window.py) builds the panes and a ``WindowSession`` (session.py), the
state its parts share; the menus and editing (actions.py) and the live refresh (live_refresh.py) receive that
session, never the window itself."""

from memgui.app.window import MainWindow, style_sheet

__all__ = ["MainWindow", "style_sheet"]
