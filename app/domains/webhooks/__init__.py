"""Webhooks: signed deliveries of workflow events and record changes to machine clients."""
