"""The `judge` command line: one command per module, registered in main.py (the table of contents).

Commands parse options into frozen configs, call the library, and print; `common.py` holds what
they share. This is the only layer that reads the environment.
"""
