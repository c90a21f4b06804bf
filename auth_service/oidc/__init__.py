"""The OpenID Connect provider side of the service (Authlib's server), and its signed tokens.

``provider.init_app`` wires it into the app. This package's ``__init__`` imports
nothing, so the sessions flow can import ``oidc.signout`` without pulling in the
views.
"""
