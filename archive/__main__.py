"""`python -m archive` runs the wirearchive CLI."""

from archive.app.cli import main

main()
