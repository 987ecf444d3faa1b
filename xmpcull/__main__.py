"""``python -m xmpcull``: the same as the ``xmpcull`` command."""

from xmpcull.cli.main import main

main()
