"""`python -m archive` runs the wirearchive CLI."""

from archive.cli import main

main()
