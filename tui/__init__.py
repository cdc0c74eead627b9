"""custdesk's terminal app (Textual): screens, widgets and the flows they share."""

import store  # noqa: F401  (first: sets polars' allocator options before polars loads)
