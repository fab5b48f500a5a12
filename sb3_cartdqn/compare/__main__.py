"""``python -m sb3_cartdqn.compare``: see :mod:`sb3_cartdqn.compare.cli`."""

from sb3_cartdqn.compare.cli import main

if __name__ == "__main__":
    main()
