"""``python -m lit_ctr`` is the ``lit-ctr`` command."""

from lit_ctr.cli import console_main

if __name__ == "__main__":
    console_main()
