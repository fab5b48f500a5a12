"""``python -m sb3_cartdqn.batched``: see :mod:`sb3_cartdqn.batched.cli`."""

from sb3_cartdqn.batched.cli import main

if __name__ == "__main__":
    main()
