"""``python -m sb3_cartdqn.zoo``: see :mod:`sb3_cartdqn.zoo.cli`."""

from sb3_cartdqn.zoo.cli import main

if __name__ == "__main__":
    main()
