"""Projects, members and roles, the activity feed, broadcasts."""
