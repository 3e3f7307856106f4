from depotctl.cli import main

main()
