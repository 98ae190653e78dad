"""The HTTP API and the server-rendered pages (templates in interfaces/templates, static files in interfaces/static)."""
