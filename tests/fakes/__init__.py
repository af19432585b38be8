"""Fake chat platforms as real HTTP servers on 127.0.0.1, for the real client libraries to talk to."""
