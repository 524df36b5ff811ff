"""chorus: administer the user-account lifecycle of Chorus Pro from the terminal."""

__version__ = "0.1.0"
