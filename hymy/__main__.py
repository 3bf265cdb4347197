from hymy.cli import main

main()
