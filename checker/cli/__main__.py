"""`python -m checker.cli`: the same command as the console script."""
from .app import main

main()
