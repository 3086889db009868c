"""The OAuth 2.0 authorization server (authlib) and the bearer-token checks of /api/v1."""
