"""``python -m engine ...`` behaves exactly like the ``policy`` command."""

from .cli.fast import main

if __name__ == "__main__":
    main()
