"""Email: rendering into the outbox (``outbox``), and sending it (``worker``, ``transport``)."""
