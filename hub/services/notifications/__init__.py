"""Who is notified of what (routing), stored notifications, preferences."""
