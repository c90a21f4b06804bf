"""The logic of each self-service flow, as plain functions.

Flows never touch ``request``, ``session``, ``flash`` or templates: views and the
CLI call them alike, so the rules, the audit log and the outbox apply to both.
"""
