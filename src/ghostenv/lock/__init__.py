"""uv.lock: the typed model, its reader and its byte-faithful writer."""
