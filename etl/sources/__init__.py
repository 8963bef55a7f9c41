"""One client per source system. Each streams records page by page."""
