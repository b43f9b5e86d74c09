"""One module per subcommand; common.py holds the options and builders they share."""
