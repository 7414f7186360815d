"""`python -m nexk_cli`: the same as the `nexk` script."""

from nexk_cli.main import main

main()
