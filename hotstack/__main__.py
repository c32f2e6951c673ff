from hotstack.cli.main import main

main()
