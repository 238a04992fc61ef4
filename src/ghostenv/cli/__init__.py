"""The command-line interface: argparse tree, output helpers, one module per subcommand."""
