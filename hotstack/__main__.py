from hotstack.cli import main

main()
