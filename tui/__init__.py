"""custdesk's user interfaces: the command line and the terminal app."""
