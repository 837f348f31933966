"""Mia-Platform CRUD Service: the HTTP client, its errors, and a local simulator."""
