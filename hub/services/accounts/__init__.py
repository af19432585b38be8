"""Sign-up, sign-in, sessions and tokens, passwords and their hashing."""
