"""Tickets, comments, assignments, watchers and mentions."""
