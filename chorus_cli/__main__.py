from chorus_cli.cli import main

main()
