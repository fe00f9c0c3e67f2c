"""``python -m clrisk_book``: the book build command line (see ``clrisk_book.build``)."""

from clrisk_book.build import main

if __name__ == "__main__":
    raise SystemExit(main())
