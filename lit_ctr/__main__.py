"""``python -m lit_ctr`` is the ``lit-ctr`` command."""

from lit_ctr.cli import main

if __name__ == "__main__":
    main()
