"""The backends: each persists what the rules decide, behind the seam of ``memgui.store.backend``. No backend
imports another."""
