"""Notifications: events emitted in the caller's transaction (`events.emit`), dispatched by the
worker to in-app notifications and emails (`dispatch.py`), each person's preferences."""
