"""Social sign-in providers: each maps its payload to a Profile (subject, email, name)."""
