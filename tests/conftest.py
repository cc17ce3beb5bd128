"""Shared fixtures. App-specific factories live in tests/<app>/factories.py."""
