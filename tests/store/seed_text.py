"""The code examples of the seed document, copied verbatim (a test checks them against the seed itself
when the seed is beside this checkout)."""

from __future__ import annotations

from pathlib import Path

SEED_PATH = Path(__file__).resolve().parents[3] / "shared" / "seed" / "000_f00f14a9afa6d14f.txt"

SEED_USAGE_EXAMPLE = '''from memory_management import initialize, get_memory_store

# Initialize the memory system
initialize()

# Get memory store instance
memory = get_memory_store()

# Create or get a user
user = memory.get_or_create_user("user123", "JohnDoe")

# Add a message
memory.add_message("user123", "user", "Hello, Elysia!")

# Get conversation history
messages = memory.get_message_history("user123")

# Store user facts
memory.add_user_fact("user123", "Lives in New York", "location")

# Get user facts
facts = memory.get_user_facts("user123")

# Update user streak
streak_data = memory.update_streak("user123")
'''

SEED_CONFIG_EXAMPLE = '''from memory_management import initialize

initialize({
    "MAX_MESSAGES": 100,
    "DATA_DIR": "/custom/path/to/data"
})
'''


def seed_document() -> str | None:
    """The seed's text, or None when this checkout is not in the workplace layout."""
    try:
        return SEED_PATH.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
