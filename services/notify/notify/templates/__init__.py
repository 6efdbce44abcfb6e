"""Message templates per event type, channel and language (sandboxed Jinja2, strict undefined)."""
