"""The HTTP service: the JSON API, the web pages, the jobs queue behind `add`, and the server."""
