"""custdesk on the web: the app in a browser (textual-serve) and the customers' own sign-up page."""
