from sb3_cartdqn.compare.cli import main

main()
