"""Red Africa Travel, the demo content site (see README.md); ``app.create_app()`` builds it."""
