"""custdesk's user interfaces: the command line and the terminal app."""

import store  # noqa: F401  (first: sets polars' allocator options before polars loads)
